#include "engine/due_time.h"

#include <gtest/gtest.h>

namespace wal::engine {
namespace {

using std::chrono::milliseconds;

TEST(DueTimeTest, JitterModelsSpreadWithinTheirRanges) {
  std::mt19937_64 random(11);
  const milliseconds delay(10'000);
  const milliseconds jitter(2'000);
  for (int draw = 0; draw < 5000; ++draw) {
    EXPECT_EQ(JitteredDelay(delay, jitter, config::JitterModel::kNone, random), delay);
    auto plus_minus = JitteredDelay(delay, jitter, config::JitterModel::kPlusMinus, random).count();
    EXPECT_GE(plus_minus, 8'000);
    EXPECT_LE(plus_minus, 12'000);
    auto full = JitteredDelay(delay, jitter, config::JitterModel::kFull, random).count();
    EXPECT_GE(full, 10'000);
    EXPECT_LE(full, 12'000);
    auto equal = JitteredDelay(delay, jitter, config::JitterModel::kEqual, random).count();
    EXPECT_GE(equal, 11'000);
    EXPECT_LE(equal, 12'000);
  }
}

TEST(DueTimeTest, PlusMinusNeverGoesNegative) {
  std::mt19937_64 random(3);
  for (int draw = 0; draw < 1000; ++draw) {
    EXPECT_GE(JitteredDelay(milliseconds(10), milliseconds(5000), config::JitterModel::kPlusMinus, random).count(), 0);
  }
}

TEST(DueTimeTest, ABurstIsSpreadOverTheJitterWindow) {
  std::mt19937_64 random(5);
  int buckets[10] = {};
  for (int draw = 0; draw < 10000; ++draw) {
    auto value = JitteredDelay(milliseconds(60'000), milliseconds(30'000), config::JitterModel::kPlusMinus, random);
    int bucket = static_cast<int>((value.count() - 30'000) / 6'000);
    buckets[std::min(bucket, 9)]++;
  }
  for (int bucket : buckets) EXPECT_GT(bucket, 700);  // roughly uniform: ~1000 each
}

}  // namespace
}  // namespace wal::engine
