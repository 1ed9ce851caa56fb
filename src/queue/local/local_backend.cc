#include "queue/local/local_backend.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <condition_variable>
#include <future>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "queue/local/envelope.h"
#include "queue/local/local_config.h"

namespace wal::queue::local {
namespace {

using std::chrono::milliseconds;

constexpr size_t kScanBatchEntries = 65536;
constexpr size_t kScanBatchBytes = 8u << 20;
constexpr size_t kSingleReadBytes = 1u << 20;
constexpr size_t kMaxRetireBatch = 8192;   // ids per RETIRE envelope from Complete/DeadLetter
constexpr size_t kAdminChunk = 512;        // DLQ entries per redrive step
constexpr size_t kPurgeChunk = 8192;       // DLQ ids per purge RETIRE
constexpr uint64_t kCopyForwardMaxBytesInFlight = 64u << 20;

// Due times are stored as unix milliseconds rounded up, so a stored due time is
// never earlier than the requested one; "now" is rounded down.
int64_t DueMs(TimePoint due) { return std::chrono::ceil<milliseconds>(due.time_since_epoch()).count(); }

TimePoint FromDueMs(int64_t ms) {
  using Duration = TimePoint::duration;
  constexpr int64_t kMax = std::chrono::duration_cast<milliseconds>(Duration::max()).count();
  constexpr int64_t kMin = std::chrono::duration_cast<milliseconds>(Duration::min()).count();
  return TimePoint(std::chrono::duration_cast<Duration>(milliseconds(std::clamp(ms, kMin, kMax))));
}

int64_t NowMs() { return std::chrono::floor<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count(); }

// A bitmap over the ids [low, end) of one log: bit set = done (retired,
// superseded, or not an entry at all, e.g. a RETIRE record), clear = pending.
// `low` is the consumed watermark: every id below it is done. Ids are only
// ever added at the end, and `low` only moves forward, dropping whole words.
class IdWindow {
 public:
  void Reset(uint64_t start) {
    base_ = start & ~uint64_t{63};
    words_.clear();
    head_ = 0;
    low_ = end_ = start;
  }
  uint64_t low() const { return low_; }
  uint64_t end() const { return end_; }

  // Makes ids up to `new_end` (exclusive) known; new ids start out done.
  void Extend(uint64_t new_end) {
    if (new_end <= end_) return;
    const size_t words_needed = (new_end - base_ + 63) / 64;
    while (words_.size() - head_ < words_needed) words_.push_back(~uint64_t{0});
    end_ = new_end;
  }
  bool IsPending(uint64_t id) const {
    if (id < low_ || id >= end_) return false;
    auto [word, bit] = Position(id);
    return ((words_[word] >> bit) & 1) == 0;
  }
  void SetPending(uint64_t id) {
    auto [word, bit] = Position(id);
    words_[word] &= ~(uint64_t{1} << bit);
  }
  void SetDone(uint64_t id) {
    auto [word, bit] = Position(id);
    words_[word] |= uint64_t{1} << bit;
  }
  // Moves `low` over the contiguous done prefix. Returns whether it moved.
  bool Advance() {
    const uint64_t before = low_;
    while (low_ < end_) {
      auto [word, bit] = Position(low_);
      const uint64_t pending_from_low = ~words_[word] >> bit;
      if (pending_from_low == 0) {
        low_ = std::min(end_, low_ - bit + 64);
        continue;
      }
      low_ = std::min(end_, low_ + static_cast<uint64_t>(std::countr_zero(pending_from_low)));
      break;
    }
    while (low_ - base_ >= 64) {
      ++head_;
      base_ += 64;
    }
    if (head_ >= 1024 && head_ * 2 >= words_.size()) {
      words_.erase(words_.begin(), words_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
    return low_ != before;
  }
  // Calls fn(id) for every pending id in [from, to), in id order.
  template <typename Fn>
  void ForEachPending(uint64_t from, uint64_t to, Fn&& fn) const {
    from = std::max(from, low_);
    to = std::min(to, end_);
    uint64_t id = from;
    while (id < to) {
      auto [word, bit] = Position(id);
      uint64_t pending = ~words_[word] >> bit;
      while (pending != 0) {
        const uint64_t candidate = id + static_cast<uint64_t>(std::countr_zero(pending));
        if (candidate >= to) return;
        fn(candidate);
        pending &= pending - 1;
      }
      id += 64 - bit;
    }
  }
  size_t MemoryBytes() const { return words_.capacity() * sizeof(uint64_t); }

 private:
  std::pair<size_t, unsigned> Position(uint64_t id) const {
    const uint64_t offset = id - base_;
    return {head_ + static_cast<size_t>(offset / 64), static_cast<unsigned>(offset % 64)};
  }

  uint64_t base_ = 0;  // id of bit 0 of words_[head_]; a multiple of 64
  std::vector<uint64_t> words_;
  size_t head_ = 0;
  uint64_t low_ = 0;
  uint64_t end_ = 0;
};

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

Status FailureStatus(const log::AppendResult& result, std::string_view what) {
  if (result.durability == Durability::kTrue) return Status::Ok();
  Status status = result.status.ok() ? Internal("append not durable") : result.status;
  return status.WithContext(std::string(what) + " (durability " + std::string(DurabilityName(result.durability)) + ")");
}

// Counts a set of asynchronous appends and waits for them.
class AppendTracker {
 public:
  void Add(uint64_t bytes) {
    std::lock_guard lock(mutex_);
    ++outstanding_;
    bytes_ += bytes;
  }
  void Done(uint64_t bytes, const Status& status) {
    std::lock_guard lock(mutex_);
    --outstanding_;
    bytes_ -= bytes;
    if (status.ok()) ++succeeded_;
    if (!status.ok() && first_error_.ok()) first_error_ = status;
    cv_.notify_all();
  }
  void WaitBelow(uint64_t max_bytes) {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return bytes_ <= max_bytes; });
  }
  Status WaitAll() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return outstanding_ == 0; });
    return first_error_;
  }
  uint64_t succeeded() {
    std::lock_guard lock(mutex_);
    return succeeded_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  uint64_t outstanding_ = 0;
  uint64_t bytes_ = 0;
  uint64_t succeeded_ = 0;
  Status first_error_;
};

