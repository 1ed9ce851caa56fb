// Mutation sets in PostgreSQL, so that a consumer on any instance can rebuild
// a set another instance accepted (Kafka backends, separate producer and
// consumer groups).
//
// Tables (created on first use):
//   <table>(namespace, set_id, chunk_index, bytes BYTEA,
//           PRIMARY KEY (namespace, set_id, chunk_index))
//   <table>_progress(namespace, set_id, set_order BIGSERIAL, chunk_count,
//           total_bytes, applied_through, status, created_at, updated_at,
//           PRIMARY KEY (namespace, set_id))
// Persist writes the progress row and every chunk in one transaction, on a
// store-owned thread (never an RPC thread). Done and discarded sets are
// deleted (both tables) in one transaction.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/blocking_executor.h"
#include "sets/set_store.h"

namespace wal::pg {
class PgPool;
}

namespace wal::sets {

class PostgresSetStore final : public SetStore {
 public:
  struct Options {
    std::string dsn;
    std::string table = "wal_sets";
    std::string namespace_name;
    std::chrono::milliseconds timeout{10000};
    size_t writer_threads = 4;
  };

  static Result<std::unique_ptr<PostgresSetStore>> Open(Options options);
  // The module: type `postgres`, PostgresSetStoreConfig (dsn, table), rows
  // keyed by namespace. Registered in src/modules/.
  static SetStoreModule Module();
  ~PostgresSetStore() override;

  std::string_view type() const override { return "postgres"; }
  void Persist(const std::string& set_id, std::vector<std::string> chunks, PersistCallback done) override;
  Result<StoredSet> Load(const std::string& set_id) override;
  Status RecordProgress(const std::string& set_id, uint64_t applied_through) override;
  Status SetState(const std::string& set_id, sets::SetState state) override;
  void DiscardAsync(const std::string& set_id) override;
  Result<std::vector<LiveSet>> ListLive() override;
  Status Close() override;

 private:
  explicit PostgresSetStore(Options options);
  Status EnsureSchema();
  Status PersistNow(const std::string& set_id, const std::vector<std::string>& chunks, uint64_t* order);

  const Options options_;
  const std::string chunks_table_;
  const std::string progress_table_;
  std::unique_ptr<pg::PgPool> pool_;
  std::mutex schema_mutex_;
  bool schema_ready_ = false;

  // Runs Persist and DiscardAsync; created by Open, drained by Close.
  std::unique_ptr<BlockingExecutor> workers_;
};

}  // namespace wal::sets
