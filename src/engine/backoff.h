// Retry timing: exponential backoff with jitter.
#pragma once

#include <chrono>
#include <random>

#include "config/config.h"

namespace wal::engine {

// The wait before retrying after failed attempt number `failed_attempt` (1 for
// the first delivery): base = initial * multiplier^(failed_attempt-1), capped at
// max, then spread by the jitter model —
//   none: base;  full: U[0, base];  equal: U[base/2, base];  plus_minus: U[base/2, 3*base/2]
// (plus_minus is capped at max as well). Never negative.
std::chrono::milliseconds RetryBackoff(const config::BackoffConfig& backoff, uint32_t failed_attempt,
                                       std::mt19937_64& random);

// The un-jittered base for `failed_attempt`, exposed for tests and docs.
std::chrono::milliseconds BaseBackoff(const config::BackoffConfig& backoff, uint32_t failed_attempt);

}  // namespace wal::engine
