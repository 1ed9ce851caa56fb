#include "queue/local/local_backend_impl.h"

#include <spdlog/spdlog.h>

#include <future>

#include "queue/local/envelope.h"

// The retire loop: one thread turns the Complete()s that arrive while a RETIRE
// is being made durable into the next RETIRE record, so a busy consumer costs
// one group-committed record per batch, not one per entry. It also retries, with
// backoff, the RETIREs of dead-lettered entries that failed.

namespace wal::queue::local {

std::vector<RetireRequest> LocalBackendImpl::NextRetireBatchLocked(std::unique_lock<std::mutex>& lock) {
  for (;;) {
    if (!retire_stop_) {
      // Retries that are due join the queue; a stopping loop drops them (the
      // entries stay pending in the log, and recovery retires them because their
      // dead letters name them as their source).
      const auto now = std::chrono::steady_clock::now();
      for (auto it = retire_retries_.begin(); it != retire_retries_.end();) {
        if (it->not_before > now) {
          ++it;
          continue;
        }
        retire_queue_.push_back(std::move(it->request));
        it = retire_retries_.erase(it);
      }
    }
    if (!retire_queue_.empty()) break;
    if (retire_stop_) {
      if (!retire_retries_.empty()) {
        spdlog::warn("namespace {}: closing with {} dead-lettered entries not yet retired; the next open retires them",
                     name_, retire_retries_.size());
      }
      return {};  // stopping, and everything queued was answered
    }
    if (retire_retries_.empty()) {
      retire_cv_.wait(lock);
    } else {
      auto earliest = retire_retries_.front().not_before;
      for (const RetireRetry& retry : retire_retries_) earliest = std::min(earliest, retry.not_before);
      retire_cv_.wait_until(lock, earliest);
    }
  }
  const size_t n = std::min(retire_queue_.size(), kMaxRetireBatch);
  std::vector<RetireRequest> batch(std::make_move_iterator(retire_queue_.begin()),
                                   std::make_move_iterator(retire_queue_.begin() + static_cast<std::ptrdiff_t>(n)));
  retire_queue_.erase(retire_queue_.begin(), retire_queue_.begin() + static_cast<std::ptrdiff_t>(n));
  return batch;
}

void LocalBackendImpl::RetireLoop() {
  for (;;) {
    std::vector<RetireRequest> batch;
    {
      std::unique_lock lock(mutex_);
      batch = NextRetireBatchLocked(lock);
    }
    if (batch.empty()) return;
    std::vector<uint64_t> delivered;
    std::vector<uint64_t> dead_lettered;
    delivered.reserve(batch.size());
    for (const RetireRequest& request : batch) (request.dead_letter_id ? dead_lettered : delivered).push_back(request.id);
    // One RETIRE at a time: completions arriving meanwhile form the next batch.
    std::promise<void> finished;
    auto future = finished.get_future();
    AppendControl(*main_log_, EncodeRetireWithOutcomes(delivered, dead_lettered), [&](const log::AppendResult& result) {
      const Status status = FailureStatus(result, "retiring entries");
      {
        std::lock_guard lock(mutex_);
        NoteMainAppendLocked(result, std::nullopt);
        for (const RetireRequest& request : batch) {
          if (status.ok()) {
            RetireLocked(request.id, request.dead_letter_id ? RetiredOutcomes::Outcome::kDeadLettered
                                                            : RetiredOutcomes::Outcome::kDelivered);
            if (request.dead_letter_id) dlq_hidden_.erase(*request.dead_letter_id);
          } else if (request.dead_letter_id) {
            // Its dead letter is durable: handing it out again would dead-letter
            // it twice. It stays held, and the RETIRE is tried again later.
            ++local_stats_.dead_letter_retire_retries;
            const auto not_before = std::chrono::steady_clock::now() + ReleaseBackoffLocked(request.id);
            retire_retries_.push_back(RetireRetry{RetireRequest{request.id, nullptr, request.dead_letter_id}, not_before});
          } else {
            ReleaseHoldLocked(request.id);
          }
        }
        if (status.ok()) main_window_.Advance();
      }
      for (RetireRequest& request : batch) {
        if (request.done) request.done(status);
      }
      finished.set_value();
    });
    future.wait();
  }
}

}  // namespace wal::queue::local
