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

// Where mutation sets live between acceptance and application
// (docs/mutation-sets.md): the producer stores the whole set here, then
// enqueues a small completion marker; the consumer rebuilds the set from here.
enum class DurableStorageType { kLocal, kPostgres };

struct DurableStorageConfig {
  DurableStorageType type = DurableStorageType::kLocal;  // local: a log beside the namespace's data
  std::string dsn;                             // postgres: libpq connection string (required)
  std::string table = "wal_sets";              // postgres: chunk table; progress in <table>_progress
  uint64_t chunk_bytes = 1ull << 20;           // 4 KiB..16 MiB per stored chunk
  uint64_t max_set_bytes = 64ull << 20;        // 1 KiB..256 MiB per set (values included)
  int max_mutations = 10000;                   // 1..100000 per set
  bool operator==(const DurableStorageConfig&) const = default;
};

// Who may use a namespace (docs/operations.md#authentication). Tokens are
// stored only as the SHA-256 of the secret, never the secret itself.
struct AccessToken {
  std::string name;                            // a label for logs and audits
  std::string sha256;                          // 64 lowercase hex digits: SHA-256 of the bearer token
  std::vector<std::string> scopes;             // write | read | admin (admin implies read)
  bool operator==(const AccessToken&) const = default;
};

struct AccessConfig {
  std::vector<AccessToken> tokens;             // empty: the namespace adds no tokens of its own
  bool operator==(const AccessConfig&) const = default;
};

// Per-namespace admission limits (docs/operations.md#limits). 0 = unlimited.
struct LimitsConfig {
  double writes_per_second = 0;                // token-bucket refill rate
  uint64_t burst = 0;                          // bucket size; 0 = max(1, writes_per_second)
  uint64_t max_backlog = 0;                    // refuse writes while pending entries exceed this
  bool operator==(const LimitsConfig&) const = default;
};

struct NamespaceConfig {
  std::string name;                            // [a-z0-9][a-z0-9_.-]{0,127}
  BackendConfig backend;
  DlqConfig dlq;
  DelayConfig delay;
  BackoffConfig backoff;
  int max_retries = 5;                         // 0..1000
  TargetConfig target;
  // Named extra targets a mutation set's mutations may pick (Mutation.target);
  // names match [a-z0-9][a-z0-9_-]{0,63}.
  std::map<std::string, TargetConfig> targets;
  DurableStorageConfig durable_storage;
  FlagsConfig flags;
  ConsumerConfig consumer;
  uint64_t max_payload_bytes = 4ull << 20;     // 1..64 MiB (mutation sets: durable_storage.max_set_bytes)
  uint64_t idempotency_window_seconds = 3600;
  AccessConfig access;
  LimitsConfig limits;
  bool operator==(const NamespaceConfig&) const = default;
};

// TLS for both the gRPC and the HTTP endpoint. Empty cert_file: plaintext.
struct TlsConfig {
  std::string cert_file;                       // PEM certificate chain
  std::string key_file;                        // PEM private key
  std::string client_ca_file;                  // set: clients must present a certificate it signed (mTLS)
  bool operator==(const TlsConfig&) const = default;
};

struct AuthConfig {
  // A YAML/JSON file {tokens: [{name, sha256, scopes, namespaces: [name|"*"]}]}.
  // Set: every API call needs a bearer token. Unset: only namespaces with
  // access.tokens need one.
  std::string tokens_file;
  bool operator==(const AuthConfig&) const = default;
};

// Where namespace configs live and how changes made by other instances are seen.
struct ConfigStoreConfig {
  std::string type = "directory";              // directory (namespaces_dir) | postgres (shared by instances)
  Milliseconds poll_interval{1000};            // how often the store is checked for changes; 0 = never
  // postgres: a libpq connection string or URI. Keep the password out of it
  // (PGPASSWORD or ~/.pgpass); it is redacted from every message regardless.
  std::string dsn;
  std::string table = "wal_namespaces";        // postgres: the table (created if missing); [A-Za-z_][A-Za-z0-9_]{0,47}
  bool operator==(const ConfigStoreConfig&) const = default;
};

struct ServerConfig {
  std::string data_dir = "./data";
  std::string namespaces_dir = "./config/namespaces";
  std::string grpc_listen = "127.0.0.1:7400";
  std::string http_listen = "127.0.0.1:7401";
  std::string role = "both";                   // producer | consumer | both
  uint64_t max_request_bytes = 72ull << 20;   // room for a 64 MiB mutation set
  std::string log_level = "info";
  // The region this instance serves (cross-region replication: consumers of a
  // replication target apply to this region's endpoints). Empty: none.
  std::string region;
  std::string log_format = "text";             // text | json (one JSON object per line)
  std::string shard_map;                       // shard map file (docs/sharding.md); empty: no sharding
  std::string shard;                           // this instance's shard in the map
  TlsConfig tls;
  AuthConfig auth;
  ConfigStoreConfig config_store;
  bool operator==(const ServerConfig&) const = default;
};

std::string_view BackendTypeName(BackendType type);
std::string_view TargetTypeName(TargetType type);
std::string_view JitterModelName(JitterModel model);
std::string_view DurableStorageTypeName(DurableStorageType type);

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
