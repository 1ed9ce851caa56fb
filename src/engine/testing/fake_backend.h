// FakeBackend: a queue::Backend held in memory, for engine unit tests. It is a
// real queue, not a recording: appends get ids, Poll hands out due entries in
// due-time order (by the clock it was given, so a test moves time by hand),
// Reschedule replaces an entry with a new one at the log's end, DeadLetter
// moves it to a DLQ that can be listed, redriven and purged, and Read pages
// through everything appended.
//
// Fault switches make each seam fail on demand: appends answered FALSE or
// UNKNOWN, polls that fail, retirements that fail (the entry stays in flight,
// as a real backend keeps it pending), reads that fail from the nth on. Reads
// hand out short pages (at most `page_entries` per call, as real backends may)
// so paging code is exercised.
//
// Threading: every method is thread-safe; callbacks run inline on the
// caller's thread (allowed: the contract says "a backend thread, or inline").
// Poll waits on a condition variable for at most `wait` (real time), and is
// woken by every append and retirement.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/time.h"
#include "queue/queue.h"

namespace wal::engine::testing {

class FakeBackend final : public queue::Backend {
 public:
  explicit FakeBackend(const Clock& clock = SystemClock()) : clock_(clock) {}

  // ---- Setup and fault switches --------------------------------------------

  // A record already stored in the main log at `id` (as if written before),
  // not pending delivery. Ids must increase; appends continue after it.
  void AddEntry(uint64_t id, std::string record) {
    std::lock_guard lock(mutex_);
    log_.push_back({id, std::move(record)});
    next_id_ = std::max(next_id_, id + 1);
  }
  // A record already in the DLQ at `id`.
  void AddDeadLetter(uint64_t id, std::string record) {
    std::lock_guard lock(mutex_);
    dead_letters_[id] = std::move(record);
    next_dead_id_ = std::max(next_dead_id_, id + 1);
  }
  // Appends are answered with `durability` (and `status`) instead of being
  // stored; kTrue stores again. kUnknown stores the entry (it may have been).
  void SetAppendOutcome(Durability durability, Status status = Status::Ok()) {
    std::lock_guard lock(mutex_);
    append_durability_ = durability;
    append_status_ = std::move(status);
  }
  // Every Poll fails with `status` until cleared with OK.
  void FailPolls(Status status) {
    std::lock_guard lock(mutex_);
    poll_status_ = std::move(status);
  }
  // Every Complete/Reschedule/DeadLetter fails with `status` (nothing changes,
  // the entry stays in flight) until cleared with OK.
  void FailRetirements(Status status) {
    std::lock_guard lock(mutex_);
    retire_status_ = std::move(status);
  }
  // The `n`th read from now (1 = the next one), of either stream, and every
  // read after it fail with IOError; 0 disarms.
  void FailReadsFrom(int n) {
    std::lock_guard lock(mutex_);
    fail_reads_from_ = n;
    reads_ = 0;
  }
  size_t page_entries = 3;

  // ---- Inspection ----------------------------------------------------------

  struct Pending {
    uint64_t id;
    queue::QueueEntry entry;
    bool in_flight;
  };
  // Entries appended and not yet retired, in id order.
  std::vector<Pending> PendingEntries() const {
    std::lock_guard lock(mutex_);
    std::vector<Pending> pending;
    for (const auto& [id, slot] : pending_) pending.push_back({id, slot.entry, slot.in_flight});
    return pending;
  }
  std::vector<queue::StoredEntry> DeadLetterEntries() const {
    std::lock_guard lock(mutex_);
    std::vector<queue::StoredEntry> entries;
    for (const auto& [id, record] : dead_letters_) entries.push_back({id, record});
    return entries;
  }
  // How many Poll calls have returned so far (a test waits for the consumer
  // to have looked, instead of sleeping).
  uint64_t polls() const {
    std::lock_guard lock(mutex_);
    return polls_;
  }
  bool closed() const {
    std::lock_guard lock(mutex_);
    return closed_;
  }

  // ---- queue::Backend ------------------------------------------------------

