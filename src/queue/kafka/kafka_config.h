// The Kafka backend's settings: `backend: {type: kafka, kafka: {...}}`
// (docs/configuration.md#backend, docs/kafka.md). The shape is
// module_config.h's; `properties` are checked further when the backend opens
// (ResolveKafkaSettings), where they meet librdkafka.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "config/module_config.h"
#include "config/object_reader.h"

namespace wal::queue::kafka {

struct KafkaBackendConfig {
  static constexpr std::string_view kType = "kafka";

  std::string bootstrap_servers;               // required: "host:port[,host:port]"
  std::vector<std::string> topics;             // required, >= 1 ("wal-kafka-topics")
  std::vector<std::string> dlq_topics;         // "wal-kafka-dlq-topics"
  std::string consumer_group;                  // empty: DefaultConsumerGroup(namespace)
  std::vector<config::Milliseconds> delay_tiers;  // fixed-delay retry/delay topics
  std::map<std::string, std::string> properties;  // passed to librdkafka verbatim

  // "wal-<namespace>": the group when none is configured. Read fills it in, so
  // saved configs show it.
  static std::string DefaultConsumerGroup(std::string_view namespace_name);

  Status Read(config::ObjectReader& reader, const config::DecodeContext& context);
  Status Validate(const std::string& path) const;
  void Write(config::Json& object) const;
  bool operator==(const KafkaBackendConfig&) const = default;
};

}  // namespace wal::queue::kafka
