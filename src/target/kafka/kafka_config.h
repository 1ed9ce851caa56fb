// The Kafka target's settings: `target: {type: kafka, bootstrap_servers,
// topic, ...}` (docs/configuration.md#target, docs/kafka.md#the-kafka-target).
// The shape is module_config.h's.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "config/module_config.h"
#include "config/object_reader.h"

namespace wal::target {

struct KafkaTargetConfig {
  static constexpr std::string_view kType = "kafka";

  // "mutation": the value is the serialized wal.v1.Mutation; "value": a PUT's
  // value as is and a DELETE as a tombstone (log-compacted topics).
  enum class Encoding { kMutation, kValue };

  // Failures the same record would meet again (librdkafka error names).
  static std::vector<std::string> DefaultPermanentErrors();

  std::string bootstrap_servers;               // required, "host:port[,host:port]"
  std::string topic;                           // required
  std::chrono::milliseconds timeout{10000};    // delivery timeout (message.timeout.ms)
  Encoding encoding = Encoding::kMutation;
  std::map<std::string, std::string> properties;  // librdkafka producer settings
  std::vector<std::string> permanent_errors = DefaultPermanentErrors();  // [] = nothing is permanent
  uint64_t max_message_bytes = 1000000;        // largest key+value accepted at write time

  Status Read(config::ObjectReader& reader, const config::DecodeContext& context);
  Status Validate(const std::string& path) const;
  void Write(config::Json& object) const;
  bool operator==(const KafkaTargetConfig&) const = default;
};

}  // namespace wal::target
