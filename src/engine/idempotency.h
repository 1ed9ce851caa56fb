// Idempotency keys: a repeated key within the namespace's window is
// acknowledged once and delivered once.
//
// The table lives in memory, per namespace. At start-up the engine rebuilds it
// from the entries still stored in the namespace's log (docs/api.md says what
// survives a restart). Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

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

  // Records a key found in the stored log (start-up rebuild).
  void Remember(const std::string& key, uint64_t id, Clock::time_point accepted);

  void set_window(std::chrono::seconds window);
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

}  // namespace wal::engine