// Scans `log` from `from` to its end, decoding every envelope.
template <typename Fn>
Status ScanLog(log::Log* log, uint64_t from, Fn&& fn) {
  uint64_t next = from;
  for (;;) {
    WAL_ASSIGN_OR_RETURN(std::vector<log::LogEntry> entries, log->Read(next, kScanBatchEntries, kScanBatchBytes));
    if (entries.empty()) return Status::Ok();
    for (const log::LogEntry& entry : entries) {
      Envelope envelope;
      WAL_RETURN_IF_ERROR(DecodeEnvelope(entry.id, entry.payload, &envelope));
      fn(entry.id, envelope);
    }
    next = entries.back().id + 1;
  }
}

struct RetireRequest {
  uint64_t id = 0;
  StatusCallback done;  // runs after the RETIRE resolved, outside the backend mutex
};

class LocalBackendImpl final : public LocalBackend {
 public:
  LocalBackendImpl(std::string name, std::unique_ptr<log::Log> main_log, std::unique_ptr<log::Log> dlq_log,
                   LocalBackendOptions options)
      : name_(std::move(name)),
        main_log_(std::move(main_log)),
        dlq_log_(std::move(dlq_log)),
        options_(options) {}

  ~LocalBackendImpl() override { (void)Close(); }

  Status Recover();
  void StartThreads() {
    retire_thread_ = std::thread([this] { RetireLoop(); });
    maintenance_thread_ = std::thread([this] { MaintenanceLoop(); });
  }

  // ---- Producer ----
  void Append(QueueEntry entry, AppendCallback callback) override;

  // ---- Consumer ----
  Result<std::vector<Delivery>> Poll(size_t max_entries, milliseconds wait) override;
  void Complete(const Delivery& delivery, StatusCallback callback) override;
  void Reschedule(const Delivery& delivery, QueueEntry replacement, StatusCallback callback) override;
  void DeadLetter(const Delivery& delivery, std::string dead_record, StatusCallback callback) override;

  // ---- DLQ ----
  Result<std::vector<StoredEntry>> ListDeadLetters(uint64_t from_id, size_t limit) override;
  Result<uint64_t> RedriveDeadLetters(const std::vector<uint64_t>& ids, const RedriveTransform& transform) override;
  Result<uint64_t> PurgeDeadLetters(const std::vector<uint64_t>& ids) override;

  // ---- Inspection ----
  Result<std::vector<StoredEntry>> Read(uint64_t from_id, size_t limit) override;
  BackendStats Stats() const override;
  Status Close() override;

  Result<uint64_t> RunMaintenance() override {
    std::lock_guard pass(maintenance_mutex_);
    Status checkpointed = Checkpoint();
    Result<uint64_t> copied = CopyForward();
    if (!copied.ok()) return copied;
    Status after = Checkpoint();
    if (!checkpointed.ok()) return checkpointed;
    if (!after.ok()) return after;
    return copied;
  }

  LocalBackendStats LocalStats() const override {
    std::lock_guard lock(mutex_);
    LocalBackendStats stats = local_stats_;
    stats.dlq_consumed = dlq_window_.low();
    return stats;
  }

 private:
  enum class Hold { kHeld, kDone, kRefused };

  // All *Locked methods need mutex_.
  void PushHeapLocked(HeapItem item) {
    heap_.push_back(item);
    std::push_heap(heap_.begin(), heap_.end(), HeapAfter{});
  }
  // Registers an append to the main log in id order; a durable one with
  // `pending_due` becomes a pending entry.
  void NoteMainAppendLocked(const log::AppendResult& result, std::optional<int64_t> pending_due) {
    if (result.durability == Durability::kFalse) return;
    main_window_.Extend(result.id + 1);
    if (result.durability == Durability::kTrue && pending_due) {
      main_window_.SetPending(result.id);
      ++pending_;
      PushHeapLocked({*pending_due, result.id});
      poll_cv_.notify_all();
    }
  }
  void NoteDlqAppendLocked(const log::AppendResult& result, bool entry) {
    if (result.durability == Durability::kFalse) return;
    dlq_window_.Extend(result.id + 1);
    if (result.durability == Durability::kTrue && entry) {
      dlq_window_.SetPending(result.id);
      ++dlq_live_;
    }
  }
  // Marks a main-log entry done (the caller advances the watermark).
  void RetireLocked(uint64_t id) {
    in_flight_.erase(id);
    if (main_window_.IsPending(id)) {
      main_window_.SetDone(id);
      --pending_;
    }
  }
  void RetireDlqLocked(uint64_t id) {
    if (dlq_window_.IsPending(id)) {
      dlq_window_.SetDone(id);
      --dlq_live_;
    }
  }
  // The process stops holding `id` without retiring it (its retirement failed):
  // it becomes pollable again, so it is not lost until a restart.
  void ReleaseHoldLocked(uint64_t id) {
    auto it = in_flight_.find(id);
    if (it == in_flight_.end()) return;
    const int64_t due_ms = it->second;
    in_flight_.erase(it);
    if (main_window_.IsPending(id)) {
      PushHeapLocked({due_ms, id});
      poll_cv_.notify_all();
    }
  }
  Hold CheckHeldLocked(uint64_t id, Status* why) const {
    if (closing_) {
      *why = FailedPrecondition("backend is closed");
      return Hold::kRefused;
    }
    if (id >= main_window_.end()) {
      *why = InvalidArgument("id " + std::to_string(id) + " is not a stored entry");
      return Hold::kRefused;
    }
    if (!main_window_.IsPending(id)) return Hold::kDone;
    if (in_flight_.count(id) == 0) {
      *why = FailedPrecondition("entry " + std::to_string(id) + " is not held by a Poll of this process");
      return Hold::kRefused;
    }
    return Hold::kHeld;
  }
  bool IsLiveDeadLetterLocked(uint64_t id) const { return dlq_window_.IsPending(id) && dlq_hidden_.count(id) == 0; }

