// SegmentedLog: appends, group commit, reads (see segmented_log.h for the
// threading model).
#include "log/segmented_log.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iterator>

namespace wal::log {

namespace {
std::atomic<FsyncObserver> fsync_observer{nullptr};
}  // namespace

void SetFsyncObserver(FsyncObserver observer) { fsync_observer.store(observer); }

namespace internal {
namespace {

// Where a Read starts within one segment, captured under the mutex.
struct ReadStep {
  std::shared_ptr<Segment> segment;
  uint64_t start_offset = 0;
  uint64_t start_id = 0;
  uint64_t end_id = 0;
  uint64_t durable_bytes = 0;
};

bool HasClass(const std::vector<PendingAppend>& batch, AppendClass append_class) {
  return std::any_of(batch.begin(), batch.end(),
                     [append_class](const PendingAppend& append) { return append.append_class == append_class; });
}

// Moves the appends of `append_class` out of `batch` into the result.
std::vector<PendingAppend> TakeClass(std::vector<PendingAppend>& batch, AppendClass append_class) {
  std::vector<PendingAppend> taken;
  std::vector<PendingAppend> kept;
  for (PendingAppend& append : batch) {
    (append.append_class == append_class ? taken : kept).push_back(std::move(append));
  }
  batch = std::move(kept);
  return taken;
}

}  // namespace

SegmentedLog::SegmentedLog(FileSystem* file_system, LogOptions options, std::unique_ptr<FileLock> lock)
    : file_system_(file_system),
      options_(std::move(options)),
      reserve_(file_system, JoinPath(options_.directory, kSpaceReserveFileName), options_.reserve_bytes),
      lock_(std::move(lock)) {}

SegmentedLog::~SegmentedLog() { (void)Close(); }

void SegmentedLog::Append(std::string payload, AppendCallback callback, AppendClass append_class) {
  Status rejection;
  if (payload.size() > options_.max_record_bytes) {
    rejection = InvalidArgument("payload of " + std::to_string(payload.size()) + " bytes exceeds max_record_bytes " +
                                std::to_string(options_.max_record_bytes));
  } else {
    std::lock_guard lock(mutex_);
    if (closing_) {
      rejection = FailedPrecondition("log is closed");
    } else if (poisoned_) {
      rejection = FailedPrecondition("log is poisoned until reopened: " + poison_reason_.ToString());
    } else {
      bool was_empty = queue_.empty();
      queue_.push_back({std::move(payload), std::move(callback), append_class});
      // The commit thread only sleeps on an empty queue.
      if (was_empty) work_ready_.notify_one();
      return;
    }
  }
  if (callback) callback(AppendResult{Durability::kFalse, 0, rejection});
}

void SegmentedLog::CommitLoop() {
  std::vector<PendingAppend> batch;
  for (;;) {
    batch.clear();
    bool poisoned = false;
    Status poison_reason;
    {
      std::unique_lock lock(mutex_);
      work_ready_.wait(lock, [this] { return !queue_.empty() || closing_; });
      if (queue_.empty()) return;  // closing, and everything queued has been answered
      uint64_t batch_bytes = 0;
      // A group's record count must fit the format's 32-bit group fields.
      while (!queue_.empty() && batch.size() < UINT32_MAX) {
        uint64_t record_size = EncodedRecordSize(queue_.front().payload.size());
        if (!batch.empty() && batch_bytes + record_size > options_.max_batch_bytes) break;
        batch_bytes += record_size;
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      poisoned = poisoned_;
      poison_reason = poison_reason_;
    }
    if (poisoned) {
      Reply(batch, Durability::kFalse, 0,
            FailedPrecondition("log is poisoned until reopened: " + poison_reason.ToString()));
      continue;
    }
    CommitBatch(batch);
  }
}

void SegmentedLog::CommitBatch(std::vector<PendingAppend>& batch) {
  // Ids never wrap: appends that would need an id outside the id space are
  // refused before anything, a new segment included, is written for them.
  const uint64_t ids_left = kEntryIdLimit - next_id_;
  if (batch.size() > ids_left) {
    const auto keep = static_cast<std::ptrdiff_t>(ids_left);
    std::vector<PendingAppend> refused(std::make_move_iterator(batch.begin() + keep),
                                       std::make_move_iterator(batch.end()));
    batch.erase(batch.begin() + keep, batch.end());
    Reply(refused, Durability::kFalse, 0,
          ResourceExhausted("the log's id space is used up (entry ids are below 2^63 and every one has been "
                            "given out): nothing was written; the log takes no more appends"));
    if (batch.empty()) return;
  }
  // While the reserve is released the disk was full: data may only be written
  // once the reserve has been taken back, so it never eats the space control
  // records need.
  if (!reserve_.held() && HasClass(batch, AppendClass::kData) && !reserve_.Restore()) {
    std::vector<PendingAppend> data = TakeClass(batch, AppendClass::kData);
    Reply(data, Durability::kFalse, 0,
          NoSpace("disk full: the log's space reserve is in use for control records until retention frees space"));
    if (batch.empty()) return;
  }
  GroupOutcome outcome = WriteGroup(batch);
  if (outcome.durability == Durability::kFalse && outcome.status.code() == StatusCode::kNoSpace &&
      HasClass(batch, AppendClass::kControl) && !Stats().poisoned && reserve_.Release()) {
    // The disk is full: the reserve's space is for exactly this. Data appends of
    // the group stay refused; the control ones are written on their own.
    {
      std::lock_guard lock(mutex_);
      ++reserve_releases_;
    }
    std::vector<PendingAppend> data = TakeClass(batch, AppendClass::kData);
    Reply(data, Durability::kFalse, 0, outcome.status);
    outcome = WriteGroup(batch);
  }
  Reply(batch, outcome.durability, outcome.first_id, outcome.status);
}

GroupOutcome SegmentedLog::WriteGroup(const std::vector<PendingAppend>& batch) {
  const uint64_t first_id = next_id_;
  // A segment of an older format (left by recovery) is closed on the first write:
  // records are only ever appended in the current format.
  if (active_file_->Size() >= options_.segment_bytes || active_segment_->version != kFormatVersion) {
    Status rolled = StartNewSegment(first_id);
    if (!rolled.ok()) return {Durability::kFalse, 0, rolled.WithContext("cannot start a new segment")};
  }

  const uint64_t size_before = active_file_->Size();
  encode_buffer_.clear();
  record_offsets_.clear();
  const auto group_count = static_cast<uint32_t>(batch.size());
  for (uint32_t i = 0; i < group_count; ++i) {
    record_offsets_.push_back(size_before + encode_buffer_.size());
    AppendRecord(first_id + i, i, group_count, batch[i].payload, &encode_buffer_);
  }

  Status written = active_file_->Append(encode_buffer_);
  if (!written.ok()) return RollBack(size_before, written, first_id);

  const auto sync_started = std::chrono::steady_clock::now();
  Status synced = active_file_->Sync();
  if (FsyncObserver observer = fsync_observer.load(std::memory_order_relaxed)) {
    observer(std::chrono::steady_clock::now() - sync_started, synced.ok());
  }
  {
    std::lock_guard lock(mutex_);
    ++fsyncs_;
  }
  if (!synced.ok()) {
    // After a failed fdatasync the kernel may have dropped the dirty pages and
    // will not report the error again: nothing can be trusted until recovery.
    Poison(synced);
    return {Durability::kUnknown, first_id, synced.WithContext("fdatasync failed")};
  }

  next_id_ = first_id + batch.size();
  {
    std::lock_guard lock(mutex_);
    Segment& segment = *active_segment_;
    uint64_t last_indexed = segment.index.empty() ? 0 : segment.index.back().offset;
    for (size_t i = 0; i < record_offsets_.size(); ++i) {
      if (segment.index.empty() || record_offsets_[i] - last_indexed >= kIndexSpacingBytes) {
        segment.index.push_back({first_id + i, record_offsets_[i]});
        last_indexed = record_offsets_[i];
      }
    }
    segment.end_id = next_id_;
    segment.durable_bytes = active_file_->Size();
    durable_end_id_ = next_id_;
    appends_ += batch.size();
    record_bytes_ += encode_buffer_.size();
  }
  return {Durability::kTrue, first_id, Status::Ok()};
}

GroupOutcome SegmentedLog::RollBack(uint64_t size, const Status& write_error, uint64_t first_id) {
  // A write that failed before any byte reached the file (ENOSPC, say) leaves
  // nothing to cut; skipping the cut spares a disk-full storm one fsync per group.
  if (active_file_->Size() == size) return {Durability::kFalse, 0, write_error};
  // Cut back to the last synced size so the partial write can never surface;
  // the ids of this group are not consumed and the log keeps serving. The cut
  // must be durable before anyone hears "not written": otherwise a power loss
  // could bring the bytes back, and the next group, reusing these ids, would
  // contradict them.
  Status truncated = active_file_->Truncate(size);
  if (truncated.ok()) {
    PreallocateActive();  // ftruncate dropped the KEEP_SIZE reservation past `size`
    truncated = active_file_->Sync();
  }
  if (!truncated.ok()) {
    Poison(truncated.WithContext("cannot cut back a failed write"));
    // Part of the group may still be on disk and could be recovered later.
    return {Durability::kUnknown, first_id,
            write_error.WithContext("write failed and cutting it back failed (" + truncated.ToString() + ")")};
  }
  return {Durability::kFalse, 0, write_error};
}

void SegmentedLog::PreallocateActive() {
  if (options_.preallocate) (void)active_file_->Preallocate(options_.segment_bytes);
}

void SegmentedLog::Reply(const std::vector<PendingAppend>& batch, Durability durability, uint64_t first_id,
                         const Status& status) {
  for (size_t i = 0; i < batch.size(); ++i) {
    uint64_t id = durability == Durability::kFalse ? 0 : first_id + i;
    if (batch[i].callback) batch[i].callback(AppendResult{durability, id, status});
  }
}

void SegmentedLog::Poison(const Status& reason) {
  std::lock_guard lock(mutex_);
  if (poisoned_) return;
  poisoned_ = true;
  poison_reason_ = reason;
}

Result<std::vector<LogEntry>> SegmentedLog::Read(uint64_t from_id, size_t max_entries, size_t max_bytes) {
  std::vector<LogEntry> entries;
  if (max_entries == 0) return entries;

  std::vector<ReadStep> steps;
  {
    std::lock_guard lock(mutex_);
    if (segments_.empty()) return entries;
    from_id = std::max(from_id, segments_.front()->first_id);
    if (from_id >= durable_end_id_) return entries;
    auto it = std::upper_bound(segments_.begin(), segments_.end(), from_id,
                               [](uint64_t id, const std::shared_ptr<Segment>& s) { return id < s->first_id; });
    --it;  // from_id >= front()->first_id, so this is the segment holding from_id
    for (bool first = true; it != segments_.end(); ++it, first = false) {
      const Segment& segment = **it;
      ReadStep step{*it, segment.header_bytes, segment.first_id, segment.end_id, segment.durable_bytes};
      if (first) {
        if (const IndexPoint* point = FindIndexPoint(segment.index, from_id)) {
          step.start_offset = point->offset;
          step.start_id = point->id;
        }
      }
      if (step.start_id < step.end_id && from_id < step.end_id) steps.push_back(std::move(step));
    }
  }

  // Read ahead what the call can use: the walk from the index point (at most
  // one index span) plus a few KiB per entry asked for, within max_bytes. A
  // larger record is still read whole (View reads what it needs); a 1 MiB
  // chunk for every one-entry read made each such read a 1 MiB pread and fill.
  constexpr size_t kReadAheadPerEntry = 4096;
  const size_t read_ahead =
      kIndexSpacingBytes + std::min<size_t>(max_entries, (1 << 20) / kReadAheadPerEntry) * kReadAheadPerEntry;
  const size_t chunk_bytes = std::clamp<size_t>(std::min(max_bytes, read_ahead), 4096, 1 << 20);
  size_t payload_bytes = 0;
  for (const ReadStep& step : steps) {
    const uint32_t version = step.segment->version;
    BufferedFileReader reader(step.segment->reader.get(), step.durable_bytes, chunk_bytes);
    uint64_t offset = step.start_offset;
    for (uint64_t expected_id = step.start_id; expected_id < step.end_id; ++expected_id) {
      std::string_view view;
      WAL_RETURN_IF_ERROR(reader.View(offset, RecordHeaderSize(version), &view));
      size_t claimed = ClaimedRecordSize(view, version);
      if (claimed > RecordHeaderSize(version)) WAL_RETURN_IF_ERROR(reader.View(offset, claimed, &view));
      ParsedRecord record;
      RecordParse parse = ParseRecord(view, version, &record);
      if (parse != RecordParse::kOk || record.id != expected_id) {
        return Corruption(step.segment->path + " at offset " + std::to_string(offset) +
                          ": record failed verification while reading id " + std::to_string(expected_id));
      }
      offset += record.encoded_size;
      if (record.id < from_id) continue;
      if (!entries.empty() && payload_bytes + record.payload.size() > max_bytes) return entries;
      payload_bytes += record.payload.size();
      entries.push_back(LogEntry{record.id, std::string(record.payload)});
      if (entries.size() >= max_entries) return entries;
    }
  }
  return entries;
}

LogStats SegmentedLog::Stats() const {
  std::lock_guard lock(mutex_);
  LogStats stats;
  stats.first_id = segments_.empty() ? durable_end_id_ : segments_.front()->first_id;
  stats.next_id = durable_end_id_;
  stats.consumed_id = consumed_id_;
  stats.segments = segments_.size();
  stats.bytes = record_bytes_;
  stats.fsyncs = fsyncs_;
  stats.appends = appends_;
  stats.poisoned = poisoned_;
  stats.reserve_held = reserve_.held();
  stats.reserve_releases = reserve_releases_;
  stats.pending_removals = pending_removal_count_;
  return stats;
}

std::vector<uint64_t> SegmentedLog::SegmentFirstIds() const {
  std::lock_guard lock(mutex_);
  std::vector<uint64_t> first_ids;
  first_ids.reserve(segments_.size());
  for (const auto& segment : segments_) first_ids.push_back(segment->first_id);
  return first_ids;
}

Status SegmentedLog::Close() {
  std::lock_guard close_lock(close_mutex_);
  if (closed_) return Status::Ok();
  closed_ = true;
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
  }
  work_ready_.notify_all();
  if (commit_thread_.joinable()) commit_thread_.join();
  Status status;
  if (active_file_ != nullptr) {
    status = active_file_->Close();
    active_file_.reset();
  }
  // Last: another process may open the directory as soon as this is gone.
  lock_.reset();
  return status;
}

}  // namespace internal

Result<std::unique_ptr<Log>> Log::Open(FileSystem* file_system, const LogOptions& options, RecoveryReport* report) {
  if (options.directory.empty()) return InvalidArgument("LogOptions.directory is empty");
  if (options.max_record_bytes > kMaxRecordBytes) {
    return InvalidArgument("max_record_bytes must be at most " + std::to_string(kMaxRecordBytes) +
                           " (the format's maximum)");
  }
  // Two Logs on one directory would both append at the same ids and delete
  // each other's segments; the lock is taken before recovery reads anything.
  WAL_RETURN_IF_ERROR(file_system->CreateDirectories(options.directory));
  Result<std::unique_ptr<FileLock>> lock = file_system->LockFile(JoinPath(options.directory, kLockFileName));
  if (!lock.ok()) return lock.status().WithContext("cannot open the log in " + options.directory);
  auto log = std::make_unique<internal::SegmentedLog>(file_system, options, std::move(lock).value());
  WAL_RETURN_IF_ERROR(log->Recover(report));
  log->StartCommitThread();
  return std::unique_ptr<Log>(std::move(log));
}

}  // namespace wal::log