  void Append(queue::QueueEntry entry, queue::AppendCallback callback) override {
    queue::AppendOutcome outcome;
    {
      std::lock_guard lock(mutex_);
      if (closed_) {
        outcome = {Durability::kFalse, 0, FailedPrecondition("fake backend: closed")};
      } else if (append_durability_ == Durability::kFalse) {
        outcome = {Durability::kFalse, 0, append_status_};
      } else {
        outcome = {append_durability_, StoreLocked(std::move(entry)), append_status_};
      }
    }
    wake_.notify_all();
    callback(outcome);
  }

  Result<std::vector<queue::Delivery>> Poll(size_t max_entries, std::chrono::milliseconds wait) override {
    std::unique_lock lock(mutex_);
    std::vector<queue::Delivery> deliveries;
    const auto deadline = std::chrono::steady_clock::now() + wait;
    for (;;) {
      if (!poll_status_.ok()) {
        ++polls_;
        return poll_status_;
      }
      CollectDueLocked(max_entries, &deliveries);
      if (!deliveries.empty() || closed_ || wake_.wait_until(lock, deadline) == std::cv_status::timeout) break;
    }
    if (deliveries.empty()) CollectDueLocked(max_entries, &deliveries);
    ++polls_;
    return deliveries;
  }

  void Complete(const queue::Delivery& delivery, queue::StatusCallback callback) override {
    callback(Retire(delivery, queue::StoredState::kDelivered, [] {}));
  }

  void Reschedule(const queue::Delivery& delivery, queue::QueueEntry replacement,
                  queue::StatusCallback callback) override {
    // The replacement is stored before the original is retired, as the
    // contract requires; here both happen under one lock.
    callback(Retire(delivery, queue::StoredState::kSuperseded,
                    [this, &replacement] { StoreLocked(std::move(replacement)); }));
  }

  void DeadLetter(const queue::Delivery& delivery, std::string dead_record, queue::StatusCallback callback) override {
    callback(Retire(delivery, queue::StoredState::kDeadLettered,
                    [this, &dead_record] { dead_letters_[next_dead_id_++] = std::move(dead_record); }));
  }

  Result<std::vector<queue::StoredEntry>> ListDeadLetters(uint64_t from_id, size_t limit) override {
    std::lock_guard lock(mutex_);
    WAL_RETURN_IF_ERROR(CountReadLocked());
    std::vector<queue::StoredEntry> page;
    for (auto it = dead_letters_.lower_bound(from_id); it != dead_letters_.end(); ++it) {
      if (page.size() >= std::min(limit, page_entries)) break;
      page.push_back({it->first, it->second});
    }
    return page;
  }

  Result<uint64_t> RedriveDeadLetters(const std::vector<uint64_t>& ids,
                                      const queue::RedriveTransform& transform) override {
    std::lock_guard lock(mutex_);
    uint64_t moved = 0;
    for (uint64_t id : Selected(ids)) {
      WAL_ASSIGN_OR_RETURN(queue::QueueEntry entry, transform(dead_letters_.at(id)));
      StoreLocked(std::move(entry));
      dead_letters_.erase(id);
      ++moved;
    }
    wake_.notify_all();
    return moved;
  }

  Result<uint64_t> PurgeDeadLetters(const std::vector<uint64_t>& ids) override {
    std::lock_guard lock(mutex_);
    uint64_t purged = 0;
    for (uint64_t id : Selected(ids)) purged += dead_letters_.erase(id);
    return purged;
  }

  Result<std::vector<queue::StoredEntry>> Read(uint64_t from_id, size_t limit) override {
    std::lock_guard lock(mutex_);
    WAL_RETURN_IF_ERROR(CountReadLocked());
    std::vector<queue::StoredEntry> page;
    for (const queue::StoredEntry& entry : log_) {
      if (entry.id < from_id) continue;
      if (page.size() >= std::min(limit, page_entries)) break;
      page.push_back(entry);
      auto slot = pending_.find(entry.id);
      auto ended = retired_.find(entry.id);
      page.back().state = slot != pending_.end()  ? (slot->second.in_flight ? queue::StoredState::kInFlight
                                                                            : queue::StoredState::kPending)
                          : ended != retired_.end() ? ended->second
                                                    : queue::StoredState::kDone;
    }
    return page;
  }