  void EnqueueRetire(uint64_t id, StatusCallback done) {
    std::lock_guard lock(mutex_);
    retire_queue_.push_back(RetireRequest{id, std::move(done)});
    retire_cv_.notify_one();
  }
  void RetireLoop();
  void MaintenanceLoop();
  Status Checkpoint();
  void CompactHeapIfNeeded();
  Result<uint64_t> CopyForward();
  Result<uint64_t> CopyEntries(const std::vector<uint64_t>& candidates);
  Status RetireInDlq(const std::vector<uint64_t>& ids);
  std::vector<uint64_t> SelectDeadLetters(const std::vector<uint64_t>& ids) const;

  const std::string name_;
  const std::unique_ptr<log::Log> main_log_;
  const std::unique_ptr<log::Log> dlq_log_;
  const LocalBackendOptions options_;

  mutable std::mutex mutex_;  // guards everything below up to the threads
  std::condition_variable poll_cv_;
  IdWindow main_window_;
  uint64_t pending_ = 0;                            // pending entries of the main log (incl. in flight)
  std::vector<HeapItem> heap_;                      // pending, not held; stale items are skipped lazily
  std::unordered_map<uint64_t, int64_t> in_flight_; // held by Poll -> due
  // Entries being copied forward -> due, once Poll popped their heap item (it
  // is pushed back if the copy fails); nullopt while the item is still queued.
  std::unordered_map<uint64_t, std::optional<int64_t>> copying_;
  IdWindow dlq_window_;
  uint64_t dlq_live_ = 0;
  std::unordered_set<uint64_t> dlq_hidden_;  // DLQ entries whose original is not retired yet
  bool closing_ = false;
  std::vector<RetireRequest> retire_queue_;
  std::condition_variable retire_cv_;
  bool retire_stop_ = false;
  LocalBackendStats local_stats_;

  std::mutex maintenance_mutex_;  // serialises maintenance passes; guards the two below
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

// ---------------------------------------------------------------------------
// Recovery

Status LocalBackendImpl::Recover() {
  const auto started = std::chrono::steady_clock::now();

  // The DLQ first: its source ids tell which main entries were dead-lettered
  // by a process that died before retiring them.
  std::vector<uint64_t> dead_lettered_sources;
  const log::LogStats dlq_stats = dlq_log_->Stats();
  const log::LogStats main_stats = main_log_->Stats();
  main_checkpointed_ = main_stats.consumed_id;
  dlq_checkpointed_ = dlq_stats.consumed_id;
  dlq_window_.Reset(dlq_stats.consumed_id);
  Status scanned = ScanLog(dlq_log_.get(), dlq_stats.consumed_id, [&](uint64_t id, const Envelope& envelope) {
    dlq_window_.Extend(id + 1);
    if (envelope.kind == EnvelopeKind::kEntry) {
      dlq_window_.SetPending(id);
      ++dlq_live_;
      if (envelope.source) dead_lettered_sources.push_back(*envelope.source);
    } else {
      for (uint32_t i = 0; i < envelope.retired_count; ++i) RetireDlqLocked(envelope.RetiredId(i));
    }
  });
  if (!scanned.ok()) return scanned.WithContext("dead-letter log");
  dlq_window_.Extend(dlq_log_->Stats().next_id);
  dlq_window_.Advance();

  main_window_.Reset(main_stats.consumed_id);
  std::vector<HeapItem> items;
  auto compact = [&] {
    std::erase_if(items, [&](const HeapItem& item) { return !main_window_.IsPending(item.id); });
  };
  scanned = ScanLog(main_log_.get(), main_stats.consumed_id, [&](uint64_t id, const Envelope& envelope) {
    main_window_.Extend(id + 1);
    if (envelope.kind == EnvelopeKind::kEntry) {
      main_window_.SetPending(id);
      ++pending_;
      items.push_back({envelope.due_ms, id});
      // The replacement is durable, so the entry it replaces is done, even if
      // the process died before anything else happened.
      if (envelope.supersedes && main_window_.IsPending(*envelope.supersedes)) {
        main_window_.SetDone(*envelope.supersedes);
        --pending_;
      }
      if (items.size() > 2 * pending_ + 65536) compact();
    } else {
      for (uint32_t i = 0; i < envelope.retired_count; ++i) RetireLocked(envelope.RetiredId(i));
    }
  });
  if (!scanned.ok()) return scanned;
  main_window_.Extend(main_log_->Stats().next_id);
  compact();
  items.shrink_to_fit();
  heap_ = std::move(items);
  std::make_heap(heap_.begin(), heap_.end(), HeapAfter{});
  main_window_.Advance();

  // A crash between the DLQ append and the main RETIRE leaves the original
  // pending; it is already in the DLQ, so retire it now instead of delivering
  // (and dead-lettering) it again.
  std::vector<uint64_t> orphans;
  for (uint64_t source : dead_lettered_sources) {
    if (main_window_.IsPending(source)) orphans.push_back(source);
  }
  std::sort(orphans.begin(), orphans.end());
  orphans.erase(std::unique(orphans.begin(), orphans.end()), orphans.end());
  if (!orphans.empty()) {
    std::promise<log::AppendResult> done;
    auto future = done.get_future();
    main_log_->Append(EncodeRetire(orphans), [&](const log::AppendResult& result) {
      {
        std::lock_guard lock(mutex_);
        NoteMainAppendLocked(result, std::nullopt);
        if (result.durability == Durability::kTrue) {
          for (uint64_t id : orphans) RetireLocked(id);
          main_window_.Advance();
        }
      }
      done.set_value(result);
    });
    log::AppendResult result = future.get();
    if (result.durability != Durability::kTrue) {
      return FailureStatus(result, "retiring entries that were already dead-lettered");
    }
    spdlog::warn("namespace {}: {} entries were dead-lettered before a crash but not retired; retired them now",
                 name_, orphans.size());
  }

  local_stats_.recovered_pending = pending_;
  local_stats_.recovery_millis = static_cast<uint64_t>(
      std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - started).count());
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Producer

void LocalBackendImpl::Append(QueueEntry entry, AppendCallback callback) {
  if (entry.ordering_key.size() > kMaxOrderingKeyBytes) {
    if (callback) {
      callback(AppendOutcome{Durability::kFalse, 0,
                             InvalidArgument("ordering key of " + std::to_string(entry.ordering_key.size()) +
                                             " bytes exceeds " + std::to_string(kMaxOrderingKeyBytes))});
    }
    return;
  }
  const int64_t due_ms = DueMs(entry.due);
  std::string payload = EncodeEntry(due_ms, std::nullopt, std::nullopt, entry.ordering_key, entry.record);
  entry.record.clear();
  entry.record.shrink_to_fit();
  main_log_->Append(std::move(payload),
                    [this, due_ms, callback = std::move(callback)](const log::AppendResult& result) {
                      {
                        std::lock_guard lock(mutex_);
                        NoteMainAppendLocked(result, due_ms);
                      }
                      if (callback) callback(AppendOutcome{result.durability, result.id, result.status});
                    });
}

// ---------------------------------------------------------------------------
// Consumer

Result<std::vector<Delivery>> LocalBackendImpl::Poll(size_t max_entries, milliseconds wait) {
  std::vector<HeapItem> picked;
  {
    std::unique_lock lock(mutex_);
    // Clamped so the deadline cannot overflow steady_clock's nanoseconds.
    constexpr milliseconds kMaxWait{100LL * 365 * 24 * 3600 * 1000};
    const auto deadline = std::chrono::steady_clock::now() + std::clamp(wait, milliseconds(0), kMaxWait);
    for (;;) {
      if (closing_) return FailedPrecondition("backend is closed");
      if (max_entries == 0) break;
      const int64_t now_ms = NowMs();
      while (!heap_.empty() && picked.size() < max_entries) {
        const HeapItem top = heap_.front();
        const bool stale = !main_window_.IsPending(top.id) || in_flight_.count(top.id) != 0;
        auto copying = stale ? copying_.end() : copying_.find(top.id);
        if (!stale && copying == copying_.end() && top.due_ms > now_ms) break;
        std::pop_heap(heap_.begin(), heap_.end(), HeapAfter{});
        heap_.pop_back();
        if (stale) continue;
        if (copying != copying_.end()) {
          copying->second = top.due_ms;  // the copy pushes it back if it fails
          continue;
        }
        in_flight_.emplace(top.id, top.due_ms);
        picked.push_back(top);
      }
      if (!picked.empty()) break;
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) break;
      auto sleep = std::chrono::duration_cast<milliseconds>(deadline - now) + milliseconds(1);
      if (!heap_.empty()) {
        sleep = std::min(sleep, milliseconds(std::max<int64_t>(heap_.front().due_ms - NowMs(), 1)));
      }
      poll_cv_.wait_for(lock, sleep);
    }
  }

