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
// Implementations: the local log (LocalSetStore) and a PostgreSQL table pair
// (PostgresSetStore). Thread-safe; nothing throws.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/file_system.h"
#include "common/status.h"
#include "config/config.h"

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

// Opens the store `config` names. `data_dir` is the namespace's data directory
// (the local store lives in <data_dir>/sets and is opened there lazily).
Result<std::unique_ptr<SetStore>> OpenSetStore(const config::DurableStorageConfig& config,
                                               const std::string& namespace_name, FileSystem* file_system,
                                               const std::string& data_dir);

}  // namespace wal::sets
