// Mutation sets, the multi-partition mutations persona (docs/mutation-sets.md).
//
// Producer side: a WriteToLog whose payload is a mutation_set is validated
// (Validate), persisted to the namespace's durable storage, chunked (Persist),
// and only then is a small completion marker enqueued: a LogRecord whose
// set_ref names the stored set and whose payload keeps the mutations without
// their values. The write's `durable` answer is the marker's.
//
// Consumer side: for a marker, Apply rebuilds the set, reassembles it, and
// applies every mutation in sequence order, from the first one not yet
// applied, each to the target its `target` names. Progress is recorded when an
// attempt stops early (and every kProgressEvery mutations), so a retry
// resumes where the last one stopped; replaying an applied prefix after a
// crash is harmless because puts and deletes are idempotent and the prefix is
// replayed in order.
//
// Ordering: two sets that touch the same (target, table, partition key, key)
// are applied in the order they were acknowledged. Each accepted set holds its
// keys until it is done (or dead-lettered); a later set that shares a key is
// deferred while an earlier one holds it. The registry is per process: rebuilt
// at start from the markers still in the embedded log; on Kafka it covers the
// sets this instance accepted (see the docs for the limits).
//
// Thread-safe; nothing throws.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/namespace_config.h"
#include "sets/set_store.h"
#include "target/target.h"
#include "wal/v1/record.pb.h"

namespace wal::sets {

// The target a mutation names ("" = the namespace's target or the request's override).
using TargetResolver = std::function<Result<std::shared_ptr<target::Target>>(const std::string& name)>;

// Which sets hold which keys, in acknowledgement order.
class KeyOrder {
 public:
  void Hold(const std::string& set_id, uint64_t order, std::vector<uint64_t> keys);
  void Release(const std::string& set_id);
  // True when a set acknowledged before `order` still holds one of `keys`.
  bool HasEarlierHolder(uint64_t order, const std::vector<uint64_t>& keys) const;
  bool Holds(const std::string& set_id) const;
  size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<uint64_t, std::set<uint64_t>> holders_;  // key hash -> orders holding it
  struct Held {
    uint64_t order;
    std::vector<uint64_t> keys;
  };
  std::unordered_map<std::string, Held> sets_;
};

// The ordering keys of a set's mutations (hashes of target, table, partition key, key).
std::vector<uint64_t> SetKeys(const v1::MutationSet& set);

class SetManager {
 public:
  // How often progress is recorded while an attempt succeeds.
  static constexpr uint64_t kProgressEvery = 64;

  SetManager(std::string namespace_name, config::DurableStorageConfig config, std::unique_ptr<SetStore> store);
  ~SetManager();

  // Opens the store config.durable_storage names through `stores`.
  static Result<std::unique_ptr<SetManager>> Open(const config::NamespaceConfig& config, const SetStoreFactory& stores,
                                                  FileSystem* file_system, const std::string& data_dir);

  // ---- Producer ------------------------------------------------------------

  // Refuses a set the namespace cannot take: empty, too many mutations, over
  // max_set_bytes, a duplicate sequence number, or a target name that is not
  // one of config.targets (an empty name needs the namespace target).
  // `payload_bytes` is the set's serialized size. Nothing is stored.
  static Status Validate(const v1::MutationSet& set, const config::NamespaceConfig& config, uint64_t payload_bytes);

  using PersistDone = std::function<void(Result<v1::LogRecord> marker)>;
  // Stores record.payload().mutation_set() and turns `record` into its
  // marker (values dropped, set_ref filled). The set holds its keys from
  // before `done` runs. `done` may run on a store thread and must not block.
  void Persist(v1::LogRecord record, PersistDone done);

  // The marker could not be enqueued: the set is dropped and its keys released.
  void Abandon(const v1::LogRecord& marker);

  // ---- Consumer ------------------------------------------------------------

  struct ApplyReport {
    target::ApplyResult result;
    bool deferred = false;  // an earlier set holds one of its keys: try again shortly, not an attempt
    std::vector<v1::MutationStatus> statuses;  // per mutation, in sequence order (empty when deferred)
  };
  // Applies the set `marker` names. On success the set is durably done before
  // this returns (so the marker may be completed).
  ApplyReport Apply(const v1::LogRecord& marker, const TargetResolver& resolve,
                    const target::DeliveryContext& context);

  // The marker goes to the DLQ: the set is kept (for redrive) but releases its
  // keys; `marker` gets the per-mutation statuses.
  void OnDeadLetter(v1::LogRecord* marker, const std::vector<v1::MutationStatus>& statuses);

  // ---- Start-up --------------------------------------------------------------

  // Holds the keys of the pending sets among `markers` (records still stored
  // in the queue). With `complete` (the queue is the embedded log, so
  // `markers` plus `dead_markers` are every marker that exists) stored sets
  // that no marker names are dropped: they were never acknowledged.
  void Recover(const std::vector<v1::LogRecord>& markers, const std::vector<v1::LogRecord>& dead_markers,
               bool complete);

  // The markers of purged dead letters: their sets are dropped.
  void Forget(const std::vector<v1::LogRecord>& markers);

  KeyOrder& key_order() { return key_order_; }
  SetStore& store() { return *store_; }
  Status Close();

 private:
  const std::string namespace_name_;
  const config::DurableStorageConfig config_;
  std::unique_ptr<SetStore> store_;
  KeyOrder key_order_;
};

}  // namespace wal::sets