  std::vector<Delivery> deliveries;
  deliveries.reserve(picked.size());
  Status failure;
  for (const HeapItem& item : picked) {
    Result<std::vector<log::LogEntry>> read = main_log_->Read(item.id, 1, kSingleReadBytes);
    if (!read.ok()) {
      failure = read.status().WithContext("reading entry " + std::to_string(item.id));
      break;
    }
    if (read->empty() || read->front().id != item.id) {
      failure = Internal("entry " + std::to_string(item.id) + " is pending but not readable");
      break;
    }
    Envelope envelope;
    failure = DecodeEnvelope(item.id, read->front().payload, &envelope);
    if (!failure.ok()) break;
    if (envelope.kind != EnvelopeKind::kEntry) {
      failure = Corruption("log id " + std::to_string(item.id) + " is indexed as an entry but holds a RETIRE");
      break;
    }
    Delivery delivery;
    delivery.id = item.id;
    delivery.entry.record = std::string(envelope.record);
    delivery.entry.due = FromDueMs(envelope.due_ms);
    delivery.entry.ordering_key = std::string(envelope.ordering_key);
    deliveries.push_back(std::move(delivery));
  }
  if (!failure.ok()) {
    std::lock_guard lock(mutex_);
    for (const HeapItem& item : picked) ReleaseHoldLocked(item.id);
    return failure;
  }
  return deliveries;
}

void LocalBackendImpl::Complete(const Delivery& delivery, StatusCallback callback) {
  Status why;
  Hold hold;
  {
    std::lock_guard lock(mutex_);
    hold = CheckHeldLocked(delivery.id, &why);
    if (hold == Hold::kHeld) {
      retire_queue_.push_back(RetireRequest{delivery.id, std::move(callback)});
      retire_cv_.notify_one();
      return;
    }
  }
  if (callback) callback(hold == Hold::kDone ? Status::Ok() : why);
}

void LocalBackendImpl::RetireLoop() {
  for (;;) {
    std::vector<RetireRequest> batch;
    {
      std::unique_lock lock(mutex_);
      retire_cv_.wait(lock, [&] { return !retire_queue_.empty() || retire_stop_; });
      if (retire_queue_.empty()) return;  // stopping, and everything queued was answered
      const size_t n = std::min(retire_queue_.size(), kMaxRetireBatch);
      batch.assign(std::make_move_iterator(retire_queue_.begin()),
                   std::make_move_iterator(retire_queue_.begin() + static_cast<std::ptrdiff_t>(n)));
      retire_queue_.erase(retire_queue_.begin(), retire_queue_.begin() + static_cast<std::ptrdiff_t>(n));
    }
    std::vector<uint64_t> ids;
    ids.reserve(batch.size());
    for (const RetireRequest& request : batch) ids.push_back(request.id);
    // One RETIRE at a time: completions arriving meanwhile form the next batch.
    std::promise<void> finished;
    auto future = finished.get_future();
    main_log_->Append(EncodeRetire(ids), [&](const log::AppendResult& result) {
      const Status status = FailureStatus(result, "retiring entries");
      {
        std::lock_guard lock(mutex_);
        NoteMainAppendLocked(result, std::nullopt);
        if (status.ok()) {
          for (uint64_t id : ids) RetireLocked(id);
          main_window_.Advance();
        } else {
          for (uint64_t id : ids) ReleaseHoldLocked(id);
        }
      }
      for (RetireRequest& request : batch) {
        if (request.done) request.done(status);
      }
      finished.set_value();
    });
    future.wait();
  }
}