  queue::BackendStats Stats() const override {
    std::lock_guard lock(mutex_);
    queue::BackendStats stats;
    stats.first_id = log_.empty() ? 0 : log_.front().id;
    stats.log_end = next_id_;
    stats.consumed = pending_.empty() ? next_id_ : pending_.begin()->first;
    stats.pending = pending_.size();
    const WallTime now = clock_.Now();
    for (const auto& [id, slot] : pending_) {
      if (slot.entry.due > now) ++stats.pending_delayed;
      if (slot.in_flight) ++stats.in_flight;
    }
    stats.dead_letters = dead_letters_.size();
    stats.writable = !closed_ && append_durability_ == Durability::kTrue;
    return stats;
  }

  Status Close() override {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    wake_.notify_all();
    return Status::Ok();
  }

 private:
  struct Slot {
    queue::QueueEntry entry;
    bool in_flight = false;
  };

  uint64_t StoreLocked(queue::QueueEntry entry) {
    const uint64_t id = next_id_++;
    log_.push_back({id, entry.record});
    pending_[id] = Slot{std::move(entry), false};
    return id;
  }

  // Due entries not in flight, earliest due first (ties by id).
  void CollectDueLocked(size_t max_entries, std::vector<queue::Delivery>* deliveries) {
    const WallTime now = clock_.Now();
    std::vector<std::pair<WallTime, uint64_t>> due;
    for (const auto& [id, slot] : pending_) {
      if (!slot.in_flight && slot.entry.due <= now) due.emplace_back(slot.entry.due, id);
    }
    std::sort(due.begin(), due.end());
    for (const auto& [when, id] : due) {
      if (deliveries->size() >= max_entries) break;
      Slot& slot = pending_.at(id);
      slot.in_flight = true;
      deliveries->push_back(queue::Delivery{id, slot.entry, 0, std::to_string(id)});
    }
  }

  // Applies `change` and retires the delivery, unless retirements are failing
  // or the delivery is not in flight.
  template <typename Change>
  Status Retire(const queue::Delivery& delivery, queue::StoredState outcome, Change change) {
    Status status;
    {
      std::lock_guard lock(mutex_);
      auto found = pending_.find(delivery.id);
      if (!retire_status_.ok()) {
        status = retire_status_;
      } else if (found == pending_.end() || !found->second.in_flight) {
        status = FailedPrecondition("fake backend: entry " + std::to_string(delivery.id) + " is not in flight");
      } else {
        change();
        pending_.erase(delivery.id);
        retired_[delivery.id] = outcome;
      }
    }
    wake_.notify_all();
    return status;
  }

  std::vector<uint64_t> Selected(const std::vector<uint64_t>& ids) const {
    std::vector<uint64_t> selected;
    for (const auto& [id, record] : dead_letters_) {
      if (ids.empty() || std::find(ids.begin(), ids.end(), id) != ids.end()) selected.push_back(id);
    }
    return selected;
  }

  Status CountReadLocked() {
    ++reads_;
    if (fail_reads_from_ > 0 && reads_ >= fail_reads_from_) return IOError("fake backend: injected read failure");
    return Status::Ok();
  }

  const Clock& clock_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<queue::StoredEntry> log_;  // everything appended, in id order
  std::map<uint64_t, Slot> pending_;
  std::map<uint64_t, std::string> dead_letters_;
  std::map<uint64_t, queue::StoredState> retired_;  // how each retired entry ended
  uint64_t next_id_ = 0;
  uint64_t next_dead_id_ = 0;
  Durability append_durability_ = Durability::kTrue;
  Status append_status_;
  Status poll_status_;
  Status retire_status_;
  int fail_reads_from_ = 0;
  int reads_ = 0;
  uint64_t polls_ = 0;
  bool closed_ = false;
};

}  // namespace wal::engine::testing
