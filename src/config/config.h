// The namespace and server configuration schema, and its YAML/JSON loader and
// saver. One schema serves both formats: YAML is converted to the same JSON tree
// before decoding, and saving emits either format from the same tree.
//
// Failure: loaders return a Status whose message names the file (when there is
// one), the field path (e.g. "backoff.multiplier") and the reason. Nothing throws
// across these functions. Unknown fields are errors, so typos are caught.
//
// Threading: these are pure functions over values; call them from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

#include "common/file_system.h"
#include "common/status.h"

namespace wal::config {

using Milliseconds = std::chrono::milliseconds;

enum class BackendType { kLocal, kKafka, kSqs };
enum class TargetType { kSqlite, kMemcached, kRedis, kPostgres, kKafka, kHttp, kReplication, kNone };
enum class JitterModel { kNone, kFull, kEqual, kPlusMinus };
enum class Format { kYaml, kJson };

struct LocalBackendConfig {
  uint64_t segment_bytes = 64ull << 20;
  bool preallocate = true;
  bool operator==(const LocalBackendConfig&) const = default;
};

struct KafkaBackendConfig {
  std::string bootstrap_servers;               // required: "host:port[,host:port]"
  std::vector<std::string> topics;             // required, >= 1 ("wal-kafka-topics")
  std::vector<std::string> dlq_topics;         // "wal-kafka-dlq-topics"
  std::string consumer_group;                  // default "wal-<namespace>"
  std::vector<Milliseconds> delay_tiers;       // fixed-delay retry/delay topics
  std::map<std::string, std::string> properties;  // passed to librdkafka verbatim
  bool operator==(const KafkaBackendConfig&) const = default;
};

struct SqsBackendConfig {
  std::string queue;                           // required: name or URL ("wal-queue")
  std::string dlq_queue;                       // "wal-dlq-queue"
  std::string region = "us-east-1";
  std::string endpoint;                        // override, e.g. http://127.0.0.1:9324
  Milliseconds poll_interval{10000};           // "queue.poll-interval.secs"
  int max_messages_per_poll = 10;              // 1..10 per SQS call ("queue.max-messages-per-poll")
  Milliseconds max_delay_hop{900000};          // SQS DelaySeconds cap; tests may lower it
  bool operator==(const SqsBackendConfig&) const = default;
};

struct BackendConfig {
  BackendType type = BackendType::kLocal;
  LocalBackendConfig local;
  KafkaBackendConfig kafka;
  SqsBackendConfig sqs;
  bool operator==(const BackendConfig&) const = default;
};

struct BackoffConfig {
  Milliseconds initial{1000};
  double multiplier = 2.0;                     // >= 1.0
  Milliseconds max{60000};                     // >= initial
  JitterModel jitter = JitterModel::kFull;
  bool operator==(const BackoffConfig&) const = default;
};

struct DelayConfig {
  Milliseconds default_delay{0};               // used when a request has no delay
  Milliseconds jitter{0};                      // added per the jitter model to spread bursts
  JitterModel jitter_model = JitterModel::kPlusMinus;
  Milliseconds max_delay{0};                   // 0 = unlimited
  bool operator==(const DelayConfig&) const = default;
};

struct DlqConfig {
  std::string name;                            // default "<namespace>-dlq"
  bool operator==(const DlqConfig&) const = default;
};

struct ConsumerConfig {
  int concurrency = 1;                         // 1..256 workers
  Milliseconds poll_interval{100};
  int max_entries_per_poll = 100;              // 1..10000
  bool operator==(const ConsumerConfig&) const = default;
};

struct FlagsConfig {
  bool wal_enabled = true;                     // false: apply to the target synchronously
  bool dlq_enabled = true;                     // false: exhausted entries keep retrying at max backoff
  bool operator==(const FlagsConfig&) const = default;
};

// A target is a type plus free-form settings that the target's own factory
// validates (the config layer checks only what is common: type and required keys).
struct TargetConfig {
  TargetType type = TargetType::kNone;
  std::string settings_json = "{}";            // the target's settings object, as JSON text
  bool operator==(const TargetConfig&) const = default;
};

struct NamespaceConfig {
  std::string name;                            // [a-z0-9][a-z0-9_.-]{0,127}
  BackendConfig backend;
  DlqConfig dlq;
  DelayConfig delay;
  BackoffConfig backoff;
  int max_retries = 5;                         // 0..1000
  TargetConfig target;
  FlagsConfig flags;
  ConsumerConfig consumer;
  uint64_t max_payload_bytes = 4ull << 20;     // 1..64 MiB
  uint64_t idempotency_window_seconds = 3600;
  bool operator==(const NamespaceConfig&) const = default;
};

struct ServerConfig {
  std::string data_dir = "./data";
  std::string namespaces_dir = "./config/namespaces";
  std::string grpc_listen = "127.0.0.1:7400";
  std::string http_listen = "127.0.0.1:7401";
  std::string role = "both";                   // producer | consumer | both
  uint64_t max_request_bytes = 8ull << 20;
  std::string log_level = "info";
  bool operator==(const ServerConfig&) const = default;
};

std::string_view BackendTypeName(BackendType type);
std::string_view TargetTypeName(TargetType type);
std::string_view JitterModelName(JitterModel model);

// Parses and validates one namespace from `text`. `source` (usually the file
// name) prefixes every error message.
Result<NamespaceConfig> ParseNamespace(std::string_view text, Format format, std::string_view source);
// Serialises a namespace; ParseNamespace(SaveNamespace(c, f), f, ...) == c.
std::string SaveNamespace(const NamespaceConfig& config, Format format);

// Validates a namespace already in memory (the admin API path). Messages have
// the form "<field.path>: <reason>".
Status ValidateNamespace(const NamespaceConfig& config);

// Fills the defaults that depend on the name: dlq.name = "<name>-dlq" and, for
// the kafka backend, consumer_group = "wal-<name>" (only where they are empty).
// The parsers apply this already; call it for configs built in code.
void FillNamespaceDefaults(NamespaceConfig* config);

// Parses and validates one namespace from JSON text in the schema of
// docs/configuration.md (what NamespaceToJson produces; the admin API path).
Result<NamespaceConfig> NamespaceFromJson(std::string_view json_text, std::string_view source);

Result<ServerConfig> ParseServerConfig(std::string_view text, Format format, std::string_view source);
Status ValidateServerConfig(const ServerConfig& config);
std::string SaveServerConfig(const ServerConfig& config, Format format);

// Format from a file name: .yaml/.yml -> YAML, .json -> JSON, else error.
Result<Format> FormatFromPath(std::string_view path);

Result<NamespaceConfig> LoadNamespaceFile(FileSystem* file_system, const std::string& path);
Result<ServerConfig> LoadServerConfigFile(FileSystem* file_system, const std::string& path);

// Everything found in a directory of namespace files. A bad file lands in
// `errors` and does not stop the others from loading.
struct DirectoryLoad {
  std::vector<NamespaceConfig> namespaces;
  std::vector<Status> errors;
};
DirectoryLoad LoadNamespaceDirectory(FileSystem* file_system, const std::string& directory);

// Writes `<directory>/<name>.yaml` atomically (creating the directory if needed)
// after validating the config, and removes a stale <name>.json or <name>.yml
// beside it so the directory holds exactly one file per namespace.
Status SaveNamespaceFile(FileSystem* file_system, const std::string& directory, const NamespaceConfig& config);
// Removes whichever of <name>.yaml/.yml/.json exist; NotFound if none does.
Status DeleteNamespaceFile(FileSystem* file_system, const std::string& directory, const std::string& name);

// Converts between the schema and protobuf-JSON-friendly JSON text (the admin API
// carries namespace configs as this JSON).
std::string NamespaceToJson(const NamespaceConfig& config);

}  // namespace wal::config
