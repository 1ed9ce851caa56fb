// SegmentedLog: the implementation behind Log::Open (internal to src/log).
//
// Threading model. One mutex (mutex_) guards the append queue and the shared view
// of the log (segment list, durable end, counters, poison flag). It is never held
// during file I/O. A dedicated commit thread owns the active segment's
// WritableFile and the next id: it takes every waiting append (up to
// max_batch_bytes), writes them with one Append and one Sync, publishes the new
// durable end under the mutex, then runs the callbacks. While it writes and
// syncs, new appends keep queueing, so the next group forms during the fsync.
//
// The code is split by concern: segmented_log.cc (appends, group commit, reads),
// segmented_log_recovery.cc (Open's recovery and segment creation) and
// segmented_log_retention.cc (checkpoints and segment deletion).
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "log/log.h"
#include "log/record_format.h"
#include "log/segment.h"
#include "log/space_reserve.h"

namespace wal::log::internal {

// One segment file. first_id, path, version and reader never change; the rest is
// guarded by SegmentedLog::mutex_ and only grows, after each successful group
// commit.
struct Segment {
  uint64_t first_id = 0;
  std::string path;
  uint32_t version = kFormatVersion;
  uint64_t header_bytes = kSegmentHeaderSize;
  std::shared_ptr<RandomAccessFile> reader;
  uint64_t end_id = 0;         // one past the last durable id in this segment
  uint64_t durable_bytes = 0;  // file offset just past the last durable record
  std::vector<IndexPoint> index;
};

struct PendingAppend {
  std::string payload;
  AppendCallback callback;
  AppendClass append_class = AppendClass::kData;
};

// How one attempt to write a group ended.
struct GroupOutcome {
  Durability durability = Durability::kFalse;
  uint64_t first_id = 0;  // the group's first id (meaningful unless kFalse)
  Status status;
};

class SegmentedLog final : public Log {
 public:
  // `lock` is the directory's lock (kLockFileName), held until Close.
  SegmentedLog(FileSystem* file_system, LogOptions options, std::unique_ptr<FileLock> lock);
  ~SegmentedLog() override;

  Status Recover(RecoveryReport* report);
  void StartCommitThread() { commit_thread_ = std::thread([this] { CommitLoop(); }); }

  using Log::Append;
  void Append(std::string payload, AppendCallback callback, AppendClass append_class) override;
  Result<std::vector<LogEntry>> Read(uint64_t from_id, size_t max_entries, size_t max_bytes) override;
  Status CommitConsumed(uint64_t consumed_id) override;
  LogStats Stats() const override;
  std::vector<uint64_t> SegmentFirstIds() const override;
  Status Close() override;

 private:
  void CommitLoop();
  void CommitBatch(std::vector<PendingAppend>& batch);
  // Writes `batch` as one group at next_id_ (rolling first if the segment is
  // full) and syncs it; publishes it on success.
  GroupOutcome WriteGroup(const std::vector<PendingAppend>& batch);
  // Cuts the active segment back to `size` after a failed write and makes that
  // durable; the outcome the group's appends get.
  GroupOutcome RollBack(uint64_t size, const Status& write_error, uint64_t first_id);
  // Creates, syncs and switches to a new segment starting at `first_id`.
  Status StartNewSegment(uint64_t first_id);
  // Recovery's last step: the last segment becomes the active one.
  Status OpenActiveSegment(const std::shared_ptr<Segment>& segment, const SegmentScan& scan, RecoveryReport* report);
  // Best effort: preallocation only saves work, so a failure is not an error.
  void PreallocateActive();
  void Poison(const Status& reason);
  // Unlinks `paths`; those that fail are kept for the next CommitConsumed.
  Status RemoveSegmentFiles(std::vector<std::string> paths);
  static void Reply(const std::vector<PendingAppend>& batch, Durability durability, uint64_t first_id,
                    const Status& status);
  std::string SegmentPath(uint64_t first_id) const { return JoinPath(options_.directory, SegmentFileName(first_id)); }

  FileSystem* const file_system_;
  const LogOptions options_;
  SpaceReserve reserve_;

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
  uint64_t reserve_releases_ = 0;

  // Owned by the commit thread once it runs (by Recover before that).
  std::unique_ptr<WritableFile> active_file_;
  std::shared_ptr<Segment> active_segment_;
  uint64_t next_id_ = 0;
  std::string encode_buffer_;
  std::vector<uint64_t> record_offsets_;

  std::mutex close_mutex_;       // serialises Close
  bool closed_ = false;          // guarded by close_mutex_
  std::mutex checkpoint_mutex_;  // serialises CommitConsumed; guards pending_removals_
  std::vector<std::string> pending_removals_;
  uint64_t pending_removal_count_ = 0;  // pending_removals_.size(), for Stats; guarded by mutex_
  std::thread commit_thread_;
  std::unique_ptr<FileLock> lock_;  // guarded by close_mutex_; released by Close
};

}  // namespace wal::log::internal
