// The namespace config: what every namespace has (name, delay, backoff,
// retries, DLQ, flags, consumer, limits, access), plus the settings of the
// modules it uses (its backend, its targets, its mutation-set store), which
// each module declares in its own folder (module_config.h) and the catalog
// decodes (module_catalog.h).
//
// Pipeline: text -> JSON tree (yaml_json.h) -> decode (types, unknown fields,
// aliases, defaults; module sections through the catalog) -> validate (ranges
// and cross-field rules, module sections by the module) -> struct. Saving
// writes the same tree back, so YAML and JSON share one schema
// (docs/configuration.md).
//
// Failure: the parsers return a Status whose message names the source (when
// there is one), the field path (e.g. "backoff.multiplier") and the reason.
// Unknown fields are errors, so typos are caught. Nothing throws.
//
// Threading: pure functions over values; call them from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "config/module_config.h"
#include "config/yaml_json.h"

namespace wal::config {

class ModuleCatalog;

using Milliseconds = std::chrono::milliseconds;

enum class JitterModel { kNone, kFull, kEqual, kPlusMinus };

// The namespace's queue: the settings of its backend module
// (queue/<type>/<type>_config.h).
struct BackendConfig {
  static constexpr std::string_view kDefaultType = "local";
  // Unset means the local backend with its defaults; the parsers always set it.
  ModuleConfig settings;

  std::string_view type() const { return settings.empty() ? kDefaultType : settings.type(); }
  // Unset equals the local backend's defaults written out.
  bool operator==(const BackendConfig& other) const;
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
  bool delivery_paused = false;                // true: writes are kept, nothing is delivered until resumed
  bool operator==(const FlagsConfig&) const = default;
};

// Where entries are applied: the settings of a target module
// (target/<type>/<type>_config.h), written flat beside `type` in the config.
struct TargetConfig {
  static constexpr std::string_view kNoTarget = "none";
  // Unset means no target (type "none").
  ModuleConfig settings;

  std::string_view type() const { return settings.empty() ? kNoTarget : settings.type(); }
  bool is_none() const { return settings.empty(); }
  bool operator==(const TargetConfig&) const = default;
};

// Where mutation sets live between acceptance and application
// (docs/mutation-sets.md): the producer stores the whole set here, then
// enqueues a small completion marker; the consumer rebuilds the set from here.
// The limits are the engine's; `settings` are the store module's own
// (sets/<type>/), written flat beside them.
struct DurableStorageConfig {
  static constexpr std::string_view kDefaultType = "local";  // a log beside the namespace's data
  // Unset means the local store.
  ModuleConfig settings;
  uint64_t chunk_bytes = 1ull << 20;           // 4 KiB..16 MiB per stored chunk
  uint64_t max_set_bytes = 64ull << 20;        // 1 KiB..256 MiB per set (values included)
  int max_mutations = 10000;                   // 1..100000 per set

  std::string_view type() const { return settings.empty() ? kDefaultType : settings.type(); }
  // Unset settings equal the local store's defaults written out.
  bool operator==(const DurableStorageConfig& other) const;
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

std::string_view JitterModelName(JitterModel model);

// [a-z0-9][a-z0-9_.-]{0,127}: safe as a file name and a metric label.
bool IsNamespaceName(std::string_view name);

// Parses and validates one namespace from `text`, decoding module sections
// through `modules`. `source` (usually the file name) prefixes every error.
Result<NamespaceConfig> ParseNamespace(std::string_view text, Format format, std::string_view source,
                                       const ModuleCatalog& modules);
// The same for JSON text in the schema of docs/configuration.md (what
// NamespaceToJson produces; the admin API path).
Result<NamespaceConfig> NamespaceFromJson(std::string_view json_text, std::string_view source,
                                          const ModuleCatalog& modules);
// Parses and validates one target block ({"type": ..., settings...}) as the
// namespace parser would at `path` ("target"): a per-request target override.
Result<TargetConfig> TargetFromJson(std::string_view json_text, std::string_view path, const ModuleCatalog& modules);

// Serialises a namespace, every field explicit, in schema order;
// ParseNamespace(SaveNamespace(c, f), f, ...) == c.
std::string SaveNamespace(const NamespaceConfig& config, Format format);
// SaveNamespace as JSON: the form the admin API carries.
std::string NamespaceToJson(const NamespaceConfig& config);

// Validates a namespace already in memory (the admin API path, configs built
// in code). Messages have the form "<field.path>: <reason>".
Status ValidateNamespace(const NamespaceConfig& config);

// Fills the defaults that depend on the name: dlq.name = "<name>-dlq" when
// empty. The parsers apply this already; call it for configs built in code.
void FillNamespaceDefaults(NamespaceConfig* config);

}  // namespace wal::config
