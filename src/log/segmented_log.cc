// SegmentedLog: the implementation behind Log::Open.
//
// Threading model. One mutex (mutex_) guards the append queue and the shared view
// of the log (segment list, durable end, counters, poison flag). It is never held
// during file I/O. A dedicated commit thread owns the active segment's
// WritableFile and the next id: it takes every waiting append (up to
// max_batch_bytes), writes them with one Append and one Sync, publishes the new
// durable end under the mutex, then runs the callbacks. While it writes and
// syncs, new appends keep queueing, so the next group forms during the fsync.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "log/log.h"
#include "log/record_format.h"
#include "log/segment.h"

namespace wal::log {

namespace {
std::atomic<FsyncObserver> fsync_observer{nullptr};
}  // namespace

void SetFsyncObserver(FsyncObserver observer) { fsync_observer.store(observer); }

namespace {

// One segment file. first_id, path and reader never change; the rest is guarded
// by SegmentedLog::mutex_ and only grows, after each successful group commit.
struct Segment {
  uint64_t first_id = 0;
  std::string path;
  std::shared_ptr<RandomAccessFile> reader;
  uint64_t end_id = 0;         // one past the last durable id in this segment
  uint64_t durable_bytes = 0;  // file offset just past the last durable record
  std::vector<IndexPoint> index;
};

struct PendingAppend {
  std::string payload;
  AppendCallback callback;
};

// Where a Read starts within one segment, captured under the mutex.
struct ReadStep {
  std::shared_ptr<Segment> segment;
  uint64_t start_offset = 0;
  uint64_t start_id = 0;
  uint64_t end_id = 0;
  uint64_t durable_bytes = 0;
};

class SegmentedLog final : public Log {
 public:
  SegmentedLog(FileSystem* file_system, LogOptions options)
      : file_system_(file_system), options_(std::move(options)) {}

  ~SegmentedLog() override { (void)Close(); }

  Status Recover(RecoveryReport* report);
  void StartCommitThread() { commit_thread_ = std::thread([this] { CommitLoop(); }); }

  void Append(std::string payload, AppendCallback callback) override;
  Result<std::vector<LogEntry>> Read(uint64_t from_id, size_t max_entries, size_t max_bytes) override;
  Status CommitConsumed(uint64_t consumed_id) override;
  LogStats Stats() const override;
  std::vector<uint64_t> SegmentFirstIds() const override;
  Status Close() override;

 private:
  void CommitLoop();
  void CommitBatch(std::vector<PendingAppend>& batch);
  // Creates, syncs and switches to a new segment starting at `first_id`.
  Status StartNewSegment(uint64_t first_id);
  void Poison(const Status& reason);
  static void Reply(std::vector<PendingAppend>& batch, Durability durability, uint64_t first_id,
                    const Status& status);
  std::string SegmentPath(uint64_t first_id) const { return JoinPath(options_.directory, SegmentFileName(first_id)); }

  FileSystem* const file_system_;
  const LogOptions options_;

  mutable std::mutex mutex_;
  std::condition_variable work_ready_;
  std::deque<PendingAppend> queue_;
  bool closing_ = false;
  bool poisoned_ = false;
  Status poison_reason_;
  std::deque<std::shared_ptr<Segment>> segments_;  // oldest first; back() is active
  uint64_t durable_end_id_ = 0;
  uint64_t consumed_id_ = 0;
  uint64_t record_bytes_ = 0;
  uint64_t fsyncs_ = 0;
  uint64_t appends_ = 0;

  // Owned by the commit thread once it runs (by Recover before that).
  std::unique_ptr<WritableFile> active_file_;
  std::shared_ptr<Segment> active_segment_;
  uint64_t next_id_ = 0;
  std::string encode_buffer_;
  std::vector<uint64_t> record_offsets_;

