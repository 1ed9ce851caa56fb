// The local backend's implementation class, shared by the files that hold its
// pieces (the model is LevelDB's log_writer/log_reader split and Redpanda's
// storage/ segment appender, reader and index):
//
//   local_backend.cc       the backend itself: open, produce, consume, inspect, close
//   recovery.cc            the open-time scan of both logs (Recover)
//   retire_loop.cc         the thread that batches Complete()s into RETIRE records
//   dead_letter_admin.cc   listing, redriving and purging the dead-letter log
//   maintenance.cc         checkpoints, heap compaction and copy-forward
//   id_window.{h,cc}       the per-log bitmap of pending ids
//   retired_outcomes.{h,cc} how each retired main-log entry ended, for reads
//
// Internal: include only from src/queue/local/. The public surface is
// local_backend.h.
//
// Threading: `mutex_` guards the in-memory index (windows, heap, holds, DLQ
// visibility, the retire queue and stats); the *Locked methods need it. Log
// appends are never issued while holding it, because a refused append calls
// back inline and the callbacks take it. `maintenance_mutex_` serialises
// maintenance passes (checkpoints, copy-forward); `admin_mutex_` serialises DLQ
// administration with itself and with Close.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/time.h"
#include "log/log.h"
#include "log/record_format.h"
#include "queue/local/id_window.h"
#include "queue/local/local_backend.h"
#include "queue/local/retired_outcomes.h"

namespace wal::queue::local {

inline constexpr size_t kScanBatchEntries = 65536;
inline constexpr size_t kScanBatchBytes = 8u << 20;
inline constexpr size_t kSingleReadBytes = 1u << 20;
inline constexpr size_t kMaxRetireBatch = 8192;  // ids per RETIRE envelope from Complete/DeadLetter
inline constexpr size_t kAdminChunk = 512;       // DLQ entries per redrive step
inline constexpr size_t kPurgeChunk = 8192;      // DLQ ids per purge RETIRE
inline constexpr uint64_t kCopyForwardMaxBytesInFlight = 64u << 20;

// Due times are stored as unix milliseconds rounded up (ToMillisRoundedUp), so
// a stored due time is never earlier than the requested one; "now" is rounded
// down (NowMillis).

struct HeapItem {
  int64_t due_ms;
  uint64_t id;
};
// std::*_heap build max-heaps; "greater" turns them into a (due, id) min-heap.
struct HeapAfter {
  bool operator()(const HeapItem& a, const HeapItem& b) const {
    return a.due_ms != b.due_ms ? a.due_ms > b.due_ms : a.id > b.id;
  }
};

// OK for a durable append; otherwise the append's status (or kInternal) with
// `what` and the durability as context.
Status FailureStatus(const log::AppendResult& result, std::string_view what);

// Counts a set of asynchronous appends and waits for them. Thread-safe.
class AppendTracker {
 public:
  void Add(uint64_t bytes);
  void Done(uint64_t bytes, const Status& status);
  void WaitBelow(uint64_t max_bytes);
  Status WaitAll();  // the first failure, if any
  uint64_t succeeded();

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  uint64_t outstanding_ = 0;
  uint64_t bytes_ = 0;
  uint64_t succeeded_ = 0;
  Status first_error_;
};

// What the backend takes from the namespace config, read in one place
// (SettingsFromConfig in local_backend.cc).
struct LocalSettings {
  uint64_t segment_bytes = 64ull << 20;
  bool preallocate = true;
  // The largest envelope Append, Reschedule and DeadLetter may write (and
  // redrive, which appends). New appends only: recovery, reads and copy-forward
  // never apply it, so a record acknowledged under a larger limit stays the
  // log's after the limit is lowered.
  uint64_t max_append_bytes = (4ull << 20) + (64u << 10);
};

// The record size the logs are opened with: the record format's own maximum.
// Recovery trusts only the on-disk format, and the backend applies the
// config's limit itself (CheckAppendSize), to new appends only: copy-forward
// must be able to re-append a record accepted under a larger limit.
inline constexpr uint64_t kLogRecordFormatLimit = log::kMaxRecordBytes;

struct RetireRequest {
  uint64_t id = 0;
  StatusCallback done;  // runs after the RETIRE resolved, outside the backend mutex
  // Set when `id` was dead-lettered as this DLQ id: the DLQ entry is listed
  // once the RETIRE is durable, and a failed RETIRE is retried, never
  // released (the entry must not be dead-lettered twice).
  std::optional<uint64_t> dead_letter_id;
};

struct RetireRetry {
  RetireRequest request;  // without `done`: the caller was answered at the first failure
  std::chrono::steady_clock::time_point not_before;
};

class LocalBackendImpl final : public LocalBackend {
 public:
  LocalBackendImpl(std::string name, std::unique_ptr<log::Log> main_log, std::unique_ptr<log::Log> dlq_log,
                   LocalBackendOptions options, LocalSettings settings)
      : name_(std::move(name)),
        main_log_(std::move(main_log)),
        dlq_log_(std::move(dlq_log)),
        options_(options),
        settings_(settings) {}

