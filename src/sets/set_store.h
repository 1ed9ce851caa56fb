// Durable storage for mutation sets (docs/mutation-sets.md).
//
// The producer persists a whole set here before it enqueues the set's small
// completion marker; a consumer rebuilds the set from here, applies it in
// sequence order and records its progress here, so a retry resumes where the
// last attempt stopped.
//
// A set is stored as the serialized MutationSet (values included, mutations in
// sequence order) cut into chunks of at most `chunk_bytes`; Load concatenates
// the chunks again. Each set has a state and an `applied_through` count.
//
// Implementations, each a module in its own folder: the local log
// (local/LocalSetStore) and a PostgreSQL table pair (postgres/PostgresSetStore).
// Adding one is a folder plus one line in src/modules/builtin_modules.cc.
// Thread-safe; nothing throws.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/file_system.h"
#include "common/status.h"
#include "config/module_catalog.h"
#include "config/namespace_config.h"

namespace wal::sets {

enum class SetState { kPending, kDone, kDead, kDiscarded };

std::string_view SetStateName(SetState state);

struct PersistOutcome {
  Status status;       // not OK: the set is not (known to be) stored; nothing may reference it
  uint64_t order = 0;  // increases with every set this store accepts (acknowledgement order)
};
using PersistCallback = std::function<void(PersistOutcome)>;

struct StoredSet {
  std::string serialized;        // the chunks, concatenated
  uint64_t applied_through = 0;  // mutations (in sequence order) known applied
  SetState state = SetState::kPending;
  uint64_t order = 0;
};

struct LiveSet {
  std::string set_id;
  SetState state = SetState::kPending;  // kPending or kDead
};

class SetStore {
 public:
  virtual ~SetStore() = default;

  virtual std::string_view type() const = 0;  // "local" | "postgres"

  // Stores `chunks` under `set_id`. `done` runs exactly once, possibly on a
  // store-owned thread; it must not block on this store.
  virtual void Persist(const std::string& set_id, std::vector<std::string> chunks, PersistCallback done) = 0;

  // The stored set; kNotFound when the store holds no such set (never stored,
  // or done and dropped).
  virtual Result<StoredSet> Load(const std::string& set_id) = 0;

  // Durably records that the first `applied_through` mutations are applied.
  virtual Status RecordProgress(const std::string& set_id, uint64_t applied_through) = 0;

  // Durably records a state change. kDone and kDiscarded drop the set's data.
  virtual Status SetState(const std::string& set_id, SetState state) = 0;

  // Like SetState(kDiscarded) but does not wait; for callers on callback threads.
  virtual void DiscardAsync(const std::string& set_id) = 0;

  // Sets neither done nor discarded.
  virtual Result<std::vector<LiveSet>> ListLive() = 0;

  // Waits for in-flight persists (their callbacks run), then releases resources.
  virtual Status Close() = 0;
};

// What a store is opened with besides its config.
struct SetStoreContext {
  std::string namespace_name;
  FileSystem* file_system = nullptr;  // outlives the store
  std::string data_dir;               // the namespace's data directory (the local store uses <data_dir>/sets)
};

using OpenSetStoreFunction = std::function<Result<std::unique_ptr<SetStore>>(
    const config::DurableStorageConfig& config, const SetStoreContext& context)>;

// One store type: how its settings are read (the schema's type is the
// `durable_storage.type` users write) and how it is opened.
struct SetStoreModule {
  config::ModuleSchema schema;
  OpenSetStoreFunction open;
};

// A store module for the settings struct `Settings` (module_config.h).
template <typename Settings>
SetStoreModule SetStoreModuleOf(OpenSetStoreFunction open) {
  return SetStoreModule{config::SchemaFor<Settings>(), std::move(open)};
}

// Where the engine gets set stores (src/modules/ registers every store of the
// build). Thread-safe; outlives what it opens.
class SetStoreFactory {
 public:
  SetStoreFactory() = default;
  SetStoreFactory(const SetStoreFactory&) = delete;
  SetStoreFactory& operator=(const SetStoreFactory&) = delete;
  virtual ~SetStoreFactory() = default;

  // Opens the store `config` names; kUnavailable when this build has no such store.
  virtual Result<std::unique_ptr<SetStore>> Open(const config::DurableStorageConfig& config,
                                                 const SetStoreContext& context) const = 0;
};

}  // namespace wal::sets