void LocalBackendImpl::Reschedule(const Delivery& delivery, QueueEntry replacement, StatusCallback callback) {
  Status why;
  Hold hold;
  {
    std::lock_guard lock(mutex_);
    hold = CheckHeldLocked(delivery.id, &why);
  }
  if (hold == Hold::kHeld && replacement.ordering_key.size() > kMaxOrderingKeyBytes) {
    why = InvalidArgument("ordering key too long");
    hold = Hold::kRefused;
  }
  if (hold != Hold::kHeld) {
    // An entry that is already done cannot be replaced: its retirement won.
    if (hold == Hold::kDone) why = FailedPrecondition("entry " + std::to_string(delivery.id) + " is already retired");
    if (callback) callback(why);
    return;
  }
  const uint64_t original = delivery.id;
  const int64_t due_ms = DueMs(replacement.due);
  std::string payload = EncodeEntry(due_ms, original, std::nullopt, replacement.ordering_key, replacement.record);
  main_log_->Append(std::move(payload),
                    [this, original, due_ms, callback = std::move(callback)](const log::AppendResult& result) {
                      const Status status = FailureStatus(result, "appending the replacement");
                      {
                        std::lock_guard lock(mutex_);
                        NoteMainAppendLocked(result, due_ms);
                        if (status.ok()) {
                          RetireLocked(original);
                          main_window_.Advance();
                        } else {
                          ReleaseHoldLocked(original);
                        }
                      }
                      if (callback) callback(status);
                    });
}

void LocalBackendImpl::DeadLetter(const Delivery& delivery, std::string dead_record, StatusCallback callback) {
  Status why;
  Hold hold;
  {
    std::lock_guard lock(mutex_);
    hold = CheckHeldLocked(delivery.id, &why);
  }
  if (hold != Hold::kHeld) {
    if (hold == Hold::kDone) why = FailedPrecondition("entry " + std::to_string(delivery.id) + " is already retired");
    if (callback) callback(why);
    return;
  }
  const uint64_t original = delivery.id;
  std::string key = delivery.entry.ordering_key.size() <= kMaxOrderingKeyBytes ? delivery.entry.ordering_key : "";
  std::string payload = EncodeEntry(DueMs(delivery.entry.due), std::nullopt, original, key, dead_record);
  dead_record.clear();
  dead_record.shrink_to_fit();
  dlq_log_->Append(std::move(payload), [this, original, callback = std::move(callback)](
                                           const log::AppendResult& result) mutable {
    const Status status = FailureStatus(result, "appending to the dead-letter log");
    {
      std::lock_guard lock(mutex_);
      NoteDlqAppendLocked(result, /*entry=*/true);
      if (status.ok()) {
        // Not listed (nor redriven/purged) until the original is retired.
        dlq_hidden_.insert(result.id);
      } else {
        ReleaseHoldLocked(original);
      }
    }
    if (!status.ok()) {
      if (callback) callback(status);
      return;
    }
    if (options_.crash_after_dead_letter_append_for_test) {
      if (callback) callback(Internal("test hook: stopped between the DLQ append and the main RETIRE"));
      return;
    }
    const uint64_t dlq_id = result.id;
    EnqueueRetire(original, [this, dlq_id, callback = std::move(callback)](const Status& retired) {
      {
        std::lock_guard lock(mutex_);
        dlq_hidden_.erase(dlq_id);
      }
      if (callback) callback(retired);
    });
  });
}

// ---------------------------------------------------------------------------
// Dead-letter administration

Result<std::vector<StoredEntry>> LocalBackendImpl::ListDeadLetters(uint64_t from_id, size_t limit) {
  std::vector<StoredEntry> listed;
  if (limit == 0) return listed;
  uint64_t next;
  {
    std::lock_guard lock(mutex_);
    next = std::max(from_id, dlq_window_.low());
  }
  for (;;) {
    WAL_ASSIGN_OR_RETURN(std::vector<log::LogEntry> entries, dlq_log_->Read(next, kScanBatchEntries, kScanBatchBytes));
    if (entries.empty()) return listed;
    std::vector<std::pair<uint64_t, std::string_view>> records;
    for (const log::LogEntry& entry : entries) {
      Envelope envelope;
      WAL_RETURN_IF_ERROR(DecodeEnvelope(entry.id, entry.payload, &envelope).WithContext("dead-letter log"));
      if (envelope.kind == EnvelopeKind::kEntry) records.emplace_back(entry.id, envelope.record);
    }
    {
      std::lock_guard lock(mutex_);
      for (const auto& [id, record] : records) {
        if (!IsLiveDeadLetterLocked(id)) continue;
        listed.push_back(StoredEntry{id, std::string(record)});
        if (listed.size() >= limit) return listed;
      }
    }
    next = entries.back().id + 1;
  }
}

std::vector<uint64_t> LocalBackendImpl::SelectDeadLetters(const std::vector<uint64_t>& ids) const {
  std::vector<uint64_t> selected;
  std::lock_guard lock(mutex_);
  if (ids.empty()) {
    dlq_window_.ForEachPending(0, std::numeric_limits<uint64_t>::max(), [&](uint64_t id) {
      if (dlq_hidden_.count(id) == 0) selected.push_back(id);
    });
  } else {
    for (uint64_t id : ids) {
      if (IsLiveDeadLetterLocked(id)) selected.push_back(id);
    }
    std::sort(selected.begin(), selected.end());
    selected.erase(std::unique(selected.begin(), selected.end()), selected.end());
  }
  return selected;
}

