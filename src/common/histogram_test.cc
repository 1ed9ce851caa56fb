#include "common/histogram.h"

#include <gtest/gtest.h>

namespace wal {
namespace {

TEST(HistogramTest, BucketsAreCumulativeAndAValueOnABoundCountsInIt) {
  Histogram histogram({1, 2});
  histogram.Observe(0.5);
  histogram.Observe(1);  // le="1" includes 1
  histogram.Observe(1.5);
  histogram.Observe(7);  // only +Inf
  const Histogram::Snapshot snapshot = histogram.Read();
  EXPECT_EQ(snapshot.upper_bounds, (std::vector<double>{1, 2}));
  EXPECT_EQ(snapshot.cumulative, (std::vector<uint64_t>{2, 3, 4}));
  EXPECT_DOUBLE_EQ(snapshot.sum, 10);
}

}  // namespace
}  // namespace wal
