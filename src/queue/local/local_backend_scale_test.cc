#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdio>
#include <fstream>

#include "queue/local/local_backend_fixture.h"

// Recovery time and memory of the local backend with many pending entries.

namespace wal::queue::local {
namespace {

// VmRSS (current) or VmHWM (peak since the last ResetPeakRss) in bytes.
uint64_t StatusBytes(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stoull(line.substr(field.size() + 1)) * 1024;
  }
  return 0;
}
uint64_t RssBytes() { return StatusBytes("VmRSS"); }
uint64_t PeakRssBytes() { return StatusBytes("VmHWM"); }
void ResetPeakRss() { std::ofstream("/proc/self/clear_refs") << "5"; }

class LocalBackendScaleTest : public LocalBackendFixture {
 protected:
  void PendingReopen(uint64_t count) {
    Open();
    const TimePoint due = Clock::now() + 1h;
    AppendMany(count, [&](uint64_t i) {
      return Entry("record-" + std::to_string(i), due + std::chrono::milliseconds(i % 1000));
    });
    ASSERT_EQ(backend_->Stats().pending, count);
    ASSERT_TRUE(backend_->Close().ok());
    backend_.reset();
    malloc_trim(0);
    const uint64_t rss_before = RssBytes();
    ResetPeakRss();
    const auto started = std::chrono::steady_clock::now();
    Open();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const uint64_t peak = PeakRssBytes();
    malloc_trim(0);  // return the recovery scan's freed buffers
    const uint64_t rss_after = RssBytes();
    BackendStats stats = backend_->Stats();
    constexpr double kMiB = 1 << 20;
    std::printf("pending %llu: reopen %.2f s (recovery scan %llu ms), RSS delta %.1f MiB (%.1f -> %.1f MiB), "
                "peak during reopen %.1f MiB\n",
                static_cast<unsigned long long>(count), seconds,
                static_cast<unsigned long long>(backend_->LocalStats().recovery_millis),
                (static_cast<double>(rss_after) - static_cast<double>(rss_before)) / kMiB,
                static_cast<double>(rss_before) / kMiB, static_cast<double>(rss_after) / kMiB,
                static_cast<double>(peak) / kMiB);
    EXPECT_EQ(stats.pending, count);
    EXPECT_EQ(stats.pending_delayed, count);
    EXPECT_EQ(stats.in_flight, 0u);
    EXPECT_TRUE(PollOrDie(10).empty());
#ifndef __SANITIZE_ADDRESS__  // ASan's quarantine and redzones make RSS meaningless
    EXPECT_LT(rss_after - std::min(rss_after, rss_before), 100ull << 20);
    EXPECT_LT(seconds, 10.0);
#endif
  }
};

TEST_F(LocalBackendScaleTest, PendingDelayedEntriesReopen200k) { PendingReopen(200000); }

// ~1M pending delayed entries: prints the RSS delta and reopen time.
TEST_F(LocalBackendScaleTest, LargePending) { PendingReopen(1000000); }

}  // namespace
}  // namespace wal::queue::local
