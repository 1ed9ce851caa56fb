#include "queue/local/local_backend_impl.h"

#include <spdlog/spdlog.h>

#include "queue/local/envelope.h"

// Maintenance: the background thread's periodic checkpoints (which let the log
// delete fully consumed segments), heap compaction, and copy-forward, which
// re-appends the few long-pending entries that would otherwise pin old
// segments.

namespace wal::queue::local {

using std::chrono::milliseconds;

Result<uint64_t> LocalBackendImpl::RunMaintenance() {
  std::lock_guard pass(maintenance_mutex_);
  Status checkpointed = Checkpoint();
  Result<uint64_t> copied = CopyForward();
  if (!copied.ok()) return copied;
  Status after = Checkpoint();
  if (!checkpointed.ok()) return checkpointed;
  if (!after.ok()) return after;
  return copied;
}

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
  // The two logs are checkpointed independently: one failing must not stop the
  // other from reclaiming its space.
  Status main_status;
  if (main_low > main_checkpointed_) {
    main_status = main_log_->CommitConsumed(main_low);
    if (main_status.ok()) {
      main_checkpointed_ = main_low;
      // The checkpoint lets the log delete consumed segments; their records'
      // outcomes can no longer be read.
      const uint64_t first = main_log_->Stats().first_id;
      std::lock_guard lock(mutex_);
      outcomes_.DropBelow(first);
    }
  }
  Status dlq_status;
  if (dlq_low > dlq_checkpointed_) {
    dlq_status = dlq_log_->CommitConsumed(dlq_low);
    if (dlq_status.ok()) dlq_checkpointed_ = dlq_low;
  }
  const Status status = !main_status.ok() ? main_status.WithContext("log") : dlq_status.WithContext("dead-letter log");
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
            RetireLocked(old_id, RetiredOutcomes::Outcome::kSuperseded);
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

}  // namespace wal::queue::local
