// FakeBackend: a queue::Backend over in-memory records, for engine unit tests
// that read back what a backend stores (start-up rebuilds, admin reads).
//
// Reads hand out short pages (at most `page_entries` per call, as real
// backends may) so paging code is exercised, and a read can be armed to fail.
// The consumer side is not modelled: Poll finds nothing and the retirement
// calls answer FAILED_PRECONDITION. Thread-safe.
#pragma once

#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

#include "queue/queue.h"

namespace wal::engine::testing {

class FakeBackend final : public queue::Backend {
 public:
  FakeBackend() = default;
  FakeBackend(const FakeBackend&) = delete;
  FakeBackend& operator=(const FakeBackend&) = delete;

  // Records of the main log and the DLQ, in id order.
  void AddEntry(uint64_t id, std::string record) {
    std::lock_guard lock(mutex_);
    log_.push_back({id, std::move(record)});
  }
  void AddDeadLetter(uint64_t id, std::string record) {
    std::lock_guard lock(mutex_);
    dead_letters_.push_back({id, std::move(record)});
  }
  // The `n`th read from now (1 = the next one), of either stream, and every
  // read after it fail with IOError; 0 disarms.
  void FailReadsFrom(int n) {
    std::lock_guard lock(mutex_);
    fail_from_ = n;
    reads_ = 0;
  }
  size_t page_entries = 3;

  void Append(queue::QueueEntry, queue::AppendCallback callback) override {
    callback(queue::AppendOutcome{Durability::kFalse, 0, FailedPrecondition("fake backend: no appends")});
  }
  Result<std::vector<queue::Delivery>> Poll(size_t, std::chrono::milliseconds) override {
    return std::vector<queue::Delivery>{};
  }
  void Complete(const queue::Delivery&, queue::StatusCallback callback) override { callback(Refused()); }
  void Reschedule(const queue::Delivery&, queue::QueueEntry, queue::StatusCallback callback) override {
    callback(Refused());
  }
  void DeadLetter(const queue::Delivery&, std::string, queue::StatusCallback callback) override { callback(Refused()); }
  Result<std::vector<queue::StoredEntry>> ListDeadLetters(uint64_t from_id, size_t limit) override {
    return Page(dead_letters_, from_id, limit);
  }
  Result<uint64_t> RedriveDeadLetters(const std::vector<uint64_t>&, const queue::RedriveTransform&) override {
    return Refused();
  }
  Result<uint64_t> PurgeDeadLetters(const std::vector<uint64_t>&) override { return Refused(); }
  Result<std::vector<queue::StoredEntry>> Read(uint64_t from_id, size_t limit) override {
    return Page(log_, from_id, limit);
  }
  queue::BackendStats Stats() const override {
    std::lock_guard lock(mutex_);
    queue::BackendStats stats;
    stats.first_id = log_.empty() ? 0 : log_.front().id;
    stats.log_end = log_.empty() ? 0 : log_.back().id + 1;
    stats.dead_letters = dead_letters_.size();
    return stats;
  }
  Status Close() override { return Status::Ok(); }

 private:
  static Status Refused() { return FailedPrecondition("fake backend: no consumer side"); }

  Result<std::vector<queue::StoredEntry>> Page(const std::vector<queue::StoredEntry>& records, uint64_t from_id,
                                               size_t limit) {
    std::lock_guard lock(mutex_);
    ++reads_;
    if (fail_from_ > 0 && reads_ >= fail_from_) return IOError("fake backend: injected read failure");
    std::vector<queue::StoredEntry> page;
    for (const queue::StoredEntry& entry : records) {
      if (entry.id < from_id) continue;
      if (page.size() >= std::min(limit, page_entries)) break;
      page.push_back(entry);
    }
    return page;
  }

  mutable std::mutex mutex_;
  std::vector<queue::StoredEntry> log_;
  std::vector<queue::StoredEntry> dead_letters_;
  int fail_from_ = 0;
  int reads_ = 0;
};

}  // namespace wal::engine::testing
