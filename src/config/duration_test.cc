#include "config/duration.h"

#include <gtest/gtest.h>

namespace wal::config {
namespace {

using std::chrono::milliseconds;

TEST(DurationTest, ParsesEveryUnit) {
  EXPECT_EQ(ParseDuration("250ms").value(), milliseconds(250));
  EXPECT_EQ(ParseDuration("10s").value(), milliseconds(10'000));
  EXPECT_EQ(ParseDuration("5m").value(), milliseconds(300'000));
  EXPECT_EQ(ParseDuration("2h").value(), milliseconds(7'200'000));
  EXPECT_EQ(ParseDuration("30d").value(), milliseconds(2'592'000'000));
  EXPECT_EQ(ParseDuration("1500").value(), milliseconds(1500));
  EXPECT_EQ(ParseDuration("0").value(), milliseconds(0));
  EXPECT_EQ(ParseDuration("-1s").value(), milliseconds(-1000));
}

TEST(DurationTest, RejectsMalformedText) {
  for (const char* text : {"", "s", "10parsecs", "1.5s", "10 s", "ten", "10S", "-", "5mm", "9999999999999999999d"}) {
    EXPECT_FALSE(ParseDuration(text).ok()) << text;
  }
  EXPECT_NE(ParseDuration("10parsecs").status().message().find("10parsecs"), std::string::npos);
}

TEST(DurationTest, ParsesCompoundValuesLargestUnitFirst) {
  EXPECT_EQ(ParseDuration("1m30s").value(), milliseconds(90'000));
  EXPECT_EQ(ParseDuration("1h0m15s").value(), milliseconds(3'615'000));
  EXPECT_EQ(ParseDuration("1s500ms").value(), milliseconds(1500));
  EXPECT_EQ(ParseDuration("2d12h").value(), milliseconds(216'000'000));
  EXPECT_EQ(ParseDuration("-1m30s").value(), milliseconds(-90'000));
}

TEST(DurationTest, RejectsCompoundValuesOutOfOrderOrWithABareTail) {
  for (const char* text : {"30s1m", "1s1s", "1m30", "1m-30s", "1ms1s", "1h 30m", "1m30s ", "106751991167d23h"}) {
    EXPECT_FALSE(ParseDuration(text).ok()) << text;
  }
}

TEST(DurationTest, FormatsWithTheLargestExactUnit) {
  EXPECT_EQ(FormatDuration(milliseconds(0)), "0s");
  EXPECT_EQ(FormatDuration(milliseconds(1500)), "1500ms");
  EXPECT_EQ(FormatDuration(milliseconds(90'000)), "90s");
  EXPECT_EQ(FormatDuration(milliseconds(3'600'000)), "1h");
  EXPECT_EQ(FormatDuration(milliseconds(86'400'000)), "1d");
  EXPECT_EQ(FormatDuration(milliseconds(-60'000)), "-1m");
}

TEST(DurationTest, FormatThenParseIsIdentity) {
  for (int64_t count : {0LL, 1LL, 999LL, 1000LL, 61'000LL, 3'600'000LL, 90'061'001LL, -5LL}) {
    EXPECT_EQ(ParseDuration(FormatDuration(milliseconds(count))).value(), milliseconds(count)) << count;
  }
}

}  // namespace
}  // namespace wal::config
