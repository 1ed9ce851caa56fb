#include "queue/kafka/kafka_backend.h"
#include "queue/local/local_backend.h"
#include "queue/queue.h"
#include "queue/sqs/sqs_backend.h"

namespace wal::queue {

Result<std::unique_ptr<Backend>> OpenBackend(const BackendContext& context, const config::NamespaceConfig& config) {
  switch (config.backend.type) {
    case config::BackendType::kLocal:
      return local::OpenLocalBackend(context, config);
    case config::BackendType::kKafka:
      return kafka::OpenKafkaBackend(context, config);
    case config::BackendType::kSqs:
      return sqs::OpenSqsBackend(context, config);
  }
  return Unavailable("namespace " + config.name + ": backend '" +
                     std::string(config::BackendTypeName(config.backend.type)) +
                     "' is not available in this build; this build serves the 'local' backend");
}

}  // namespace wal::queue