Status LocalBackendImpl::RetireInDlq(const std::vector<uint64_t>& ids) {
  std::promise<log::AppendResult> done;
  auto future = done.get_future();
  dlq_log_->Append(EncodeRetire(ids), [&](const log::AppendResult& result) {
    {
      std::lock_guard lock(mutex_);
      NoteDlqAppendLocked(result, /*entry=*/false);
      if (result.durability == Durability::kTrue) {
        for (uint64_t id : ids) RetireDlqLocked(id);
        dlq_window_.Advance();
      }
    }
    done.set_value(result);
  });
  return FailureStatus(future.get(), "retiring dead letters");
}

Result<uint64_t> LocalBackendImpl::RedriveDeadLetters(const std::vector<uint64_t>& ids,
                                                      const RedriveTransform& transform) {
  std::lock_guard admin(admin_mutex_);
  {
    std::lock_guard lock(mutex_);
    if (closing_) return FailedPrecondition("backend is closed");
  }
  if (!transform) return InvalidArgument("redrive needs a transform");
  const std::vector<uint64_t> selected = SelectDeadLetters(ids);
  uint64_t moved = 0;
  for (size_t start = 0; start < selected.size(); start += kAdminChunk) {
    const size_t end = std::min(selected.size(), start + kAdminChunk);
    std::vector<uint64_t> chunk(selected.begin() + static_cast<std::ptrdiff_t>(start),
                                selected.begin() + static_cast<std::ptrdiff_t>(end));
    std::vector<QueueEntry> entries;
    entries.reserve(chunk.size());
    for (uint64_t id : chunk) {
      WAL_ASSIGN_OR_RETURN(std::vector<log::LogEntry> read, dlq_log_->Read(id, 1, kSingleReadBytes));
      if (read.empty() || read.front().id != id) return Internal("dead letter " + std::to_string(id) + " is not readable");
      Envelope envelope;
      WAL_RETURN_IF_ERROR(DecodeEnvelope(id, read.front().payload, &envelope).WithContext("dead-letter log"));
      if (envelope.kind != EnvelopeKind::kEntry) return Corruption("dead letter " + std::to_string(id) + " is a RETIRE");
      Result<QueueEntry> transformed = transform(std::string(envelope.record));
      if (!transformed.ok()) return transformed.status().WithContext("redriving dead letter " + std::to_string(id));
      entries.push_back(std::move(transformed).value());
    }
    // Durable on the main queue first; a crash before the DLQ RETIRE leaves a
    // duplicate (at-least-once), never a loss.
    AppendTracker tracker;
    for (QueueEntry& entry : entries) {
      tracker.Add(0);
      Append(std::move(entry), [&tracker](const AppendOutcome& outcome) {
        tracker.Done(0, outcome.durability == Durability::kTrue
                            ? Status::Ok()
                            : (outcome.status.ok() ? Internal("append not durable") : outcome.status));
      });
    }
    WAL_RETURN_IF_ERROR(tracker.WaitAll().WithContext("redrive: appending to the main log"));
    WAL_RETURN_IF_ERROR(RetireInDlq(chunk));
    moved += chunk.size();
  }
  return moved;
}

Result<uint64_t> LocalBackendImpl::PurgeDeadLetters(const std::vector<uint64_t>& ids) {
  std::lock_guard admin(admin_mutex_);
  {
    std::lock_guard lock(mutex_);
    if (closing_) return FailedPrecondition("backend is closed");
  }
  const std::vector<uint64_t> selected = SelectDeadLetters(ids);
  uint64_t purged = 0;
  for (size_t start = 0; start < selected.size(); start += kPurgeChunk) {
    const size_t end = std::min(selected.size(), start + kPurgeChunk);
    std::vector<uint64_t> chunk(selected.begin() + static_cast<std::ptrdiff_t>(start),
                                selected.begin() + static_cast<std::ptrdiff_t>(end));
    WAL_RETURN_IF_ERROR(RetireInDlq(chunk));
    purged += chunk.size();
  }
  return purged;
}

// ---------------------------------------------------------------------------
// Inspection

Result<std::vector<StoredEntry>> LocalBackendImpl::Read(uint64_t from_id, size_t limit) {
  std::vector<StoredEntry> stored;
  uint64_t next = from_id;
  while (stored.size() < limit) {
    const size_t want = std::clamp<size_t>(limit - stored.size(), 256, kScanBatchEntries);
    WAL_ASSIGN_OR_RETURN(std::vector<log::LogEntry> entries, main_log_->Read(next, want, 16u << 20));
    if (entries.empty()) break;
    for (log::LogEntry& entry : entries) {
      Envelope envelope;
      WAL_RETURN_IF_ERROR(DecodeEnvelope(entry.id, entry.payload, &envelope));
      if (envelope.kind != EnvelopeKind::kEntry) continue;
      stored.push_back(StoredEntry{entry.id, std::string(envelope.record)});
      if (stored.size() >= limit) break;
    }
    next = entries.back().id + 1;
  }
  return stored;
}

BackendStats LocalBackendImpl::Stats() const {
  const log::LogStats log_stats = main_log_->Stats();
  BackendStats stats;
  stats.first_id = log_stats.first_id;
  stats.log_end = log_stats.next_id;
  stats.segments = log_stats.segments;
  stats.bytes = log_stats.bytes;
  const int64_t now_ms = NowMs();
  std::lock_guard lock(mutex_);
  stats.writable = !log_stats.poisoned && !closing_;
  stats.consumed = main_window_.low();
  stats.pending = pending_;
  stats.in_flight = in_flight_.size();
  stats.dead_letters = dlq_live_;
  uint64_t delayed = 0;
  for (const HeapItem& item : heap_) {
    if (item.due_ms > now_ms && main_window_.IsPending(item.id)) ++delayed;
  }
  stats.pending_delayed = delayed;
  return stats;
}