  std::mutex close_mutex_;       // serialises Close
  bool closed_ = false;          // guarded by close_mutex_
  std::mutex checkpoint_mutex_;  // serialises CommitConsumed
  std::thread commit_thread_;
};

Status SegmentedLog::Recover(RecoveryReport* report) {
  RecoveryReport local_report;
  if (report == nullptr) report = &local_report;
  *report = RecoveryReport{};

  WAL_RETURN_IF_ERROR(file_system_->CreateDirectories(options_.directory));
  WAL_ASSIGN_OR_RETURN(std::vector<std::string> names, file_system_->ListDirectory(options_.directory));
  std::vector<uint64_t> first_ids;
  for (const std::string& name : names) {
    if (auto first_id = ParseSegmentFileName(name)) first_ids.push_back(*first_id);
  }
  std::sort(first_ids.begin(), first_ids.end());

  auto fail_corrupt = [&](const Status& status) {
    report->corruption = status.message();
    return status;
  };

  uint64_t expected_first_id = first_ids.empty() ? 0 : first_ids.front();
  for (size_t i = 0; i < first_ids.size(); ++i) {
    const uint64_t first_id = first_ids[i];
    const std::string path = SegmentPath(first_id);
    const bool is_last = i + 1 == first_ids.size();
    if (first_id != expected_first_id) {
      return fail_corrupt(Corruption(path + " at offset 0: segment starts at id " + std::to_string(first_id) +
                                     " but the previous segment ends at id " + std::to_string(expected_first_id)));
    }
    Result<SegmentScan> scanned = ScanSegment(file_system_, path, first_id, options_.max_record_bytes, is_last);
    if (!scanned.ok()) {
      if (scanned.status().code() == StatusCode::kCorruption) return fail_corrupt(scanned.status());
      return scanned.status();
    }
    SegmentScan& scan = scanned.value();

    auto segment = std::make_shared<Segment>();
    segment->first_id = first_id;
    segment->path = path;
    segment->end_id = scan.end_id;
    segment->durable_bytes = scan.torn_header ? kSegmentHeaderSize : scan.valid_bytes;
    segment->index = std::move(scan.index);

    if (is_last) {
      WAL_ASSIGN_OR_RETURN(active_file_, file_system_->OpenAppendable(path));
      if (scan.torn_header || scan.torn_tail) {
        // Cut the torn bytes away before anything new is appended after them;
        // otherwise a later recovery would see garbage followed by valid records.
        uint64_t keep = scan.torn_header ? 0 : scan.valid_bytes;
        report->truncated_tail_bytes = scan.file_bytes - keep;
        WAL_RETURN_IF_ERROR(active_file_->Truncate(keep));
        if (scan.torn_header) WAL_RETURN_IF_ERROR(active_file_->Append(EncodeSegmentHeader(first_id)));
        WAL_RETURN_IF_ERROR(active_file_->Sync());
      }
      if (options_.preallocate) WAL_RETURN_IF_ERROR(active_file_->Preallocate(options_.segment_bytes));
      active_segment_ = segment;
    }
    WAL_ASSIGN_OR_RETURN(segment->reader, file_system_->OpenRandomAccess(path));
    record_bytes_ += segment->durable_bytes - kSegmentHeaderSize;
    expected_first_id = segment->end_id;
    segments_.push_back(std::move(segment));
  }

  if (segments_.empty()) {
    WAL_RETURN_IF_ERROR(StartNewSegment(0));
  }
  durable_end_id_ = segments_.back()->end_id;
  next_id_ = durable_end_id_;

  const std::string checkpoint_path = JoinPath(options_.directory, kCheckpointFileName);
  if (file_system_->Exists(checkpoint_path)) {
    WAL_ASSIGN_OR_RETURN(std::string contents, file_system_->ReadFile(checkpoint_path));
    Result<uint64_t> consumed = DecodeCheckpoint(contents);
    if (!consumed.ok()) return fail_corrupt(consumed.status().WithContext(checkpoint_path));
    consumed_id_ = consumed.value();
  }

  report->segments = segments_.size();
  report->entries = durable_end_id_ - segments_.front()->first_id;
  return Status::Ok();
}

Status SegmentedLog::StartNewSegment(uint64_t first_id) {
  const std::string path = SegmentPath(first_id);
  WAL_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, file_system_->OpenAppendable(path));
  Status status = file->Truncate(0);  // a leftover from an earlier failed attempt is never reused
  if (status.ok() && options_.preallocate) status = file->Preallocate(options_.segment_bytes);
  if (status.ok()) status = file->Append(EncodeSegmentHeader(first_id));
  if (!status.ok()) {
    // Nothing was synced: drop the file so recovery never sees a half-made segment.
    file.reset();
    Status removed = file_system_->RemoveFile(path);
    if (!removed.ok()) Poison(removed.WithContext("cannot remove a failed new segment"));
    return status;
  }
  // The header and the directory entry must be durable before any record in this
  // segment is acknowledged, or a crash could lose the whole file.
  status = file->Sync();
  if (status.ok()) status = file_system_->SyncDirectory(options_.directory);
  if (!status.ok()) {
    Poison(status);
    return status;
  }
  auto segment = std::make_shared<Segment>();
  segment->first_id = first_id;
  segment->path = path;
  segment->end_id = first_id;
  segment->durable_bytes = kSegmentHeaderSize;
  WAL_ASSIGN_OR_RETURN(segment->reader, file_system_->OpenRandomAccess(path));

