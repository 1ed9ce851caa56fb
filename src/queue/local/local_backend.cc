#include "queue/local/local_backend.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "queue/local/envelope.h"
#include "queue/local/local_backend_impl.h"
#include "queue/local/local_config.h"

// The local backend itself: produce, consume, inspect, close and open. The
// other pieces of LocalBackendImpl are listed in local_backend_impl.h.

namespace wal::queue::local {

using std::chrono::milliseconds;

Status FailureStatus(const log::AppendResult& result, std::string_view what) {
  if (result.durability == Durability::kTrue) return Status::Ok();
  Status status = result.status.ok() ? Internal("append not durable") : result.status;
  return status.WithContext(std::string(what) + " (durability " + std::string(DurabilityName(result.durability)) + ")");
}

void AppendTracker::Add(uint64_t bytes) {
  std::lock_guard lock(mutex_);
  ++outstanding_;
  bytes_ += bytes;
}

void AppendTracker::Done(uint64_t bytes, const Status& status) {
  std::lock_guard lock(mutex_);
  --outstanding_;
  bytes_ -= bytes;
  if (status.ok()) ++succeeded_;
  if (!status.ok() && first_error_.ok()) first_error_ = status;
  cv_.notify_all();
}

void AppendTracker::WaitBelow(uint64_t max_bytes) {
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [&] { return bytes_ <= max_bytes; });
}

Status AppendTracker::WaitAll() {
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [&] { return outstanding_ == 0; });
  return first_error_;
}

uint64_t AppendTracker::succeeded() {
  std::lock_guard lock(mutex_);
  return succeeded_;
}

LocalBackendStats LocalBackendImpl::LocalStats() const {
  std::lock_guard lock(mutex_);
  LocalBackendStats stats = local_stats_;
  stats.dlq_consumed = dlq_window_.low();
  return stats;
}

void LocalBackendImpl::ReportProblemLocked(const std::string& problem) {
  spdlog::error("namespace {}: {}", name_, problem);
  if (problems_.find(problem) != std::string::npos) return;
  if (!problems_.empty()) problems_ += "; ";
  problems_ += problem;
}

void LocalBackendImpl::ReportOutsideWindowLocked(std::string_view which, uint64_t id, const IdWindow& window) {
  ReportProblemLocked(std::string(which) + " entry " + std::to_string(id) + " is outside the in-memory window [" +
                      std::to_string(window.low()) + ", " + std::to_string(window.end()) +
                      "); it is stored but not delivered until a restart");
}

void LocalBackendImpl::ReleaseHoldLocked(uint64_t id) {
  auto it = in_flight_.find(id);
  if (it == in_flight_.end()) return;
  const int64_t due_ms = it->second;
  in_flight_.erase(it);
  if (!main_window_.IsPending(id)) return;
  ++local_stats_.released_after_failure;
  // The heap item carries the hold-back; the entry's stored due time, which
  // Poll hands out, does not change.
  const int64_t held_until = NowMillis() + ReleaseBackoffLocked(id).count();
  PushHeapLocked({std::max(due_ms, held_until), id});
  poll_cv_.notify_all();
}

milliseconds LocalBackendImpl::ReleaseBackoffLocked(uint64_t id) {
  const uint32_t failures = ++release_failures_[id];
  const milliseconds cap = std::max(options_.release_backoff_max, milliseconds(1));
  milliseconds backoff = std::max(options_.release_backoff_initial, milliseconds(1));
  for (uint32_t i = 1; i < failures && backoff < cap; ++i) backoff *= 2;
  return std::min(backoff, cap);
}

Status LocalBackendImpl::CheckAppendSize(size_t bytes, std::string_view what) const {
  if (bytes <= settings_.max_append_bytes) return Status::Ok();
  return InvalidArgument(std::string(what) + " of " + std::to_string(bytes) + " bytes (with its envelope) is over " +
                         std::to_string(settings_.max_append_bytes) +
                         ", the namespace's max_payload_bytes plus 64 KiB of room; it can never be stored");
}

