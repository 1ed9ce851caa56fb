// Idempotency keys: a repeated key within the namespace's window is
// acknowledged once and delivered once.
//
// The table lives in memory, per namespace. At start-up the engine rebuilds it
// from the entries still stored in the namespace's log (RestoreIdempotencyKeys;
// docs/delivery.md says what survives a restart). Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "queue/queue.h"
#include "wal/v1/wal.pb.h"

namespace wal::engine {

class IdempotencyTable {
 public:
  using Clock = std::chrono::system_clock;
  using Answer = std::function<void(const v1::WriteToLogResponse&)>;

  explicit IdempotencyTable(std::chrono::seconds window) : window_(window) {}

  enum class Claim {
    kFirst,      // the caller owns the key: write, then call Finish()
    kDuplicate,  // answered already through `answer`, with the original id
    kWaiting,    // the first write is in flight; `answer` runs when it finishes
  };

  // Claims `key` at `now`. On kDuplicate, `answer` has already run (inline).
  Claim Begin(const std::string& key, Clock::time_point now, const Answer& answer);

  // Ends the first write of `key`. A TRUE answer keeps the key for the window;
  // anything else releases it so a retry can write. Waiters get `response` (with
  // a note that they were duplicates).
  void Finish(const std::string& key, const v1::WriteToLogResponse& response, Clock::time_point now);

  // Records a key found in the stored log (start-up rebuild), fed in id
  // order. The log holds several copies of one write (a retry's replacement,
  // a copy-forward), all with the write's accepted time: the oldest one is
  // kept, since a duplicate is answered with the original's id. A copy with a
  // later accepted time is a new write of the key after its window ended.
  void Remember(const std::string& key, uint64_t id, Clock::time_point accepted);

  void set_window(std::chrono::seconds window);
  std::chrono::seconds window() const;
  size_t size() const;

 private:
  struct Slot {
    bool done = false;
    uint64_t id = 0;
    Clock::time_point expires{};
    std::vector<Answer> waiters;
  };
  void EvictExpired(Clock::time_point now);

  mutable std::mutex mutex_;
  std::chrono::seconds window_;
  std::unordered_map<std::string, Slot> slots_;
  Clock::time_point next_eviction_{};
};

struct RestoreReport {
  size_t restored = 0;  // keys remembered
  Status status;        // not OK: a read failed; keys stored after that point are not restored
};

// Rebuilds `table` from the records still stored in `backend`'s main log:
// every key whose write was accepted within the window before `now`.
RestoreReport RestoreIdempotencyKeys(queue::Backend& backend, IdempotencyTable& table, IdempotencyTable::Clock::time_point now);

}  // namespace wal::engine
