// When an accepted entry becomes due: the request's delay (or the namespace
// default) spread by the namespace's jitter model.
#pragma once

#include <chrono>
#include <random>

#include "config/config.h"

namespace wal::engine {

// Returns the delay to apply, never negative. `random` is the caller's generator
// (per thread; generators are not thread-safe).
//   none:       delay
//   plus_minus: delay + U[-jitter, +jitter], clamped at 0
//   full:       delay + U[0, jitter]
//   equal:      delay + U[jitter/2, jitter]
// (docs/configuration.md, "delay.jitter_model", documents the same.)
std::chrono::milliseconds JitteredDelay(std::chrono::milliseconds delay, std::chrono::milliseconds jitter,
                                        config::JitterModel model, std::mt19937_64& random);

}  // namespace wal::engine
