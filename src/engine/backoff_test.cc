#include "engine/backoff.h"

#include <gtest/gtest.h>

namespace wal::engine {
namespace {

using std::chrono::milliseconds;

config::BackoffConfig Backoff(config::JitterModel jitter) {
  config::BackoffConfig backoff;
  backoff.initial = milliseconds(100);
  backoff.multiplier = 2.0;
  backoff.max = milliseconds(1000);
  backoff.jitter = jitter;
  return backoff;
}

TEST(BackoffTest, BaseGrowsGeometricallyUpToTheCap) {
  auto backoff = Backoff(config::JitterModel::kNone);
  EXPECT_EQ(BaseBackoff(backoff, 1), milliseconds(100));
  EXPECT_EQ(BaseBackoff(backoff, 2), milliseconds(200));
  EXPECT_EQ(BaseBackoff(backoff, 4), milliseconds(800));
  EXPECT_EQ(BaseBackoff(backoff, 5), milliseconds(1000));
  EXPECT_EQ(BaseBackoff(backoff, 5000), milliseconds(1000));  // no overflow
}

TEST(BackoffTest, EveryJitterModelStaysWithinItsBounds) {
  std::mt19937_64 random(7);
  struct Case {
    config::JitterModel model;
    double low_fraction;
    double high_fraction;
  };
  for (const Case& c : {Case{config::JitterModel::kNone, 1.0, 1.0}, Case{config::JitterModel::kFull, 0.0, 1.0},
                        Case{config::JitterModel::kEqual, 0.5, 1.0}, Case{config::JitterModel::kPlusMinus, 0.5, 1.5}}) {
    auto backoff = Backoff(c.model);
    for (uint32_t attempt = 1; attempt <= 6; ++attempt) {
      const double base = static_cast<double>(BaseBackoff(backoff, attempt).count());
      int64_t smallest = INT64_MAX;
      int64_t largest = 0;
      for (int draw = 0; draw < 2000; ++draw) {
        const int64_t wait = RetryBackoff(backoff, attempt, random).count();
        smallest = std::min(smallest, wait);
        largest = std::max(largest, wait);
        ASSERT_GE(wait, static_cast<int64_t>(base * c.low_fraction) - 1);
        ASSERT_LE(wait, std::min<int64_t>(static_cast<int64_t>(base * c.high_fraction) + 1, backoff.max.count()));
      }
      if (c.model != config::JitterModel::kNone && base >= 100) {
        EXPECT_LT(smallest, largest) << "jitter must actually spread the waits";
      }
    }
  }
}

}  // namespace
}  // namespace wal::engine
