#include "queue/local/local_backend_impl.h"

#include <future>

#include "queue/local/envelope.h"

// The retire loop: one thread turns the Complete()s that arrive while a RETIRE
// is being made durable into the next RETIRE record, so a busy consumer costs
// one group-committed record per batch, not one per entry.

namespace wal::queue::local {

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

}  // namespace wal::queue::local