  if (active_file_ != nullptr) {
    // Every byte of the old segment was synced with its last group; a close error
    // here cannot lose acknowledged data.
    (void)active_file_->Close();
  }
  active_file_ = std::move(file);
  active_segment_ = segment;
  std::lock_guard lock(mutex_);
  segments_.push_back(std::move(segment));
  return Status::Ok();
}

void SegmentedLog::Append(std::string payload, AppendCallback callback) {
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
      queue_.push_back({std::move(payload), std::move(callback)});
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
      while (!queue_.empty()) {
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
  const uint64_t first_id = next_id_;
  if (active_file_->Size() >= options_.segment_bytes) {
    Status rolled = StartNewSegment(first_id);
    if (!rolled.ok()) {
      Reply(batch, Durability::kFalse, 0, rolled.WithContext("cannot start a new segment"));
      return;
    }
  }

  const uint64_t size_before = active_file_->Size();
  encode_buffer_.clear();
  record_offsets_.clear();
  for (size_t i = 0; i < batch.size(); ++i) {
    record_offsets_.push_back(size_before + encode_buffer_.size());
    AppendRecord(first_id + i, batch[i].payload, &encode_buffer_);
  }

  Status written = active_file_->Append(encode_buffer_);
  if (!written.ok()) {
    // Cut back to the last synced size so the partial write can never surface;
    // the ids of this group are not consumed and the log keeps serving.
    Status truncated = active_file_->Truncate(size_before);
    if (!truncated.ok()) {
      Poison(truncated.WithContext("cannot truncate after a failed write"));
      // Part of the group may still be on disk and could be recovered later.
      Reply(batch, Durability::kUnknown, first_id,
            written.WithContext("write failed and the segment could not be truncated back"));
      return;
    }
    Reply(batch, Durability::kFalse, 0, written);
    return;
  }

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
    Reply(batch, Durability::kUnknown, first_id, synced.WithContext("fdatasync failed"));
    return;
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
  Reply(batch, Durability::kTrue, first_id, Status::Ok());
}

void SegmentedLog::Reply(std::vector<PendingAppend>& batch, Durability durability, uint64_t first_id,
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
      ReadStep step{*it, kSegmentHeaderSize, segment.first_id, segment.end_id, segment.durable_bytes};
      if (first) {
        if (const IndexPoint* point = FindIndexPoint(segment.index, from_id)) {
          step.start_offset = point->offset;
          step.start_id = point->id;
        }
      }
      if (step.start_id < step.end_id) steps.push_back(std::move(step));
    }
  }

  size_t payload_bytes = 0;
  for (const ReadStep& step : steps) {
    BufferedFileReader reader(step.segment->reader.get(), step.durable_bytes,
                              std::clamp<size_t>(max_bytes, 4096, 1 << 20));
    uint64_t offset = step.start_offset;
    for (uint64_t expected_id = step.start_id; expected_id < step.end_id; ++expected_id) {
      std::string_view view;
      WAL_RETURN_IF_ERROR(reader.View(offset, kRecordHeaderSize, &view));
      size_t claimed = ClaimedRecordSize(view);
      if (claimed > kRecordHeaderSize) WAL_RETURN_IF_ERROR(reader.View(offset, claimed, &view));
      ParsedRecord record;
      RecordParse parse = ParseRecord(view, options_.max_record_bytes, &record);
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

Status SegmentedLog::CommitConsumed(uint64_t consumed_id) {
  std::lock_guard checkpoint_lock(checkpoint_mutex_);
  {
    std::lock_guard lock(mutex_);
    if (consumed_id <= consumed_id_) return Status::Ok();
    if (consumed_id > durable_end_id_) {
      return InvalidArgument("consumed id " + std::to_string(consumed_id) + " is past the durable end " +
                             std::to_string(durable_end_id_));
    }
  }
  // Persist the position before deleting anything it covers: after a crash the
  // checkpoint must never point into a segment that is gone.
  WAL_RETURN_IF_ERROR(
      file_system_->WriteFileAtomically(JoinPath(options_.directory, kCheckpointFileName), EncodeCheckpoint(consumed_id)));

  std::vector<std::shared_ptr<Segment>> doomed;
  {
    std::lock_guard lock(mutex_);
    consumed_id_ = consumed_id;
    // The last segment is the active one and is never deleted.
    while (segments_.size() > 1 && segments_.front()->end_id <= consumed_id) {
      record_bytes_ -= segments_.front()->durable_bytes - kSegmentHeaderSize;
      doomed.push_back(std::move(segments_.front()));
      segments_.pop_front();
    }
  }
  if (doomed.empty()) return Status::Ok();
  // Readers that already hold a segment keep their open descriptor, so unlinking
  // under them is safe.
  for (const auto& segment : doomed) {
    WAL_RETURN_IF_ERROR(file_system_->RemoveFile(segment->path));
  }
  return file_system_->SyncDirectory(options_.directory);
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
  return status;
}

}  // namespace

Result<std::unique_ptr<Log>> Log::Open(FileSystem* file_system, const LogOptions& options, RecoveryReport* report) {
  if (options.directory.empty()) return InvalidArgument("LogOptions.directory is empty");
  if (options.max_record_bytes > UINT32_MAX) return InvalidArgument("max_record_bytes must fit in 32 bits");
  auto log = std::make_unique<SegmentedLog>(file_system, options);
  WAL_RETURN_IF_ERROR(log->Recover(report));
  log->StartCommitThread();
  return std::unique_ptr<Log>(std::move(log));
}

}  // namespace wal::log
