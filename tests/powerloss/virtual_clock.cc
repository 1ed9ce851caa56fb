#include "tests/powerloss/virtual_clock.h"

#include <dlfcn.h>
#include <time.h>

#include <atomic>
#include <cstdint>

namespace wal::powerloss::virtual_clock {
namespace {

std::atomic<bool> frozen{false};
std::atomic<int64_t> frozen_ns{0};

}  // namespace

void Set(TimePoint at) {
  frozen_ns.store(std::chrono::duration_cast<std::chrono::nanoseconds>(at.time_since_epoch()).count());
  frozen.store(true);
}

void Advance(std::chrono::milliseconds by) {
  frozen_ns.fetch_add(std::chrono::duration_cast<std::chrono::nanoseconds>(by).count());
}

TimePoint Now() { return std::chrono::system_clock::now(); }

}  // namespace wal::powerloss::virtual_clock

// The executable's definition comes first in symbol lookup, so libstdc++'s
// system_clock::now() (and everything else in the process) calls this one.
extern "C" int clock_gettime(clockid_t clock, struct timespec* out) {
  using Real = int (*)(clockid_t, struct timespec*);
  static const Real real = reinterpret_cast<Real>(dlsym(RTLD_NEXT, "clock_gettime"));
  namespace vc = wal::powerloss::virtual_clock;
  if ((clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE) && vc::frozen.load()) {
    const int64_t ns = vc::frozen_ns.load();
    out->tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    out->tv_nsec = static_cast<long>(ns % 1'000'000'000);
    return 0;
  }
  return real(clock, out);
}
