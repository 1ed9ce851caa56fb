// The SQS backend's settings: `backend: {type: sqs, sqs: {...}}`
// (docs/configuration.md#backend, docs/sqs.md). The shape is module_config.h's.
#pragma once

#include <string>
#include <string_view>

#include "config/module_config.h"
#include "config/object_reader.h"

namespace wal::queue::sqs {

struct SqsBackendConfig {
  static constexpr std::string_view kType = "sqs";

  std::string queue;                           // required: name or URL ("wal-queue")
  std::string dlq_queue;                       // "wal-dlq-queue"; empty: the namespace's dlq.name
  std::string region = "us-east-1";
  std::string endpoint;                        // override, e.g. http://127.0.0.1:9324
  config::Milliseconds poll_interval{10000};   // "queue.poll-interval.secs"
  int max_messages_per_poll = 10;              // 1..10 per SQS call ("queue.max-messages-per-poll")
  config::Milliseconds max_delay_hop{900000};  // SQS DelaySeconds cap; tests may lower it

  Status Read(config::ObjectReader& reader, const config::DecodeContext& context);
  Status Validate(const std::string& path) const;
  void Write(config::Json& object) const;
  bool operator==(const SqsBackendConfig&) const = default;
};

}  // namespace wal::queue::sqs
