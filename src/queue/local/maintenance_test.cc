#include <gtest/gtest.h>

#include <thread>

#include "queue/local/local_backend_fixture.h"

// Maintenance on the local backend: checkpoints, retention and copy-forward.

namespace wal::queue::local {
namespace {

class LocalMaintenanceTest : public LocalBackendFixture {};

TEST_F(LocalMaintenanceTest, RetentionDeletesConsumedSegments) {
  config_.backend.settings.Mutable<LocalBackendConfig>().segment_bytes = 4096;
  Open();
  AppendMany(600, [](uint64_t i) { return Entry(std::string(100, 'a' + i % 26), Clock::now() - 1s); }, 10);
  ASSERT_GT(backend_->Stats().segments, 10u);
  for (;;) {
    auto polled = PollOrDie(50);
    if (polled.empty()) break;
    for (auto& d : polled) ASSERT_TRUE(CompleteWait(d).ok());
  }
  ASSERT_TRUE(backend_->RunMaintenance().ok());
  BackendStats stats = backend_->Stats();
  EXPECT_EQ(stats.pending, 0u);
  EXPECT_EQ(stats.consumed, stats.log_end);
  EXPECT_LE(stats.segments, 2u);
  EXPECT_LE(SegmentFiles("log"), 2u);
  Reopen();
  EXPECT_EQ(backend_->Stats().pending, 0u);
  EXPECT_LE(SegmentFiles("log"), 2u);
}

TEST_F(LocalMaintenanceTest, BackgroundCheckpointDeletesSegments) {
  config_.backend.settings.Mutable<LocalBackendConfig>().segment_bytes = 4096;
  options_.checkpoint_interval = 20ms;
  Open();
  AppendMany(300, [](uint64_t) { return Entry(std::string(100, 'x'), Clock::now() - 1s); }, 10);
  for (;;) {
    auto polled = PollOrDie(50);
    if (polled.empty()) break;
    for (auto& d : polled) ASSERT_TRUE(CompleteWait(d).ok());
  }
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (SegmentFiles("log") > 2 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
  EXPECT_LE(SegmentFiles("log"), 2u);
}

TEST_F(LocalMaintenanceTest, CopyForwardFreesSegmentsPinnedByALongPendingEntry) {
  config_.backend.settings.Mutable<LocalBackendConfig>().segment_bytes = 4096;
  Open();
  // "Far" for the test: it must stay pending while 600 entries are written and
  // delivered, which takes seconds under sanitizers on a loaded machine.
  const TimePoint far_due = Clock::now() + 10s;
  const uint64_t pinned = AppendOrDie(Entry("far-future", far_due, "fk"));
  AppendMany(600, [](uint64_t) { return Entry(std::string(100, 'c'), Clock::now() - 1s); }, 10);
  for (;;) {
    auto polled = PollOrDie(50);
    if (polled.empty()) break;
    for (auto& d : polled) ASSERT_TRUE(CompleteWait(d).ok());
  }
  const uint64_t segments_before = backend_->Stats().segments;
  ASSERT_GT(segments_before, 10u);
  EXPECT_EQ(backend_->Stats().consumed, pinned) << "the far-future entry pins the watermark";

  auto copied = backend_->RunMaintenance();
  ASSERT_TRUE(copied.ok()) << copied.status().ToString();
  EXPECT_EQ(*copied, 1u);
  BackendStats stats = backend_->Stats();
  EXPECT_LE(stats.segments, 3u);
  EXPECT_LE(SegmentFiles("log"), 3u);
  EXPECT_GT(stats.consumed, pinned);
  EXPECT_EQ(stats.pending, 1u);
  EXPECT_EQ(stats.pending_delayed, 1u);
  EXPECT_EQ(backend_->LocalStats().entries_copied_forward, 1u);
  EXPECT_EQ(backend_->RunMaintenance().value(), 0u);  // nothing left to copy

  Reopen();
  EXPECT_EQ(backend_->Stats().pending, 1u);
  EXPECT_TRUE(PollOrDie(10).empty());
  std::vector<Delivery> polled;
  const auto deadline = far_due + 10s;
  while (polled.empty() && Clock::now() < deadline) {
    polled = PollOrDie(10, 1000ms);
    if (!polled.empty()) {
      EXPECT_GE(Clock::now(), far_due) << "handed out before its due time";
    }
  }
  ASSERT_EQ(polled.size(), 1u);
  EXPECT_NE(polled[0].id, pinned);
  EXPECT_EQ(polled[0].entry.record, "far-future");
  EXPECT_EQ(polled[0].entry.ordering_key, "fk");
  EXPECT_GE(polled[0].entry.due, far_due);
  EXPECT_LE(polled[0].entry.due - far_due, 1ms);
}

TEST_F(LocalMaintenanceTest, CopyForwardSkipsHeldEntriesAndLargeBacklogs) {
  config_.backend.settings.Mutable<LocalBackendConfig>().segment_bytes = 4096;
  options_.copy_forward_max_entries = 5;
  options_.copy_forward_max_fraction = 0.0;
  Open();
  // Twenty pending entries in the oldest segment: over the limit, not copied.
  AppendMany(20, [](uint64_t) { return Entry("backlog", Clock::now() + 1h); });
  AppendMany(400, [](uint64_t) { return Entry(std::string(100, 'c'), Clock::now() - 1s); }, 10);
  for (;;) {
    auto polled = PollOrDie(50);
    if (polled.empty()) break;
    for (auto& d : polled) ASSERT_TRUE(CompleteWait(d).ok());
  }
  auto copied = backend_->RunMaintenance();
  ASSERT_TRUE(copied.ok());
  EXPECT_EQ(*copied, 0u);
  EXPECT_EQ(backend_->Stats().consumed, 0u);
  EXPECT_EQ(backend_->Stats().pending, 20u);
}

}  // namespace
}  // namespace wal::queue::local