  ~LocalBackendImpl() override { (void)Close(); }

  // recovery.cc. Runs once, before StartThreads.
  Status Recover();
  // Where recovery starts scanning one log: its checkpoint, unless that is
  // past the log end (reported, and then the first stored id).
  uint64_t ScanStart(const log::LogStats& stats, std::string_view which);
  void StartThreads() {
    retire_thread_ = std::thread([this] { RetireLoop(); });
    maintenance_thread_ = std::thread([this] { MaintenanceLoop(); });
  }

  // ---- Producer ----
  void Append(QueueEntry entry, AppendCallback callback) override;

  // ---- Consumer ----
  Result<std::vector<Delivery>> Poll(size_t max_entries, std::chrono::milliseconds wait) override;
  void Complete(const Delivery& delivery, StatusCallback callback) override;
  void Reschedule(const Delivery& delivery, QueueEntry replacement, StatusCallback callback) override;
  void DeadLetter(const Delivery& delivery, std::string dead_record, StatusCallback callback) override;

  // ---- DLQ (dead_letter_admin.cc) ----
  Result<std::vector<StoredEntry>> ListDeadLetters(uint64_t from_id, size_t limit) override;
  Result<std::vector<StoredEntry>> ListDeadLettersBounded(uint64_t from_id, size_t limit, uint64_t max_bytes) override;
  Result<uint64_t> RedriveDeadLetters(const std::vector<uint64_t>& ids, const RedriveTransform& transform) override;
  Result<uint64_t> PurgeDeadLetters(const std::vector<uint64_t>& ids) override;

  // ---- Inspection ----
  Result<std::vector<StoredEntry>> Read(uint64_t from_id, size_t limit) override;
  Result<std::vector<StoredEntry>> ReadBounded(uint64_t from_id, size_t limit, uint64_t max_bytes) override;
  BackendStats Stats() const override;
  uint64_t Pending() const override;  // a counter; Stats() walks the delay heap for pending_delayed
  Status Close() override;

  // ---- LocalBackend (maintenance.cc, local_backend.cc) ----
  Result<uint64_t> RunMaintenance() override;
  LocalBackendStats LocalStats() const override;

 private:
  enum class Hold { kHeld, kDone, kRefused };

  // All *Locked methods need mutex_.

  // Something is wrong that the operator must hear about, though the backend
  // keeps serving: logged as an error and shown in Stats().error until Close.
  void ReportProblemLocked(const std::string& problem);

  void PushHeapLocked(HeapItem item) {
    heap_.push_back(item);
    std::push_heap(heap_.begin(), heap_.end(), HeapAfter{});
  }
  // Registers an append to the main log in id order; a durable one with
  // `pending_due` becomes a pending entry.
  void NoteMainAppendLocked(const log::AppendResult& result, std::optional<int64_t> pending_due) {
    if (result.durability == Durability::kFalse) return;
    main_window_.Extend(result.id + 1);
    outcomes_.Extend(result.id + 1);
    if (result.durability == Durability::kTrue && pending_due) {
      if (!main_window_.SetPending(result.id)) return ReportOutsideWindowLocked("log", result.id, main_window_);
      ++pending_;
      PushHeapLocked({*pending_due, result.id});
      poll_cv_.notify_all();
    }
  }
  void NoteDlqAppendLocked(const log::AppendResult& result, bool entry) {
    if (result.durability == Durability::kFalse) return;
    dlq_window_.Extend(result.id + 1);
    if (result.durability == Durability::kTrue && entry) {
      if (!dlq_window_.SetPending(result.id)) return ReportOutsideWindowLocked("dead-letter log", result.id, dlq_window_);
      ++dlq_live_;
    }
  }
  // A durable id the window cannot hold: the in-memory index and the log
  // disagree. The entry is safe in the log (a restart delivers it).
  void ReportOutsideWindowLocked(std::string_view which, uint64_t id, const IdWindow& window);
  // Marks a main-log entry done (the caller advances the watermark), ended
  // as `outcome`. An id retired twice keeps the outcome of its first
  // retirement; recovery also records outcomes for ids below the window.
  void RetireLocked(uint64_t id, RetiredOutcomes::Outcome outcome) {
    in_flight_.erase(id);
    release_failures_.erase(id);
    if (main_window_.IsPending(id)) {
      main_window_.SetDone(id);
      --pending_;
    }
    outcomes_.SetIfUnrecorded(id, outcome);
  }
  void RetireDlqLocked(uint64_t id) {
    if (dlq_window_.IsPending(id)) {
      dlq_window_.SetDone(id);
      --dlq_live_;
    }
  }
  // The process stops holding `id` without retiring it (its retirement failed):
  // it becomes pollable again after a backoff (ReleaseBackoffLocked), so it is
  // neither lost until a restart nor handed out in a hot loop.
  void ReleaseHoldLocked(uint64_t id);
  // The next hold-back for `id`, growing with its consecutive failures.
  std::chrono::milliseconds ReleaseBackoffLocked(uint64_t id);
  Hold CheckHeldLocked(uint64_t id, Status* why) const;
  // INVALID_ARGUMENT when a new envelope of `bytes` is over the append limit:
  // it could never be stored, so retrying is pointless.
  Status CheckAppendSize(size_t bytes, std::string_view what) const;
  bool IsLiveDeadLetterLocked(uint64_t id) const { return dlq_window_.IsPending(id) && dlq_hidden_.count(id) == 0; }

