#include "queue/sqs/sqs_backend_impl.h"

// The messages this process holds (handed out or buffered), and the heartbeat
// that keeps them hidden while it holds them.

namespace wal::queue::sqs {

void SqsBackend::Forget(uint64_t id) {
  std::lock_guard lock(inflight_mutex_);
  inflight_.erase(id);
}

void SqsBackend::HeartbeatLoop() {
  const auto period = std::max<milliseconds>(milliseconds(500), options_.in_flight_visibility / 3);
  std::unique_lock lock(inflight_mutex_);
  while (!heartbeat_stop_) {
    heartbeat_cv_.wait_for(lock, period);
    if (heartbeat_stop_) break;
    std::vector<std::pair<uint64_t, std::string>> due;
    auto now = Steady::now();
    for (const auto& [id, held] : inflight_) {
      if (now - held.extended_at >= period) due.emplace_back(id, held.receipt);
    }
    if (due.empty()) continue;
    lock.unlock();
    {
      std::lock_guard serial(heartbeat_mutex_);
      auto url = MainUrl();
      for (const auto& [id, receipt] : due) {
        if (!url.ok()) break;
        {
          std::lock_guard check(inflight_mutex_);
          auto it = inflight_.find(id);
          if (it == inflight_.end() || it->second.receipt != receipt) continue;  // retired meanwhile
        }
        Status status =
            client_.ChangeMessageVisibility(*url, receipt, static_cast<int>(options_.in_flight_visibility.count()));
        std::lock_guard update(inflight_mutex_);
        auto it = inflight_.find(id);
        if (it == inflight_.end()) continue;
        if (status.ok()) {
          it->second.extended_at = Steady::now();
        } else if (status.code() == StatusCode::kInvalidArgument) {
          inflight_.erase(it);  // the receipt expired: SQS already made the message visible again
        }
      }
    }
    lock.lock();
  }
}

}  // namespace wal::queue::sqs
