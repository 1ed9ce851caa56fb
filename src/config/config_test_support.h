// Helpers shared by the config tests: parsing through the built-in modules'
// catalog, so the config users write (backends, targets, set stores included)
// is tested whole, and one fully populated namespace to round-trip.
//
// The wrappers take the arguments of the functions they wrap minus the
// catalog; a test brings them in with `using namespace testing;` inside
// wal::config, where overload resolution picks them by their arity.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <string_view>

#include "common/file_system.h"
#include "common/status.h"
#include "config/config_files.h"
#include "config/module_catalog.h"
#include "config/namespace_config.h"
#include "modules/builtin_modules.h"
#include "queue/kafka/kafka_config.h"
#include "queue/local/local_config.h"
#include "queue/sqs/sqs_config.h"

namespace wal::config::testing {

inline const ModuleCatalog& Modules() { return modules::BuiltinModules().catalog(); }

inline Result<NamespaceConfig> ParseNamespace(std::string_view text, Format format, std::string_view source) {
  return config::ParseNamespace(text, format, source, Modules());
}
inline Result<NamespaceConfig> NamespaceFromJson(std::string_view text, std::string_view source) {
  return config::NamespaceFromJson(text, source, Modules());
}
inline DirectoryLoad LoadNamespaceDirectory(FileSystem* file_system, const std::string& directory) {
  return config::LoadNamespaceDirectory(file_system, directory, Modules());
}
inline Result<NamespaceConfig> LoadNamespaceFile(FileSystem* file_system, const std::string& path) {
  return config::LoadNamespaceFile(file_system, path, Modules());
}

// A target block ({"type": ..., settings}) decoded as a namespace file's would be.
inline TargetConfig Target(std::string_view json) {
  auto decoded = TargetFromJson(json, "target", Modules());
  EXPECT_TRUE(decoded.ok()) << json << ": " << decoded.status().message();
  return decoded.ok() ? decoded.value() : TargetConfig{};
}

inline NamespaceConfig FullyPopulated(std::string_view backend) {
  using std::chrono::milliseconds;
  NamespaceConfig config;
  config.name = "orders.v2_delayed-1";
  if (backend == "local") {
    auto& local = config.backend.settings.Mutable<queue::local::LocalBackendConfig>();
    local.segment_bytes = 8u << 20;
    local.preallocate = false;
  } else if (backend == "kafka") {
    auto& kafka = config.backend.settings.Mutable<queue::kafka::KafkaBackendConfig>();
    kafka.bootstrap_servers = "127.0.0.1:9092,127.0.0.2:9092";
    kafka.topics = {"orders", "orders-2"};
    kafka.dlq_topics = {"orders-dlq"};
    kafka.consumer_group = "custom-group";
    kafka.delay_tiers = {milliseconds(1000), milliseconds(10'000), milliseconds(60'000), milliseconds(3'600'000)};
    kafka.properties = {{"acks", "all"}, {"enable.idempotence", "true"}, {"linger.ms", "5"}};
  } else if (backend == "sqs") {
    auto& sqs = config.backend.settings.Mutable<queue::sqs::SqsBackendConfig>();
    sqs.queue = "orders-queue";
    sqs.dlq_queue = "orders-queue-dlq";
    sqs.region = "eu-west-1";
    sqs.endpoint = "http://127.0.0.1:9324";
    sqs.poll_interval = milliseconds(2500);
    sqs.max_messages_per_poll = 7;
    sqs.max_delay_hop = milliseconds(60'000);
  }
  config.dlq.name = "orders-dead";
  config.delay.default_delay = milliseconds(1500);
  config.delay.jitter = milliseconds(30'000);
  config.delay.jitter_model = JitterModel::kEqual;
  config.delay.max_delay = milliseconds(7 * 86'400'000LL);
  config.backoff.initial = milliseconds(250);
  config.backoff.multiplier = 1.7;
  config.backoff.max = milliseconds(90'000);
  config.backoff.jitter = JitterModel::kNone;
  config.max_retries = 42;
  config.target = Target(R"({"type":"http","url":"https://example.com/apply",)"
                         R"("headers":{"X-Token":"true","X-Count":"8080","X-Empty":""},"timeout":"5s","method":"put"})");
  config.flags.wal_enabled = false;
  config.flags.dlq_enabled = false;
  config.consumer.concurrency = 16;
  config.consumer.poll_interval = milliseconds(50);
  config.consumer.max_entries_per_poll = 500;
  config.max_payload_bytes = 1 << 20;
  config.idempotency_window_seconds = 7200;
  return config;
}

}  // namespace wal::config::testing