  void EnqueueRetire(RetireRequest request) {
    std::lock_guard lock(mutex_);
    retire_queue_.push_back(std::move(request));
    retire_cv_.notify_one();
  }
  // Appends a record that reclaims space: a RETIRE, or a replacement that
  // retires its original. On a full disk these must still be written, or the
  // backend could never free space again, so they may use the log's space
  // reserve (log::AppendClass::kControl); new entries and dead letters may not.
  static void AppendControl(log::Log& log, std::string payload, log::AppendCallback callback) {
    log.Append(std::move(payload), std::move(callback), log::AppendClass::kControl);
  }
  // The retire loop's wait: the next batch (due retries included), or empty
  // when stopping. Needs `lock` on mutex_.
  std::vector<RetireRequest> NextRetireBatchLocked(std::unique_lock<std::mutex>& lock);
  void RetireLoop();                   // retire_loop.cc
  void MaintenanceLoop();              // maintenance.cc, and the four below
  Status Checkpoint();
  void CompactHeapIfNeeded();
  Result<uint64_t> CopyForward();
  Result<uint64_t> CopyEntries(const std::vector<uint64_t>& candidates);
  Status RetireInDlq(const std::vector<uint64_t>& ids);  // dead_letter_admin.cc, and the one below
  std::vector<uint64_t> SelectDeadLetters(const std::vector<uint64_t>& ids) const;

  const std::string name_;
  const std::unique_ptr<log::Log> main_log_;
  const std::unique_ptr<log::Log> dlq_log_;
  const LocalBackendOptions options_;
  const LocalSettings settings_;

  mutable std::mutex mutex_;  // guards everything below up to the threads
  std::condition_variable poll_cv_;
  IdWindow main_window_;
  RetiredOutcomes outcomes_;  // how retired main-log entries ended, over the stored ids
  uint64_t pending_ = 0;                             // pending entries of the main log (incl. in flight)
  std::vector<HeapItem> heap_;                       // pending, not held; stale items are skipped lazily
  std::unordered_map<uint64_t, int64_t> in_flight_;  // held by Poll -> due
  // Consecutive failed retirements of an entry still pending (the backoff's
  // exponent); erased when it is retired.
  std::unordered_map<uint64_t, uint32_t> release_failures_;
  // Entries being copied forward -> due, once Poll popped their heap item (it
  // is pushed back if the copy fails); nullopt while the item is still queued.
  std::unordered_map<uint64_t, std::optional<int64_t>> copying_;
  IdWindow dlq_window_;
  uint64_t dlq_live_ = 0;
  std::unordered_set<uint64_t> dlq_hidden_;  // DLQ entries whose original is not retired yet
  bool closing_ = false;
  std::vector<RetireRequest> retire_queue_;
  std::vector<RetireRetry> retire_retries_;  // failed RETIREs of dead-lettered entries
  std::condition_variable retire_cv_;
  bool retire_stop_ = false;
  LocalBackendStats local_stats_;
  std::string problems_;  // ReportProblemLocked, "; "-separated

  std::mutex maintenance_mutex_;  // serialises maintenance passes; guards the three below
  uint64_t main_checkpointed_ = 0;
  uint64_t dlq_checkpointed_ = 0;
  std::string last_checkpoint_error_;

  std::mutex maintenance_wait_mutex_;
  std::condition_variable maintenance_cv_;
  bool maintenance_stop_ = false;

  std::mutex admin_mutex_;  // serialises DLQ administration with itself and Close
  std::mutex close_mutex_;
  bool closed_ = false;
  std::thread retire_thread_;
  std::thread maintenance_thread_;
};

// Recovers and starts a backend over two logs the caller opened (with
// kLogRecordFormatLimit). OpenLocalBackend uses it; tests hand in decorated
// logs to inject faults.
Result<std::unique_ptr<LocalBackend>> StartLocalBackend(std::string name, std::unique_ptr<log::Log> main_log,
                                                        std::unique_ptr<log::Log> dlq_log,
                                                        const LocalBackendOptions& options,
                                                        const LocalSettings& settings);

}  // namespace wal::queue::local
