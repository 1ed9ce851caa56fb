#include "server/process_metrics.h"

#include <gtest/gtest.h>

#include <chrono>

namespace wal::server {
namespace {

// A real line from proc(5)'s layout, with a command name that holds a space
// and a ')' to show the fields are counted from the last one.
constexpr char kStat[] =
    "4242 (wal d) x) S 1 4242 4242 0 -1 4194560 1200 0 0 0 250 50 0 0 20 0 9 0 12345 123456789 2560 "
    "18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n";

TEST(ProcessMetricsTest, ParsesCpuMemoryAndStartTimeFromProcStat) {
  auto stats = ParseProcStat(kStat, 100, 4096, 1'700'000'000);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_DOUBLE_EQ(stats->cpu_seconds, 3.0);              // (250 + 50) ticks at 100 per second
  EXPECT_DOUBLE_EQ(stats->resident_bytes, 2560.0 * 4096);  // rss is in pages
  EXPECT_DOUBLE_EQ(stats->start_time_seconds, 1'700'000'000 + 123.45);
}

TEST(ProcessMetricsTest, RefusesATruncatedStatLine) {
  EXPECT_FALSE(ParseProcStat("4242 (wald) S 1 2 3", 100, 4096, 0).ok());
  EXPECT_FALSE(ParseProcStat("no command name at all", 100, 4096, 0).ok());
}

TEST(ProcessMetricsTest, FindsTheBootTimeLine) {
  auto boot = ParseBootTime("cpu  1 2 3\nintr 5\nbtime 1700000000\nprocesses 9\n");
  ASSERT_TRUE(boot.ok()) << boot.status().ToString();
  EXPECT_DOUBLE_EQ(*boot, 1'700'000'000);
  EXPECT_FALSE(ParseBootTime("cpu  1 2 3\n").ok());
}

TEST(ProcessMetricsTest, ThisProcessStartedInThePastAndHoldsDescriptors) {
  auto stats = ReadProcessStats();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_LE(stats->start_time_seconds, now + 1);
  EXPECT_GT(stats->start_time_seconds, now - 24 * 3600) << "a test process is not a day old";
  EXPECT_GT(stats->resident_bytes, 0);
  auto fds = CountOpenFds();
  ASSERT_TRUE(fds.ok()) << fds.status().ToString();
  EXPECT_GE(*fds, 3u) << "stdin, stdout and stderr at least";
}

}  // namespace
}  // namespace wal::server
