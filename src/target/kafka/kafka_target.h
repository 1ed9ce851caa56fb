// A Kafka target (the reference's "queues" target): each mutation or opaque
// payload is produced to one topic, with acks=all and the idempotent producer.
// ApplyMutation returns ok only once the delivery report says every in-sync
// replica has the record.
//
// Settings (kafka_config.h):
//   bootstrap_servers  required, "host:port[,host:port]"
//   topic              required
//   timeout            delivery timeout (librdkafka message.timeout.ms), default 10s;
//                      the call blocks at most this long (+1 s)
//   encoding           "mutation" (default): the value is the serialized
//                      wal.v1.Mutation (protobuf), for PUT and DELETE alike;
//                      "value": a PUT's value as is and a DELETE as a tombstone
//                      (null value), for log-compacted topics
//   properties         map of librdkafka producer settings (acks must stay all,
//                      enable.idempotence true; bootstrap.servers via the setting)
//   permanent_errors   librdkafka error names (rd_kafka_err2name, e.g.
//                      MSG_SIZE_TOO_LARGE, _UNKNOWN_TOPIC) that fail permanently;
//                      every other failure is retryable. Default: see
//                      KafkaTargetConfig::DefaultPermanentErrors().
//   max_message_bytes  largest key+value accepted at write time, default 1000000
//                      (the broker's default message.max.bytes)
//
// Key: the mutation's cache key ([table:][partition_key:]key), so one key keeps
// its order in one partition; opaque payloads use the idempotency key (or none).
// Headers: wal-namespace, wal-entry-id, wal-attempt, wal-op, and when set
// wal-idempotency-key and wal-origin-region.
#pragma once

#include <chrono>
#include <memory>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <atomic>
#include <map>

#include "target/kafka/kafka_config.h"
#include "target/target.h"

struct rd_kafka_s;

namespace wal::target {

class KafkaTarget final : public Target {
 public:
  using Encoding = KafkaTargetConfig::Encoding;
  using Options = KafkaTargetConfig;

  // The settings must have passed KafkaTargetConfig::Validate (decoding does
  // that); nothing here checks them again. Starts the producer, which
  // connects lazily.
  static Result<std::unique_ptr<KafkaTarget>> Create(Options options);
  // Decodes and validates settings JSON (see the file comment), then Create.
  static Result<std::unique_ptr<KafkaTarget>> FromSettings(std::string_view settings_json);
  // The module: type `kafka`, KafkaTargetConfig, Create. Registered in src/modules/.
  static TargetModule Module();

  ~KafkaTarget() override;

  ApplyResult ApplyMutation(const v1::Mutation& mutation, const DeliveryContext& context) override;
  ApplyResult DeliverOpaque(std::string_view payload, const DeliveryContext& context) override;
  Status ValidatePayload(const v1::Payload& payload) const override;
  Status Probe() override;

  // How a librdkafka error (by code) is classified; exposed for tests.
  ApplyOutcome Classify(int error_code) const;

 private:
  explicit KafkaTarget(Options options);
  Status StartProducer();
  // Produces and waits for the delivery report. `value == nullptr` is a tombstone.
  ApplyResult Produce(std::string_view key, const std::string* value, std::string_view op,
                      const DeliveryContext& context);
  void PollLoop();

  const Options options_;
  const std::set<std::string> permanent_errors_;  // options_.permanent_errors, for lookup
  std::shared_mutex producer_mutex_;  // exclusive only to replace a producer after a fatal error
  rd_kafka_s* producer_ = nullptr;
  std::atomic<bool> fatal_{false};
  std::atomic<bool> stop_{false};
  std::thread poller_;
};

}  // namespace wal::target
