// A frozen, test-controlled wall clock for the power-loss test binary.
//
// The local backend reads std::chrono::system_clock directly (due times and
// Poll), and LocalBackendOptions has no clock seam. So this binary interposes
// clock_gettime(CLOCK_REALTIME*) (virtual_clock.cc): while frozen, the whole
// process sees the virtual time, and it moves only when Set or Advance is
// called. Delayed entries then become due at a chosen workload step, the same
// step on every run of a seed, and the checker can let every delay pass
// without sleeping. Monotonic clocks are untouched, so timeouts and
// condition-variable waits (steady_clock) behave normally.
//
// Once the backend takes a clock through its options, pass a fake clock there
// and delete this.
//
// Threading: safe from any thread (atomics).
#pragma once

#include <chrono>

namespace wal::powerloss::virtual_clock {

using TimePoint = std::chrono::system_clock::time_point;

// Freezes the wall clock at `at` (whole milliseconds keep due times exact).
void Set(TimePoint at);
void Advance(std::chrono::milliseconds by);
// The frozen time (the real time when not frozen).
TimePoint Now();

}  // namespace wal::powerloss::virtual_clock