// ---------------------------------------------------------------------------
// Maintenance: checkpoints, heap compaction, copy-forward

void LocalBackendImpl::MaintenanceLoop() {
  auto next_copy = std::chrono::steady_clock::now() + options_.copy_forward_interval;
  std::unique_lock wait_lock(maintenance_wait_mutex_);
  for (;;) {
    maintenance_cv_.wait_for(wait_lock, std::max(options_.checkpoint_interval, milliseconds(1)),
                             [&] { return maintenance_stop_; });
    if (maintenance_stop_) return;
    wait_lock.unlock();
    {
      std::lock_guard pass(maintenance_mutex_);
      (void)Checkpoint();
      CompactHeapIfNeeded();
      const auto now = std::chrono::steady_clock::now();
      if (options_.copy_forward_interval.count() > 0 && now >= next_copy) {
        Result<uint64_t> copied = CopyForward();
        if (!copied.ok()) {
          spdlog::warn("namespace {}: copy-forward failed: {}", name_, copied.status().ToString());
        } else if (copied.value() > 0) {
          (void)Checkpoint();
        }
        next_copy = std::chrono::steady_clock::now() + options_.copy_forward_interval;
      }
    }
    wait_lock.lock();
  }
}

Status LocalBackendImpl::Checkpoint() {
  uint64_t main_low, dlq_low;
  {
    std::lock_guard lock(mutex_);
    main_low = main_window_.low();
    dlq_low = dlq_window_.low();
  }
  Status status;
  if (main_low > main_checkpointed_) {
    status = main_log_->CommitConsumed(main_low);
    if (status.ok()) main_checkpointed_ = main_low;
  }
  if (status.ok() && dlq_low > dlq_checkpointed_) {
    status = dlq_log_->CommitConsumed(dlq_low);
    if (status.ok()) dlq_checkpointed_ = dlq_low;
  }
  if (!status.ok() && status.ToString() != last_checkpoint_error_) {
    spdlog::warn("namespace {}: checkpoint failed: {}", name_, status.ToString());
  }
  last_checkpoint_error_ = status.ok() ? "" : status.ToString();
  return status;
}

void LocalBackendImpl::CompactHeapIfNeeded() {
  std::lock_guard lock(mutex_);
  if (heap_.size() <= 2 * pending_ + 4096) return;
  std::erase_if(heap_, [&](const HeapItem& item) {
    return !main_window_.IsPending(item.id) || in_flight_.count(item.id) != 0;
  });
  std::make_heap(heap_.begin(), heap_.end(), HeapAfter{});
  if (heap_.capacity() > 2 * heap_.size() + 4096) heap_.shrink_to_fit();
}

Result<uint64_t> LocalBackendImpl::CopyForward() {
  uint64_t total = 0;
  for (;;) {
    const std::vector<uint64_t> first_ids = main_log_->SegmentFirstIds();
    std::vector<uint64_t> candidates;
    uint64_t target = 0;
    {
      std::lock_guard lock(mutex_);
      if (closing_ || first_ids.empty()) break;
      const uint64_t low = main_window_.low();
      auto it = std::upper_bound(first_ids.begin(), first_ids.end(), low);
      if (it == first_ids.begin()) break;
      const size_t index = static_cast<size_t>(it - first_ids.begin()) - 1;
      const size_t newer = first_ids.size() - 1 - index;
      if (newer < std::max<size_t>(options_.copy_forward_min_newer_segments, 1)) break;
      const uint64_t segment_start = first_ids[index];
      target = std::min(first_ids[index + 1], main_window_.end());
      uint64_t still_pending = 0;
      main_window_.ForEachPending(low, target, [&](uint64_t id) {
        ++still_pending;
        if (in_flight_.count(id) == 0 && copying_.count(id) == 0) candidates.push_back(id);
      });
      if (still_pending == 0 || candidates.empty()) break;
      const double fraction_limit = options_.copy_forward_max_fraction * static_cast<double>(target - segment_start);
      // Both bounds must hold: a segment that is mostly pending is not pinned by a
      // few stragglers, and copying it would only churn the log (a pure-log
      // namespace would be copied forward forever).
      if (still_pending > options_.copy_forward_max_entries || static_cast<double>(still_pending) > fraction_limit) {
        break;
      }
      for (uint64_t id : candidates) copying_.emplace(id, std::nullopt);
    }
    WAL_ASSIGN_OR_RETURN(uint64_t copied, CopyEntries(candidates));
    total += copied;
    spdlog::info("namespace {}: copied {} long-pending entries forward out of the segment ending at id {}", name_,
                 copied, target);
    {
      std::lock_guard lock(mutex_);
      ++local_stats_.copy_forward_passes;
      local_stats_.entries_copied_forward += copied;
      if (main_window_.low() < target) break;  // held entries still pin it; try next pass
    }
  }
  return total;
}

