// Wall-clock time as wal stores it: time points of std::chrono::system_clock,
// and whole milliseconds since the Unix epoch (due times, accepted times and
// the brokers' timestamps all have millisecond resolution).
//
// Clock is the seam policy code reads "now" through, so that tests can hand in
// a clock they move by hand (common/testing/fake_clock.h) instead of waiting.
// Code that only measures elapsed time or bounds a wait uses steady_clock and
// needs no seam.
//
// Threading: the helpers are pure; a Clock is safe to call from any thread.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace wal {

using WallTime = std::chrono::system_clock::time_point;

// Milliseconds since the epoch, rounded down.
inline int64_t ToMillis(WallTime time) {
  return std::chrono::floor<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

// Milliseconds since the epoch, rounded up. Due times are computed from this:
// an entry then never comes due before "now + delay", whatever the rounding.
inline int64_t ToMillisRoundedUp(WallTime time) {
  return std::chrono::ceil<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

// The time point `millis` after the epoch, clamped to what a WallTime can hold
// (a stored due time may be any int64; WallTime counts nanoseconds).
inline WallTime FromMillis(int64_t millis) {
  using Duration = WallTime::duration;
  using std::chrono::milliseconds;
  constexpr int64_t kMax = std::chrono::duration_cast<milliseconds>(Duration::max()).count();
  constexpr int64_t kMin = std::chrono::duration_cast<milliseconds>(Duration::min()).count();
  return WallTime(std::chrono::duration_cast<Duration>(milliseconds(std::clamp(millis, kMin, kMax))));
}

class Clock {
 public:
  Clock() = default;
  Clock(const Clock&) = delete;
  Clock& operator=(const Clock&) = delete;
  virtual ~Clock() = default;

  virtual WallTime Now() const = 0;
};

// The real wall clock (std::chrono::system_clock); lives for the whole process.
const Clock& SystemClock();

// `clock`'s now in milliseconds since the epoch, rounded down.
inline int64_t NowMillis(const Clock& clock = SystemClock()) { return ToMillis(clock.Now()); }

}  // namespace wal
