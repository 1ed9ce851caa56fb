// The Kafka backend as a module: its settings and how it opens.
#include "queue/kafka/kafka_backend.h"
#include "queue/kafka/kafka_config.h"

namespace wal::queue::kafka {

BackendModule Module() { return BackendModuleOf<KafkaBackendConfig>(OpenKafkaBackend); }

}  // namespace wal::queue::kafka