Result<uint64_t> LocalBackendImpl::CopyEntries(const std::vector<uint64_t>& candidates) {
  AppendTracker tracker;
  size_t index = 0;
  uint64_t next = candidates.front();
  Status status;
  while (index < candidates.size() && status.ok()) {
    Result<std::vector<log::LogEntry>> read = main_log_->Read(next, 4096, 4u << 20);
    if (!read.ok()) {
      status = read.status();
      break;
    }
    if (read->empty()) {
      status = Internal("copy-forward: pending entry " + std::to_string(candidates[index]) + " is past the log end");
      break;
    }
    for (const log::LogEntry& entry : read.value()) {
      if (index >= candidates.size()) break;
      if (entry.id != candidates[index]) continue;
      Envelope envelope;
      status = DecodeEnvelope(entry.id, entry.payload, &envelope);
      if (!status.ok()) break;
      if (envelope.kind != EnvelopeKind::kEntry) {
        status = Corruption("log id " + std::to_string(entry.id) + " is indexed as an entry but holds a RETIRE");
        break;
      }
      // Same record, due time and key; `supersedes` makes the old copy done
      // (also for recovery) once the new one is durable.
      std::string payload = EncodeEntry(envelope.due_ms, entry.id, std::nullopt, envelope.ordering_key,
                                        envelope.record);
      const uint64_t bytes = payload.size();
      tracker.WaitBelow(kCopyForwardMaxBytesInFlight);
      tracker.Add(bytes);
      main_log_->Append(std::move(payload), [this, &tracker, old_id = entry.id, due_ms = envelope.due_ms,
                                             bytes](const log::AppendResult& result) {
        const Status appended = FailureStatus(result, "copy-forward append");
        {
          std::lock_guard lock(mutex_);
          NoteMainAppendLocked(result, due_ms);
          auto it = copying_.find(old_id);
          std::optional<int64_t> popped_due = it != copying_.end() ? it->second : std::nullopt;
          if (it != copying_.end()) copying_.erase(it);
          if (appended.ok()) {
            RetireLocked(old_id);
            main_window_.Advance();
          } else if (popped_due && main_window_.IsPending(old_id)) {
            PushHeapLocked({*popped_due, old_id});
            poll_cv_.notify_all();
          }
        }
        tracker.Done(bytes, appended);
      });
      ++index;
    }
    next = read->back().id + 1;
  }
  {
    // Whatever was not appended goes back to normal service.
    std::lock_guard lock(mutex_);
    for (; index < candidates.size(); ++index) {
      auto it = copying_.find(candidates[index]);
      if (it == copying_.end()) continue;
      std::optional<int64_t> popped_due = it->second;
      copying_.erase(it);
      if (popped_due && main_window_.IsPending(candidates[index])) {
        PushHeapLocked({*popped_due, candidates[index]});
        poll_cv_.notify_all();
      }
    }
  }
  Status appended = tracker.WaitAll();
  if (!status.ok()) return status.WithContext("copy-forward");
  if (!appended.ok()) return appended;
  return tracker.succeeded();
}

// ---------------------------------------------------------------------------
// Close

Status LocalBackendImpl::Close() {
  std::lock_guard close_lock(close_mutex_);
  if (closed_) return Status::Ok();
  closed_ = true;
  std::lock_guard admin(admin_mutex_);  // no DLQ administration in progress
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
  }
  poll_cv_.notify_all();
  {
    std::lock_guard lock(maintenance_wait_mutex_);
    maintenance_stop_ = true;
  }
  maintenance_cv_.notify_all();
  if (maintenance_thread_.joinable()) maintenance_thread_.join();

  // DLQ appends in flight finish first: their callbacks queue main RETIREs.
  Status dlq_status = dlq_log_->Close();
  {
    std::lock_guard lock(mutex_);
    retire_stop_ = true;
  }
  retire_cv_.notify_all();
  if (retire_thread_.joinable()) retire_thread_.join();
  {
    std::lock_guard pass(maintenance_mutex_);
    (void)Checkpoint();
  }
  Status main_status = main_log_->Close();
  if (!main_status.ok()) return main_status;
  return dlq_status;
}

Result<std::unique_ptr<log::Log>> OpenLog(const BackendContext& context, const config::NamespaceConfig& config,
                                          const std::string& subdirectory) {
  log::LogOptions options;
  options.directory = JoinPath(context.data_dir, subdirectory);
  const LocalBackendConfig& local = config.backend.settings.Get<LocalBackendConfig>();
  options.segment_bytes = local.segment_bytes;
  options.preallocate = local.preallocate;
  // A record holds the payload plus its envelope; leave room for the envelope.
  options.max_record_bytes = config.max_payload_bytes + (64u << 10);
  WAL_RETURN_IF_ERROR(context.file_system->CreateDirectories(options.directory));
  log::RecoveryReport report;
  auto opened = log::Log::Open(context.file_system, options, &report);
  if (!opened.ok()) return opened.status().WithContext("namespace " + config.name + " " + subdirectory);
  if (report.truncated_tail_bytes > 0) {
    spdlog::warn("namespace {}: {} recovery cut a torn tail of {} bytes (unacknowledged writes)", config.name,
                 subdirectory, report.truncated_tail_bytes);
  }
  return opened;
}

}  // namespace

Result<std::unique_ptr<LocalBackend>> OpenLocalBackend(const BackendContext& context,
                                                       const config::NamespaceConfig& config,
                                                       const LocalBackendOptions& options) {
  if (context.file_system == nullptr) return InvalidArgument("BackendContext.file_system is null");
  WAL_ASSIGN_OR_RETURN(std::unique_ptr<log::Log> main_log, OpenLog(context, config, "log"));
  WAL_ASSIGN_OR_RETURN(std::unique_ptr<log::Log> dlq_log, OpenLog(context, config, "dlq"));
  auto backend = std::make_unique<LocalBackendImpl>(config.name, std::move(main_log), std::move(dlq_log), options);
  Status recovered = backend->Recover();
  if (!recovered.ok()) {
    (void)backend->Close();
    return recovered.WithContext("namespace " + config.name);
  }
  backend->StartThreads();
  const BackendStats stats = backend->Stats();
  spdlog::info("namespace {}: embedded log open: {} segments, {} pending ({} delayed), {} dead letters, recovery {} ms",
               config.name, stats.segments, stats.pending, stats.pending_delayed, stats.dead_letters,
               backend->LocalStats().recovery_millis);
  return std::unique_ptr<LocalBackend>(std::move(backend));
}

Result<std::unique_ptr<Backend>> OpenLocalBackend(const BackendContext& context, const config::NamespaceConfig& config) {
  WAL_ASSIGN_OR_RETURN(std::unique_ptr<LocalBackend> backend, OpenLocalBackend(context, config, LocalBackendOptions{}));
  return std::unique_ptr<Backend>(std::move(backend));
}

}  // namespace wal::queue::local
