#include "engine/idempotency.h"

#include <google/protobuf/util/time_util.h>

#include "engine/stored_records.h"
#include "wal/v1/record.pb.h"

namespace wal::engine {

IdempotencyTable::Claim IdempotencyTable::Begin(const std::string& key, Clock::time_point now, const Answer& answer) {
  v1::WriteToLogResponse duplicate;
  {
    std::lock_guard lock(mutex_);
    EvictExpired(now);
    auto found = slots_.find(key);
    if (found == slots_.end() || (found->second.done && found->second.expires <= now)) {
      slots_[key] = Slot{};
      return Claim::kFirst;
    }
    Slot& slot = found->second;
    if (!slot.done) {
      slot.waiters.push_back(answer);
      return Claim::kWaiting;
    }
    duplicate.set_durable(v1::TRUE);
    duplicate.set_id(slot.id);
    duplicate.set_message("duplicate: idempotency key already written as entry " + std::to_string(slot.id));
  }
  answer(duplicate);
  return Claim::kDuplicate;
}

void IdempotencyTable::Finish(const std::string& key, const v1::WriteToLogResponse& response, Clock::time_point now) {
  std::vector<Answer> waiters;
  {
    std::lock_guard lock(mutex_);
    auto found = slots_.find(key);
    if (found == slots_.end()) return;
    waiters.swap(found->second.waiters);
    if (response.durable() == v1::TRUE) {
      found->second.done = true;
      found->second.id = response.id();
      found->second.expires = now + window_;
    } else {
      slots_.erase(found);
    }
  }
  v1::WriteToLogResponse for_waiters = response;
  if (response.durable() == v1::TRUE) {
    for_waiters.set_message("duplicate: idempotency key already written as entry " + std::to_string(response.id()));
  }
  for (const Answer& waiter : waiters) waiter(for_waiters);
}

void IdempotencyTable::Remember(const std::string& key, uint64_t id, Clock::time_point accepted) {
  std::lock_guard lock(mutex_);
  Slot& slot = slots_[key];
  const Clock::time_point expires = accepted + window_;
  // Same accepted time: another copy of the same write; keep the oldest.
  if (slot.done && (slot.expires > expires || (slot.expires == expires && slot.id <= id))) return;
  slot.done = true;
  slot.id = id;
  slot.expires = expires;
}

void IdempotencyTable::set_window(std::chrono::seconds window) {
  std::lock_guard lock(mutex_);
  window_ = window;
}

std::chrono::seconds IdempotencyTable::window() const {
  std::lock_guard lock(mutex_);
  return window_;
}

size_t IdempotencyTable::size() const {
  std::lock_guard lock(mutex_);
  return slots_.size();
}

void IdempotencyTable::EvictExpired(Clock::time_point now) {
  // A full sweep at most once a second keeps Begin() O(1) amortised.
  if (now < next_eviction_) return;
  next_eviction_ = now + std::chrono::seconds(1);
  for (auto it = slots_.begin(); it != slots_.end();) {
    if (it->second.done && it->second.expires <= now) {
      it = slots_.erase(it);
    } else {
      ++it;
    }
  }
}

RestoreReport RestoreIdempotencyKeys(queue::Backend& backend, IdempotencyTable& table,
                                     IdempotencyTable::Clock::time_point now) {
  using google::protobuf::util::TimeUtil;
  RestoreReport report;
  const auto window = table.window();
  report.status =
      ForEachStoredEntry(backend, StoredStream::kLog, backend.Stats().first_id, [&](const queue::StoredEntry& entry) {
        v1::LogRecord record;
        if (!record.ParseFromString(entry.record) || record.idempotency_key().empty()) return;
        const IdempotencyTable::Clock::time_point accepted(
            std::chrono::milliseconds(TimeUtil::TimestampToMilliseconds(record.accepted_time())));
        if (accepted + window <= now) return;
        // A retried copy names the write's id; the original may be gone (retired).
        table.Remember(record.idempotency_key(), record.entry_id() != 0 ? record.entry_id() : entry.id, accepted);
        ++report.restored;
      });
  return report;
}

}  // namespace wal::engine