LocalBackendImpl::Hold LocalBackendImpl::CheckHeldLocked(uint64_t id, Status* why) const {
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
  const int64_t due_ms = ToMillisRoundedUp(entry.due);
  std::string payload = EncodeEntry(due_ms, std::nullopt, std::nullopt, entry.ordering_key, entry.record);
  entry.record.clear();
  entry.record.shrink_to_fit();
  if (Status too_large = CheckAppendSize(payload.size(), "entry"); !too_large.ok()) {
    if (callback) callback(AppendOutcome{Durability::kFalse, 0, too_large});
    return;
  }
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
      const int64_t now_ms = NowMillis();
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
        sleep = std::min(sleep, milliseconds(std::max<int64_t>(heap_.front().due_ms - NowMillis(), 1)));
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
    delivery.entry.due = FromMillis(envelope.due_ms);
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
      retire_queue_.push_back(RetireRequest{delivery.id, std::move(callback), std::nullopt});
      retire_cv_.notify_one();
      return;
    }
  }
  if (callback) callback(hold == Hold::kDone ? Status::Ok() : why);
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
  const int64_t due_ms = ToMillisRoundedUp(replacement.due);
  std::string payload = EncodeEntry(due_ms, original, std::nullopt, replacement.ordering_key, replacement.record);
  if (Status too_large = CheckAppendSize(payload.size(), "replacement"); !too_large.ok()) {
    {
      std::lock_guard lock(mutex_);
      ReleaseHoldLocked(original);
    }
    if (callback) callback(too_large);
    return;
  }
  AppendControl(*main_log_, std::move(payload),
                [this, original, due_ms, callback = std::move(callback)](const log::AppendResult& result) {
                  const Status status = FailureStatus(result, "appending the replacement");
                  {
                    std::lock_guard lock(mutex_);
                    NoteMainAppendLocked(result, due_ms);
                    if (status.ok()) {
                      RetireLocked(original, RetiredOutcomes::Outcome::kSuperseded);
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
  std::string payload = EncodeEntry(ToMillisRoundedUp(delivery.entry.due), std::nullopt, original, key, dead_record);
  dead_record.clear();
  dead_record.shrink_to_fit();
  if (Status too_large = CheckAppendSize(payload.size(), "dead letter"); !too_large.ok()) {
    {
      std::lock_guard lock(mutex_);
      ReleaseHoldLocked(original);
    }
    if (callback) callback(too_large);
    return;
  }
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
    // The DLQ entry is listed once the original's RETIRE is durable; the retire
    // loop retries that RETIRE rather than ever handing the original out again.
    EnqueueRetire(RetireRequest{original, std::move(callback), result.id});
  });
}

// ---------------------------------------------------------------------------
// Inspection

Result<std::vector<StoredEntry>> LocalBackendImpl::Read(uint64_t from_id, size_t limit) {
  return ReadBounded(from_id, limit, UINT64_MAX);
}

Result<std::vector<StoredEntry>> LocalBackendImpl::ReadBounded(uint64_t from_id, size_t limit, uint64_t max_bytes) {
  std::vector<StoredEntry> stored;
  uint64_t bytes = 0;
  uint64_t next = from_id;
  bool full = false;
  while (!full && stored.size() < limit) {
    const size_t want = std::clamp<size_t>(limit - stored.size(), 256, kScanBatchEntries);
    // The log's own byte bound keeps each batch near max_bytes (it returns at
    // least one entry), so a capped page never reads far past its cap.
    const size_t batch_bytes = static_cast<size_t>(std::min<uint64_t>(16u << 20, std::max<uint64_t>(max_bytes, 1)));
    WAL_ASSIGN_OR_RETURN(std::vector<log::LogEntry> entries, main_log_->Read(next, want, batch_bytes));
    if (entries.empty()) break;
    for (log::LogEntry& entry : entries) {
      Envelope envelope;
      WAL_RETURN_IF_ERROR(DecodeEnvelope(entry.id, entry.payload, &envelope));
      if (envelope.kind != EnvelopeKind::kEntry) continue;
      if (!stored.empty() && bytes + envelope.record.size() > max_bytes) {
        full = true;
        break;
      }
      bytes += envelope.record.size();
      stored.push_back(StoredEntry{entry.id, std::string(envelope.record)});
      if (stored.size() >= limit) break;
    }
    next = entries.back().id + 1;
  }
  // The state is read after the records, so it may be newer than they are (an
  // entry retired meanwhile reads as done): never older.
  std::lock_guard lock(mutex_);
  for (StoredEntry& entry : stored) {
    if (main_window_.IsPending(entry.id)) {
      entry.state = in_flight_.contains(entry.id) ? StoredState::kInFlight : StoredState::kPending;
      continue;
    }
    switch (outcomes_.Get(entry.id)) {
      case RetiredOutcomes::Outcome::kNotRecorded: entry.state = StoredState::kDone; break;
      case RetiredOutcomes::Outcome::kDelivered: entry.state = StoredState::kDelivered; break;
      case RetiredOutcomes::Outcome::kDeadLettered: entry.state = StoredState::kDeadLettered; break;
      case RetiredOutcomes::Outcome::kSuperseded: entry.state = StoredState::kSuperseded; break;
    }
  }
  return stored;
}

uint64_t LocalBackendImpl::Pending() const {
  std::lock_guard lock(mutex_);
  return pending_;
}

BackendStats LocalBackendImpl::Stats() const {
  const log::LogStats log_stats = main_log_->Stats();
  BackendStats stats;
  stats.first_id = log_stats.first_id;
  stats.log_end = log_stats.next_id;
  stats.segments = log_stats.segments;
  stats.bytes = log_stats.bytes;
  const int64_t now_ms = NowMillis();
  std::lock_guard lock(mutex_);
  stats.writable = !log_stats.poisoned && !closing_;
  stats.error = problems_;
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

namespace {

// Everything the backend reads from the namespace config.
LocalSettings SettingsFromConfig(const config::NamespaceConfig& config) {
  LocalSettings settings;
  const LocalBackendConfig& local = config.backend.settings.Get<LocalBackendConfig>();
  settings.segment_bytes = local.segment_bytes;
  settings.preallocate = local.preallocate;
  // A record holds the payload plus its envelope and the engine's record
  // fields; leave room for them.
  settings.max_append_bytes = config.max_payload_bytes + (64u << 10);
  return settings;
}

Result<std::unique_ptr<log::Log>> OpenLog(FileSystem* file_system, const std::string& directory,
                                          const LocalSettings& settings, const std::string& name,
                                          const std::string& subdirectory) {
  log::LogOptions options;
  options.directory = directory;
  options.segment_bytes = settings.segment_bytes;
  options.preallocate = settings.preallocate;
  options.max_record_bytes = kLogRecordFormatLimit;
  WAL_RETURN_IF_ERROR(file_system->CreateDirectories(options.directory));
  log::RecoveryReport report;
  auto opened = log::Log::Open(file_system, options, &report);
  if (!opened.ok()) return opened.status().WithContext("namespace " + name + " " + subdirectory);
  if (report.truncated_tail_bytes > 0) {
    spdlog::warn("namespace {}: {} recovery cut a torn tail of {} bytes (unacknowledged writes)", name, subdirectory,
                 report.truncated_tail_bytes);
  }
  return opened;
}

}  // namespace

Result<std::unique_ptr<LocalBackend>> StartLocalBackend(std::string name, std::unique_ptr<log::Log> main_log,
                                                        std::unique_ptr<log::Log> dlq_log,
                                                        const LocalBackendOptions& options,
                                                        const LocalSettings& settings) {
  auto backend = std::make_unique<LocalBackendImpl>(name, std::move(main_log), std::move(dlq_log), options, settings);
  Status recovered = backend->Recover();
  if (!recovered.ok()) {
    (void)backend->Close();
    return recovered.WithContext("namespace " + name);
  }
  backend->StartThreads();
  const BackendStats stats = backend->Stats();
  spdlog::info("namespace {}: embedded log open: {} segments, {} pending ({} delayed), {} dead letters, recovery {} ms",
               name, stats.segments, stats.pending, stats.pending_delayed, stats.dead_letters,
               backend->LocalStats().recovery_millis);
  return std::unique_ptr<LocalBackend>(std::move(backend));
}

Result<std::unique_ptr<LocalBackend>> OpenLocalBackend(const BackendContext& context,
                                                       const config::NamespaceConfig& config,
                                                       const LocalBackendOptions& options) {
  if (context.file_system == nullptr) return InvalidArgument("BackendContext.file_system is null");
  const LocalSettings settings = SettingsFromConfig(config);
  WAL_ASSIGN_OR_RETURN(std::unique_ptr<log::Log> main_log,
                       OpenLog(context.file_system, JoinPath(context.data_dir, "log"), settings, config.name, "log"));
  WAL_ASSIGN_OR_RETURN(std::unique_ptr<log::Log> dlq_log,
                       OpenLog(context.file_system, JoinPath(context.data_dir, "dlq"), settings, config.name, "dlq"));
  return StartLocalBackend(config.name, std::move(main_log), std::move(dlq_log), options, settings);
}

Result<std::unique_ptr<Backend>> OpenLocalBackend(const BackendContext& context, const config::NamespaceConfig& config) {
  WAL_ASSIGN_OR_RETURN(std::unique_ptr<LocalBackend> backend, OpenLocalBackend(context, config, LocalBackendOptions{}));
  return std::unique_ptr<Backend>(std::move(backend));
}

}  // namespace wal::queue::local
