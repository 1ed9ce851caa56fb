// The SQS backend as a module: its settings and how it opens.
#include "queue/sqs/sqs_backend.h"
#include "queue/sqs/sqs_config.h"

namespace wal::queue::sqs {

BackendModule Module() { return BackendModuleOf<SqsBackendConfig>(OpenSqsBackend); }

}  // namespace wal::queue::sqs
