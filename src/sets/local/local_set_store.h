// Mutation sets on the local disk: one embedded log (src/log) per namespace in
// <data_dir>/sets, holding StoredSetRecord entries: CHUNK records (a piece of
// a serialized set), PROGRESS records and state records (DONE, DEAD,
// DISCARDED, REVIVED). An in-memory index (set id -> chunk entry ids,
// progress, state) is rebuilt by reading the log at open.
//
// Durability: every record is fsynced (group-committed) before Persist,
// RecordProgress or SetState report success.
//
// Retention: a set's records all follow its first chunk, so the log keeps
// everything from the oldest live set's first chunk on; whole segments before
// it are deleted once no live set needs them. A long-lived set (dead-lettered
// or far in the future) therefore pins the segments written after it.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "log/log.h"
#include "sets/set_store.h"

namespace wal::sets {

class LocalSetStore final : public SetStore {
 public:
  struct Options {
    std::string directory;
    uint64_t segment_bytes = 64ull << 20;
    uint64_t max_chunk_bytes = 1ull << 20;
  };

  // Opens (and recovers) the log when `directory` exists; otherwise it is
  // created on the first Persist.
  static Result<std::unique_ptr<LocalSetStore>> Open(FileSystem* file_system, Options options);
  // The module: type `local` (no settings of its own), in <data_dir>/sets with
  // chunks of durable_storage.chunk_bytes. Registered in src/modules/.
  static SetStoreModule Module();
  ~LocalSetStore() override;

  std::string_view type() const override { return "local"; }
  void Persist(const std::string& set_id, std::vector<std::string> chunks, PersistCallback done) override;
  Result<StoredSet> Load(const std::string& set_id) override;
  Status RecordProgress(const std::string& set_id, uint64_t applied_through) override;
  Status SetState(const std::string& set_id, sets::SetState state) override;
  void DiscardAsync(const std::string& set_id) override;
  Result<std::vector<LiveSet>> ListLive() override;
  Status Close() override;

  // For tests: the log's first stored id (moves forward as sets finish).
  uint64_t FirstStoredId();

 private:
  struct Entry {
    std::vector<uint64_t> chunk_ids;  // by chunk index; 0 = not yet stored
    uint32_t chunks_stored = 0;
    uint64_t first_id = UINT64_MAX;
    uint64_t applied_through = 0;
    sets::SetState state = sets::SetState::kPending;
  };

  LocalSetStore(FileSystem* file_system, Options options);
  Status EnsureOpenLocked();
  Status Recover();
  void ApplyRecordLocked(uint64_t id, const std::string& payload);
  // Appends and waits for durability.
  Status AppendSync(std::string payload);
  void MaybeReclaim();

  FileSystem* const file_system_;
  const Options options_;
  std::mutex mutex_;
  std::shared_ptr<log::Log> log_;  // shared so a call in progress outlives Close
  bool closed_ = false;
  std::map<std::string, Entry> index_;
  uint64_t finished_since_reclaim_ = 0;
};

}  // namespace wal::sets
