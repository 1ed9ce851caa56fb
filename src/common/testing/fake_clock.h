// FakeClock: a wall clock that moves only when a test moves it, so delays and
// backoffs of minutes are tested without waiting for them.
//
// Threading: Now, Set and Advance are safe from any thread (one atomic).
#pragma once

#include <atomic>
#include <chrono>

#include "common/time.h"

namespace wal::testing {

class FakeClock final : public Clock {
 public:
  // Starts at `start`; the default is a fixed, whole-millisecond instant so
  // that due times computed from it are exact.
  explicit FakeClock(WallTime start = FromMillis(1'700'000'000'000)) : now_(start.time_since_epoch().count()) {}

  WallTime Now() const override { return WallTime(WallTime::duration(now_.load())); }
  void Set(WallTime at) { now_.store(at.time_since_epoch().count()); }
  void Advance(std::chrono::milliseconds by) {
    now_.fetch_add(std::chrono::duration_cast<WallTime::duration>(by).count());
  }

 private:
  std::atomic<WallTime::duration::rep> now_;
};

}  // namespace wal::testing
