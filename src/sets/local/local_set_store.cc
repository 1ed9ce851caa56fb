#include "sets/local/local_set_store.h"

#include "sets/local/local_config.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <future>

#include "wal/v1/record.pb.h"

namespace wal::sets {
namespace {

using Kind = v1::StoredSetRecord;

std::string StateRecord(const std::string& set_id, Kind::Kind kind, uint64_t applied_through = 0) {
  v1::StoredSetRecord record;
  record.set_kind(kind);
  record.set_set_id(set_id);
  record.set_applied_through(applied_through);
  return record.SerializeAsString();
}

Kind::Kind KindOf(SetState state) {
  switch (state) {
    case SetState::kPending: return Kind::REVIVED;
    case SetState::kDone: return Kind::DONE;
    case SetState::kDead: return Kind::DEAD;
    case SetState::kDiscarded: return Kind::DISCARDED;
  }
  return Kind::KIND_UNSPECIFIED;
}

Status FromAppend(const log::AppendResult& result) {
  if (result.durability == Durability::kTrue) return Status::Ok();
  if (!result.status.ok()) return result.status;
  return Unavailable("the set log did not make the record durable");
}

}  // namespace

LocalSetStore::LocalSetStore(FileSystem* file_system, Options options)
    : file_system_(file_system), options_(std::move(options)) {}

LocalSetStore::~LocalSetStore() { (void)Close(); }

Result<std::unique_ptr<LocalSetStore>> LocalSetStore::Open(FileSystem* file_system, Options options) {
  std::unique_ptr<LocalSetStore> store(new LocalSetStore(file_system, std::move(options)));
  if (file_system->Exists(store->options_.directory)) WAL_RETURN_IF_ERROR(store->Recover());
  return store;
}

Status LocalSetStore::EnsureOpenLocked() {
  if (closed_) return FailedPrecondition("the set store is closed");
  if (log_) return Status::Ok();
  log::LogOptions options;
  options.directory = options_.directory;
  options.segment_bytes = options_.segment_bytes;
  options.preallocate = false;  // sets are bursty; most namespaces store few
  options.max_record_bytes = options_.max_chunk_bytes + (64u << 10);
  options.max_batch_bytes = std::max<uint64_t>(4ull << 20, options.max_record_bytes);
  log::RecoveryReport report;
  WAL_ASSIGN_OR_RETURN(log_, log::Log::Open(file_system_, options, &report));
  if (report.truncated_tail_bytes > 0) {
    spdlog::warn("set log {}: cut {} bytes of a torn tail", options_.directory, report.truncated_tail_bytes);
  }
  return Status::Ok();
}

Status LocalSetStore::Recover() {
  std::lock_guard lock(mutex_);
  WAL_RETURN_IF_ERROR(EnsureOpenLocked());
  log::LogStats stats = log_->Stats();
  uint64_t next = stats.first_id;
  while (next < stats.next_id) {
    WAL_ASSIGN_OR_RETURN(auto entries, log_->Read(next, 1024, 64ull << 20));
    if (entries.empty()) break;
    for (const auto& entry : entries) {
      ApplyRecordLocked(entry.id, entry.payload);
      next = entry.id + 1;
    }
  }
  // A set whose chunks did not all become durable was never acknowledged.
  for (auto it = index_.begin(); it != index_.end();) {
    if (it->second.chunks_stored < it->second.chunk_ids.size()) {
      spdlog::info("set log {}: dropping incomplete set {}", options_.directory, it->first);
      it = index_.erase(it);
    } else {
      ++it;
    }
  }
  return Status::Ok();
}

void LocalSetStore::ApplyRecordLocked(uint64_t id, const std::string& payload) {
  v1::StoredSetRecord record;
  if (!record.ParseFromString(payload)) {
    spdlog::error("set log {}: entry {} is not a set record; skipped", options_.directory, id);
    return;
  }
  switch (record.kind()) {
    case Kind::CHUNK: {
      Entry& entry = index_[record.set_id()];
      if (entry.chunk_ids.size() != record.chunk_count()) entry.chunk_ids.assign(record.chunk_count(), 0);
      if (record.chunk_index() < entry.chunk_ids.size() && entry.chunk_ids[record.chunk_index()] == 0) {
        entry.chunk_ids[record.chunk_index()] = id;
        ++entry.chunks_stored;
      }
      entry.first_id = std::min(entry.first_id, id);
      break;
    }
    case Kind::PROGRESS: {
      auto found = index_.find(record.set_id());
      if (found != index_.end()) {
        found->second.applied_through = std::max(found->second.applied_through, record.applied_through());
      }
      break;
    }
    case Kind::DONE:
    case Kind::DISCARDED:
      index_.erase(record.set_id());
      break;
    case Kind::DEAD:
    case Kind::REVIVED: {
      auto found = index_.find(record.set_id());
      if (found != index_.end()) found->second.state = record.kind() == Kind::DEAD ? SetState::kDead : SetState::kPending;
      break;
    }
    default:
      break;
  }
}

void LocalSetStore::Persist(const std::string& set_id, std::vector<std::string> chunks, PersistCallback done) {
  if (chunks.empty()) return done(PersistOutcome{InvalidArgument("a set needs at least one chunk"), 0});
  struct Pending {
    std::mutex mutex;
    size_t outstanding = 0;
    Status failure;
    PersistCallback done;
  };
  auto pending = std::make_shared<Pending>();
  pending->outstanding = chunks.size();
  pending->done = std::move(done);
  uint64_t total = 0;
  for (const auto& chunk : chunks) total += chunk.size();
  std::vector<std::string> payloads;
  payloads.reserve(chunks.size());
  for (size_t index = 0; index < chunks.size(); ++index) {
    v1::StoredSetRecord record;
    record.set_kind(Kind::CHUNK);
    record.set_set_id(set_id);
    record.set_chunk_index(static_cast<uint32_t>(index));
    record.set_chunk_count(static_cast<uint32_t>(chunks.size()));
    record.set_total_bytes(total);
    record.set_bytes(std::move(chunks[index]));
    payloads.push_back(record.SerializeAsString());
  }
  std::shared_ptr<log::Log> log;
  {
    std::lock_guard lock(mutex_);
    if (Status opened = EnsureOpenLocked(); !opened.ok()) {
      auto callback = std::move(pending->done);
      return callback(PersistOutcome{opened, 0});
    }
    log = log_;
  }
  // Appends may call back inline (a refused record), so mutex_ is not held here.
  for (size_t index = 0; index < payloads.size(); ++index) {
    const uint32_t chunk_count = static_cast<uint32_t>(payloads.size());
    log->Append(std::move(payloads[index]), [this, pending, set_id, index, chunk_count](const log::AppendResult& result) {
      Status status = FromAppend(result);
      uint64_t order = 0;
      {
        std::lock_guard index_lock(mutex_);
        if (status.ok()) {
          Entry& entry = index_[set_id];
          if (entry.chunk_ids.size() != chunk_count) entry.chunk_ids.assign(chunk_count, 0);
          entry.chunk_ids[index] = result.id;
          ++entry.chunks_stored;
          entry.first_id = std::min(entry.first_id, result.id);
          order = entry.first_id;
        }
      }
      PersistCallback callback;
      {
        std::lock_guard pending_lock(pending->mutex);
        if (!status.ok() && pending->failure.ok()) pending->failure = status;
        if (--pending->outstanding > 0) return;
        callback = std::move(pending->done);
        status = pending->failure;
      }
      if (!status.ok()) {
        {
          std::lock_guard index_lock(mutex_);
          index_.erase(set_id);
        }
        return callback(PersistOutcome{status.WithContext("storing the mutation set"), 0});
      }
      {
        std::lock_guard index_lock(mutex_);
        order = index_[set_id].first_id;
      }
      callback(PersistOutcome{Status::Ok(), order});
    });
  }
}

Result<StoredSet> LocalSetStore::Load(const std::string& set_id) {
  std::vector<uint64_t> ids;
  StoredSet stored;
  std::shared_ptr<log::Log> log;
  {
    std::lock_guard lock(mutex_);
    auto found = index_.find(set_id);
    if (found == index_.end() || !log_) return NotFound("mutation set " + set_id + " is not stored (done or unknown)");
    if (found->second.chunks_stored < found->second.chunk_ids.size()) {
      return Unavailable("mutation set " + set_id + " is still being stored");
    }
    ids = found->second.chunk_ids;
    stored.applied_through = found->second.applied_through;
    stored.state = found->second.state;
    stored.order = found->second.first_id;
    log = log_;
  }
  for (size_t index = 0; index < ids.size(); ++index) {
    WAL_ASSIGN_OR_RETURN(auto entries, log->Read(ids[index], 1, options_.max_chunk_bytes + (64u << 10)));
    if (entries.empty() || entries[0].id != ids[index]) {
      return Corruption("mutation set " + set_id + ": chunk " + std::to_string(index) + " (entry " +
                        std::to_string(ids[index]) + ") is missing from the set log");
    }
    v1::StoredSetRecord record;
    if (!record.ParseFromString(entries[0].payload) || record.set_id() != set_id || record.chunk_index() != index) {
      return Corruption("mutation set " + set_id + ": entry " + std::to_string(ids[index]) + " is not its chunk " +
                        std::to_string(index));
    }
    stored.serialized += record.bytes();
  }
  return stored;
}

Status LocalSetStore::AppendSync(std::string payload) {
  std::promise<log::AppendResult> promise;
  auto future = promise.get_future();
  std::shared_ptr<log::Log> log;
  {
    std::lock_guard lock(mutex_);
    WAL_RETURN_IF_ERROR(EnsureOpenLocked());
    log = log_;
  }
  log->Append(std::move(payload), [&promise](const log::AppendResult& result) { promise.set_value(result); });
  return FromAppend(future.get());
}

Status LocalSetStore::RecordProgress(const std::string& set_id, uint64_t applied_through) {
  WAL_RETURN_IF_ERROR(AppendSync(StateRecord(set_id, Kind::PROGRESS, applied_through)));
  std::lock_guard lock(mutex_);
  auto found = index_.find(set_id);
  if (found != index_.end()) found->second.applied_through = std::max(found->second.applied_through, applied_through);
  return Status::Ok();
}

Status LocalSetStore::SetState(const std::string& set_id, sets::SetState state) {
  WAL_RETURN_IF_ERROR(AppendSync(StateRecord(set_id, KindOf(state))));
  {
    std::lock_guard lock(mutex_);
    if (state == SetState::kDone || state == SetState::kDiscarded) {
      index_.erase(set_id);
      ++finished_since_reclaim_;
    } else if (auto found = index_.find(set_id); found != index_.end()) {
      found->second.state = state;
    }
  }
  MaybeReclaim();
  return Status::Ok();
}

void LocalSetStore::DiscardAsync(const std::string& set_id) {
  std::shared_ptr<log::Log> log;
  {
    std::lock_guard lock(mutex_);
    if (!EnsureOpenLocked().ok()) return;
    index_.erase(set_id);
    log = log_;
  }
  log->Append(StateRecord(set_id, Kind::DISCARDED), [](const log::AppendResult&) {});
}

void LocalSetStore::MaybeReclaim() {
  std::lock_guard lock(mutex_);
  if (!log_ || finished_since_reclaim_ < 64) return;
  finished_since_reclaim_ = 0;
  uint64_t keep_from = log_->Stats().next_id;
  for (const auto& [id, entry] : index_) keep_from = std::min(keep_from, entry.first_id);
  Status committed = log_->CommitConsumed(keep_from);
  if (!committed.ok()) spdlog::warn("set log {}: reclaiming space failed: {}", options_.directory, committed.ToString());
}

Result<std::vector<LiveSet>> LocalSetStore::ListLive() {
  std::lock_guard lock(mutex_);
  std::vector<LiveSet> live;
  for (const auto& [id, entry] : index_) live.push_back(LiveSet{id, entry.state});
  return live;
}

uint64_t LocalSetStore::FirstStoredId() {
  std::lock_guard lock(mutex_);
  return log_ ? log_->Stats().first_id : 0;
}

Status LocalSetStore::Close() {
  std::shared_ptr<log::Log> log;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return Status::Ok();
    closed_ = true;
    log = std::move(log_);
  }
  // Close runs the callbacks of queued appends, which take mutex_.
  if (log) return log->Close();
  return Status::Ok();
}

SetStoreModule LocalSetStore::Module() {
  return SetStoreModuleOf<LocalSetStoreConfig>(
      [](const config::DurableStorageConfig& config, const SetStoreContext& context) -> Result<std::unique_ptr<SetStore>> {
        Options options;
        options.directory = JoinPath(context.data_dir, "sets");
        options.max_chunk_bytes = config.chunk_bytes;
        WAL_ASSIGN_OR_RETURN(auto store, Open(context.file_system, options));
        return std::unique_ptr<SetStore>(std::move(store));
      });
}

}  // namespace wal::sets
