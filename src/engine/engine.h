// The engine: wal's policy layer. It owns every namespace's runtime (policy,
// queue backend, delivery workers) and implements the write path, delivery and
// the admin operations. It knows nothing about gRPC, HTTP, files or brokers: the
// server calls it, and it calls queue::Backend and target::Target.
//
// Threading: every public method is thread-safe. WriteToLog never blocks on I/O;
// its callback runs on a backend thread, an executor thread (wal_enabled=false),
// or inline when the request is refused.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "common/file_system.h"
#include "common/status.h"
#include "common/time.h"
#include "config/config.h"
#include "config/module_catalog.h"
#include "control/namespace_store.h"
#include "common/blocking_executor.h"
#include "engine/namespace_runtime.h"
#include "wal/v1/admin.pb.h"
#include "wal/v1/record.pb.h"
#include "wal/v1/wal.pb.h"

namespace wal::engine {

enum class Role { kProducer, kConsumer, kBoth };

Result<Role> ParseRole(std::string_view text);
std::string_view RoleName(Role role);

// What the engine builds namespaces from: the modules of the build
// (modules::BuiltinModules() provides all four) or, in tests, fakes. Each
// outlives the engine.
struct EngineModules {
  const config::ModuleCatalog* catalog = nullptr;      // decodes namespace files and per-request target overrides
  const queue::BackendFactory* backends = nullptr;
  const target::TargetFactory* targets = nullptr;
  const sets::SetStoreFactory* set_stores = nullptr;
};

struct EngineOptions {
  FileSystem* file_system = nullptr;  // outlives the engine
  std::string data_dir;               // namespaces' data lives in <data_dir>/namespaces/<name>
  std::string namespaces_dir;         // namespace config files, when namespace_store is null
  Role role = Role::kBoth;            // producers accept writes; consumers deliver
  std::string region;                 // this instance's region; stamped on records, used by replication
  // Where namespace configs are loaded from at start and saved to by the admin
  // API (outlives the engine). Null: a directory store over namespaces_dir.
  control::NamespaceStore* namespace_store = nullptr;
  EngineModules modules{};            // all four required
  // Where accepted times, due times, retry times and idempotency windows are
  // read from (outlives the engine). Null: the system clock.
  const Clock* clock = nullptr;
};

// What a write came to. A non-OK `rejection` means the request itself was refused
// (bad input, unknown namespace) and nothing was written; the server maps it to a
// gRPC status / HTTP 4xx. Otherwise `response.durable` carries the outcome.
struct WriteOutcome {
  Status rejection;
  v1::WriteToLogResponse response;
};

using WriteCallback = std::function<void(WriteOutcome)>;

// The answer to a write whose entry the backend answered with `outcome`. A
// kFalse with INVALID_ARGUMENT means the entry can never be stored as it is
// (too large for the backend): that is a rejection, since FALSE would tell the
// client a retry is safe and could succeed. Anything else is the backend's
// durability, with its id and message.
WriteOutcome AnswerFromAppend(const queue::AppendOutcome& outcome);

// One namespace as one call sees it. The server looks it up once per call and
// hands it along, so that auth, limits, the write and the metric label agree
// on one namespace and one policy version, even while an admin apply replaces
// it, and so that a write costs one lookup instead of four.
struct NamespaceView {
  std::shared_ptr<NamespaceRuntime> runtime;  // null: not served here (unknown, failed to open, shut down)
  NamespaceRuntime::Policy policy;            // the runtime's policy when looked up; empty when not served
  bool served() const { return runtime != nullptr; }
  // The namespace's config; null when not served.
  const config::NamespaceConfig* config() const { return policy.config.get(); }
};

class Engine {
 public:
  // Loads every namespace in the store, opens its backend and, for consumer
  // roles, starts its delivery workers. A bad entry or a namespace whose backend
  // fails to open is logged and reported by NamespaceStatuses(); it never stops
  // the others. Fails only when the store cannot be read at all.
  static Result<std::unique_ptr<Engine>> Create(const EngineOptions& options);
  ~Engine();

  // Validates, stamps (accepted time, due time) and appends the request, or with
  // wal_enabled=false applies it to the target at once. `done` runs exactly once.
  // The request is not referenced after this returns.
  void WriteToLog(const v1::WriteToLogRequest& request, WriteCallback done);
  // The same with the namespace already looked up (View(request.namespace_())).
  // A view of another namespace than the request's is not trusted: the
  // request's namespace is looked up again.
  void WriteToLog(const NamespaceView& view, const v1::WriteToLogRequest& request, WriteCallback done);

  // `name` as a call sees it from now on (one lookup; see NamespaceView).
  NamespaceView View(const std::string& name) const;

  std::vector<std::string> ListNamespaces() const;
  Result<config::NamespaceConfig> GetNamespace(const std::string& name) const;
  // Validates, persists through the config saver, then makes it live. On any
  // failure nothing changes.
  Status ApplyNamespace(const config::NamespaceConfig& config);
  // What ApplyNamespace(config) would do, after the checks it makes before it
  // opens anything (defaults, values, every module's settings); changes and
  // saves nothing. `filled` gets the config with its defaults filled in.
  enum class ApplyChange { kCreate, kPolicy, kReopen, kUnchanged };
  Result<ApplyChange> CheckApply(const config::NamespaceConfig& config, config::NamespaceConfig* filled) const;
  // Stops serving the namespace and removes it from the store; `purge_data`
  // also removes its log.
  Status DeleteNamespace(const std::string& name, bool purge_data);
  // When another instance changed the shared store (config_watcher.h), the
  // change is made live here without writing it back.
  // Like ApplyNamespace but does not save: the config came from the store.
  Status ReloadNamespace(const config::NamespaceConfig& config);
  // Stops serving a namespace whose config left the store; keeps its data.
  Status UnloadNamespace(const std::string& name);

