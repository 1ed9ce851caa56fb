#include "engine/backoff.h"

#include <algorithm>
#include <cmath>

namespace wal::engine {

std::chrono::milliseconds BaseBackoff(const config::BackoffConfig& backoff, uint32_t failed_attempt) {
  const double initial = static_cast<double>(backoff.initial.count());
  const double cap = static_cast<double>(backoff.max.count());
  const double exponent = static_cast<double>(std::max<uint32_t>(failed_attempt, 1) - 1);
  // pow overflows to inf for large exponents; min() then yields the cap.
  const double base = std::min(cap, initial * std::pow(backoff.multiplier, exponent));
  return std::chrono::milliseconds(static_cast<int64_t>(std::max(0.0, base)));
}

std::chrono::milliseconds RetryBackoff(const config::BackoffConfig& backoff, uint32_t failed_attempt,
                                       std::mt19937_64& random) {
  const int64_t base = BaseBackoff(backoff, failed_attempt).count();
  auto uniform = [&random](int64_t low, int64_t high) {
    return high <= low ? low : std::uniform_int_distribution<int64_t>(low, high)(random);
  };
  int64_t wait = base;
  switch (backoff.jitter) {
    case config::JitterModel::kNone: break;
    case config::JitterModel::kFull: wait = uniform(0, base); break;
    case config::JitterModel::kEqual: wait = uniform(base / 2, base); break;
    case config::JitterModel::kPlusMinus:
      wait = std::min<int64_t>(uniform(base / 2, base + base / 2), backoff.max.count());
      break;
  }
  return std::chrono::milliseconds(std::max<int64_t>(0, wait));
}

}  // namespace wal::engine
