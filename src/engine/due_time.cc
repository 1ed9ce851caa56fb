#include "engine/due_time.h"

#include <algorithm>

namespace wal::engine {
namespace {

int64_t Uniform(int64_t low, int64_t high, std::mt19937_64& random) {
  if (high <= low) return low;
  return std::uniform_int_distribution<int64_t>(low, high)(random);
}

}  // namespace

std::chrono::milliseconds JitteredDelay(std::chrono::milliseconds delay, std::chrono::milliseconds jitter,
                                        config::JitterModel model, std::mt19937_64& random) {
  const int64_t base = std::max<int64_t>(0, delay.count());
  const int64_t spread = std::max<int64_t>(0, jitter.count());
  int64_t result = base;
  switch (model) {
    case config::JitterModel::kNone:
      break;
    case config::JitterModel::kPlusMinus:
      result = base + Uniform(-spread, spread, random);
      break;
    case config::JitterModel::kFull:
      result = base + Uniform(0, spread, random);
      break;
    case config::JitterModel::kEqual:
      result = base + Uniform(spread / 2, spread, random);
      break;
  }
  return std::chrono::milliseconds(std::max<int64_t>(0, result));
}

}  // namespace wal::engine
