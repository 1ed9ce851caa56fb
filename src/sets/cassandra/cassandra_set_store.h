// Mutation sets in Cassandra, so that a consumer on any instance can rebuild a
// set another instance accepted (Kafka backends), as the reference keeps them
// in its key-value store.
//
// Tables in the configured keyspace (created on first use, IF NOT EXISTS; the
// keyspace must exist):
//   <table>(namespace, set_id, chunk_index int, bytes blob,
//           PRIMARY KEY ((namespace, set_id), chunk_index))
//   <table>_progress(namespace, set_id, set_order bigint, chunk_count int,
//           total_bytes bigint, applied_through bigint, status text,
//           PRIMARY KEY ((namespace), set_id))
// Every read and write uses the configured consistency (LOCAL_QUORUM by
// default), so what one instance wrote another reads.
//
// Persist writes every chunk, then the progress row: the row is the commit
// point (Load and ListLive see nothing of a set whose row is not written). It
// runs on a store-owned thread, never the caller's, as do DiscardAsync and the
// callbacks.
//
// Order: a set's order is max(last order + 1, the clock in microseconds),
// taken when Persist starts, so it increases with every set this store
// accepts and survives restarts (the clock moves on). It is also the write
// timestamp of the set's rows, which is what makes progress monotonic without
// a read-before-write: applied_through n is written with timestamp
// order + 1 + n, so a smaller, late update never replaces a larger one. Done
// and discarded sets are deleted with timestamp order + 2^40 (12.7 days of
// microseconds, or now if later), which also shadows a progress or state update that arrives
// after the delete, so a finished set never comes back as a row missing its
// chunks.
//
// Limits: ListLive reads the namespace's progress partition, which also holds
// the tombstones of finished sets until compaction drops them
// (gc_grace_seconds, 3 hours on the progress table); Cassandra refuses reads
// that meet more than 100000 tombstones. A chunk is one write: keep
// chunk_bytes well under the node's max_mutation_size (half the commit log
// segment, 16 MiB by default).
//
// Threading: thread-safe; nothing throws.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/blocking_executor.h"
#include "cql/session.h"
#include "sets/cassandra/cassandra_config.h"
#include "sets/set_store.h"

namespace wal::sets {

class CassandraSetStore final : public SetStore {
 public:
  struct Options {
    CassandraSetStoreConfig settings;
    std::string namespace_name;
    size_t writer_threads = 4;
    std::function<int64_t()> now_micros;  // default: the system clock
  };

  // Reads the password and builds the session; connects nothing (the cluster
  // may be down now: the tables are made on first use).
  static Result<std::unique_ptr<CassandraSetStore>> Open(Options options);
  // The module: type `cassandra`, CassandraSetStoreConfig, rows keyed by
  // namespace. Registered in src/modules/.
  static SetStoreModule Module();
  ~CassandraSetStore() override;

  std::string_view type() const override { return "cassandra"; }
  void Persist(const std::string& set_id, std::vector<std::string> chunks, PersistCallback done) override;
  Result<StoredSet> Load(const std::string& set_id) override;
  Status RecordProgress(const std::string& set_id, uint64_t applied_through) override;
  Status SetState(const std::string& set_id, sets::SetState state) override;
  void DiscardAsync(const std::string& set_id) override;
  Result<std::vector<LiveSet>> ListLive() override;
  Status Close() override;

 private:
  struct Statements;

  CassandraSetStore(Options options, std::unique_ptr<cql::Session> session);
  Result<std::shared_ptr<const Statements>> Ready();
  Result<cql::ResultMessage> Execute(const cql::PreparedStatement& statement, std::vector<cql::Value> values,
                                     std::optional<std::string> paging_state = std::nullopt);
  // The set's order: remembered from Persist/Load, else read; nullopt when the set is not stored.
  Result<std::optional<uint64_t>> OrderOf(const std::string& set_id);
  uint64_t NextOrder();
  Status PersistNow(const std::string& set_id, const std::vector<std::string>& chunks, uint64_t* order);

  const Options options_;
  const std::unique_ptr<cql::Session> session_;
  std::mutex schema_mutex_;
  std::shared_ptr<const Statements> statements_;  // set once the tables exist and are prepared

  std::mutex orders_mutex_;
  uint64_t last_order_ = 0;
  std::map<std::string, uint64_t> orders_;  // set_id -> order, for live sets seen here

  // Runs Persist and DiscardAsync; created by Open, drained by Close.
  std::unique_ptr<BlockingExecutor> workers_;
};

}  // namespace wal::sets