  // Per-namespace status; an empty name means all (including ones that failed to
  // open, with their error).
  Result<std::vector<v1::NamespaceStatus>> NamespaceStatuses(const std::string& name) const;

  // Where a record stands (admin reads); the values of v1::LogRecordView::State.
  enum class RecordState { kUnknown, kDelayed, kDue, kInFlight, kDone, kDead, kDelivered, kSuperseded };
  struct RecordAt {
    uint64_t id;
    uint64_t entry_id;  // the write's id, the same in each of its records (record.entry_id, or `id`)
    RecordState state = RecordState::kUnknown;
    v1::LogRecord record;
    // The stored bytes when they are not a valid LogRecord (`record` is then
    // empty): a corrupt entry, or a message written by a foreign producer.
    std::string unparsed;
  };
  // Pages of stored entries (admin reads): at most `limit` entries, and
  // stopping before the entry that would take the page over kAdminPageBytes of
  // stored records (the first entry is always included). Continue from the
  // last id + 1; an empty page is the end.
  static constexpr uint64_t kAdminPageBytes = 1ull << 20;
  Result<std::vector<RecordAt>> ReadLog(const std::string& name, uint64_t from_id, size_t limit) const;
  Result<std::vector<RecordAt>> ListDeadLetters(const std::string& name, uint64_t from_id, size_t limit) const;
  // Puts dead letters back (all when `ids` is empty) with attempts and errors
  // reset, due now. Returns how many.
  //
  // With `to_namespace` (another served namespace), they move there instead:
  // each becomes a new entry of that namespace (its own id there, no
  // idempotency key), and leaves this DLQ only once the destination answered
  // it durable. Dead letters that cannot move (a mutation set, whose mutations
  // this namespace's storage keeps; bytes that are not a record) refuse the
  // whole call before anything moves. If an append fails part way, what moved
  // stays moved and the error says how many; the rest stay. A crash between
  // the append and the removal leaves an entry in both places (at least once).
  Result<uint64_t> RedriveDeadLetters(const std::string& name, const std::vector<uint64_t>& ids,
                                      const std::string& to_namespace = "");
  Result<uint64_t> PurgeDeadLetters(const std::string& name, const std::vector<uint64_t>& ids);

  // Delivery counters of a namespace (tests, metrics).
  Result<std::shared_ptr<NamespaceRuntime>> Runtime(const std::string& name) const;

  // The catalog namespace configs are decoded with (the admin API's path).
  const config::ModuleCatalog& module_catalog() const { return *options_.modules.catalog; }

  // Stops accepting writes, waits for in-flight appends, stops delivery, closes
  // every backend. Idempotent.
  void Shutdown();

 private:
  explicit Engine(EngineOptions options);
  // The public apply/delete and the store-driven reload/unload share these;
  // they differ only in whether the store is written.
  Status ApplyNamespace(const config::NamespaceConfig& config, bool persist);
  Status DeleteNamespace(const std::string& name, bool purge_data, bool remove_file);

  Result<std::shared_ptr<NamespaceRuntime>> OpenRuntime(const config::NamespaceConfig& config) const;
  void RebuildIdempotencyKeys(NamespaceRuntime& runtime) const;
  std::shared_ptr<NamespaceRuntime> Find(const std::string& name) const;
  std::string NamespaceDataDir(const std::string& name) const;
  bool delivers() const { return options_.role != Role::kProducer; }
  bool accepts_writes() const { return options_.role != Role::kConsumer; }
  void ApplySynchronously(std::shared_ptr<NamespaceRuntime> runtime, v1::LogRecord record, WriteCallback done);
  // Mutation sets (engine_sets.cc, docs/mutation-sets.md) travel apart from
  // the queue: the set is stored first, only its small marker is enqueued.
  // Opens the namespace's set storage and recovers its pending sets.
  Status OpenMutationSets(NamespaceRuntime& runtime, const config::NamespaceConfig& config) const;
  // Persists the set, then enqueues its marker; answers from the marker.
  void WriteMutationSet(std::shared_ptr<NamespaceRuntime> runtime, v1::LogRecord record, queue::TimePoint due,
                        WriteCallback done);
  // The set markers among the dead letters `ids` (all when empty).
  Result<uint64_t> MoveDeadLetters(const std::shared_ptr<NamespaceRuntime>& source, const std::vector<uint64_t>& ids,
                                   const std::string& to_namespace);
  Result<std::vector<v1::LogRecord>> DeadSetMarkers(NamespaceRuntime& runtime, const std::vector<uint64_t>& ids) const;

  EngineOptions options_;
  std::unique_ptr<control::NamespaceStore> owned_store_;  // when options_.namespace_store was null
  control::NamespaceStore* store_ = nullptr;
  mutable std::shared_mutex mutex_;
  std::map<std::string, std::shared_ptr<NamespaceRuntime>> namespaces_;
  std::map<std::string, Status> failed_namespaces_;  // name -> why it is not served
  std::mutex admin_mutex_;  // serialises apply/delete so the store and the map stay in step
  bool shut_down_ = false;
  // Runs target applies for namespaces with wal_enabled=false, off the RPC threads.
  BlockingExecutor bypass_executor_{8};
};

}  // namespace wal::engine
