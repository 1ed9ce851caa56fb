// The Kafka backend: a queue::Backend over Apache Kafka topics (librdkafka).
//
// Durability: Append produces with acks=all and the idempotent producer; the
// callback reports TRUE only on a successful delivery report, UNKNOWN when the
// delivery timed out (message.timeout.ms) or the broker may have stored it, and
// FALSE when the producer or broker refused it. Ids are Kafka offsets, which are
// per partition (Delivery.receipt carries topic/partition/offset). Delays are
// served by tiered delay topics "<topic>.delay.<tier>". See docs/kafka.md.
#pragma once

#include <memory>

#include "queue/queue.h"

namespace wal::queue::kafka {

// Validates the namespace's kafka section and creates the producer. Topics are
// created when missing (main, delay tiers, DLQ); an unreachable broker is not a
// failure here: creation is retried in the background and the consumer joins
// its group on the first Poll (so producer-only processes never take partitions).
Result<std::unique_ptr<Backend>> OpenKafkaBackend(const BackendContext& context, const config::NamespaceConfig& config);

// The module: settings `backend.kafka` (kafka_config.h) and OpenKafkaBackend.
// Registered in src/modules/.
BackendModule Module();

}  // namespace wal::queue::kafka
