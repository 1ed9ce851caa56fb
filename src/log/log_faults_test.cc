// The log on a failing disk: rolled-back writes, a full disk at open, unlinks
// that fail during retention.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "log/log_test_fixture.h"

namespace wal::log {
namespace {

class LogFaultTest : public testing::LogTestBase {
 protected:
  // Bytes the real file system has allocated to `path` (st_blocks), which is
  // what a FALLOC_FL_KEEP_SIZE preallocation shows up in.
  static uint64_t AllocatedOnDisk(const std::string& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) return 0;
    return static_cast<uint64_t>(info.st_blocks) * 512;
  }
};

// ftruncate drops FALLOC_FL_KEEP_SIZE blocks past the new end: the rollback of a
// failed write must reserve the segment again.
TEST_F(LogFaultTest, RollbackKeepsTheSegmentPreallocated) {
  options_.segment_bytes = 1 << 20;
  options_.preallocate = true;
  auto log = OpenOrDie();
  for (int i = 0; i < 3; ++i) ASSERT_EQ(AppendAndWait(log.get(), PayloadFor(i)).durability, Durability::kTrue);
  const uint64_t before = AllocatedOnDisk(SegmentPath(0));
  if (before < options_.segment_bytes) GTEST_SKIP() << "this file system does not preallocate";
  fs_.ShortWriteNext(10);
  ASSERT_EQ(AppendAndWait(log.get(), "torn by a short write").durability, Durability::kFalse);
  EXPECT_GE(AllocatedOnDisk(SegmentPath(0)), options_.segment_bytes);
  // The same holds in the space model of the fault-injecting file system.
  EXPECT_GE(fs_.allocated_bytes(SegmentPath(0)), options_.segment_bytes);
}

// The rollback's truncate reaches the disk before the append is answered FALSE:
// otherwise a power loss could bring back a write the caller was told failed.
TEST_F(LogFaultTest, RollbackIsSyncedBeforeTheAnswer) {
  auto log = OpenOrDie();
  ASSERT_EQ(AppendAndWait(log.get(), PayloadFor(0)).durability, Durability::kTrue);
  fs_.ShortWriteNext(10);
  const uint64_t syncs_before = fs_.syncs();
  const uint64_t truncates_before = fs_.truncates();
  std::promise<std::pair<uint64_t, uint64_t>> seen;
  log->Append("torn by a short write", [&](const AppendResult& result) {
    EXPECT_EQ(result.durability, Durability::kFalse);
    seen.set_value({fs_.truncates(), fs_.syncs()});
  });
  auto [truncates, syncs] = seen.get_future().get();
  EXPECT_EQ(truncates, truncates_before + 1);
  EXPECT_EQ(syncs, syncs_before + 1) << "the truncate was not synced before the answer";
  EXPECT_FALSE(log->Stats().poisoned);
}

// The rollback's sync fails: the bytes may come back after a power loss, so the
// answer is UNKNOWN, never FALSE, and the log is poisoned.
TEST_F(LogFaultTest, FailedSyncOfTheRollbackAnswersUnknown) {
  auto log = OpenOrDie();
  ASSERT_EQ(AppendAndWait(log.get(), PayloadFor(0)).durability, Durability::kTrue);
  fs_.ShortWriteNext(10);
  fs_.FailNextSyncs(1);
  AppendResult result = AppendAndWait(log.get(), "torn by a short write");
  EXPECT_EQ(result.durability, Durability::kUnknown);
  EXPECT_TRUE(log->Stats().poisoned);
}

// Preallocation is an optimisation: a full disk must not stop the log opening.
TEST_F(LogFaultTest, OpensOnAFullDiskWhenPreallocationFails) {
  options_.preallocate = true;
  {
    auto log = OpenOrDie();
    for (int i = 0; i < 3; ++i) ASSERT_EQ(AppendAndWait(log.get(), PayloadFor(i)).durability, Durability::kTrue);
  }
  fs_.SetNoSpace(true);
  RecoveryReport report;
  auto log = Log::Open(&fs_, options_, &report);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ(report.entries, 3u);
  EXPECT_EQ(ReadAll(log->get()).size(), 3u);
  EXPECT_EQ(AppendAndWait(log->get(), "no room").status.code(), StatusCode::kNoSpace);
  fs_.SetNoSpace(false);
  EXPECT_EQ(AppendAndWait(log->get(), PayloadFor(3)).id, 3u);
}

// One unlink failing during retention must not leak the other segments until a
// restart: they are removed now, and the failed one is retried on the next call.
TEST_F(LogFaultTest, FailedUnlinkDoesNotLeakTheOtherSegments) {
  options_.segment_bytes = 256;
  auto log = OpenOrDie();
  for (int i = 0; i < 40; ++i) ASSERT_EQ(AppendAndWait(log.get(), PayloadFor(i)).durability, Durability::kTrue);
  const size_t segments = SegmentNames().size();
  ASSERT_GE(segments, 4u);
  fs_.FailNextRemoves(1);
  Status first = log->CommitConsumed(40);
  EXPECT_FALSE(first.ok());
  EXPECT_NE(first.message().find("injected unlink failure"), std::string::npos) << first.ToString();
  EXPECT_EQ(SegmentNames().size(), 2u) << "the segments after the failed one were not removed";
  EXPECT_EQ(log->Stats().consumed_id, 40u);
  // The failed one is retried on the next call, even with the same position.
  ASSERT_TRUE(log->CommitConsumed(40).ok());
  EXPECT_EQ(SegmentNames().size(), 1u);
  EXPECT_EQ(log->Stats().segments, 1u);
}

// A consumed segment left behind in front of a gap (a failed unlink, or a power
// cut that kept an older unlink undone but a newer one done) is the trace of an
// interrupted retention, not damage: the log opens and removes it.
TEST_F(LogFaultTest, ConsumedSegmentLeftBeforeAGapOpensAndIsRemoved) {
  options_.segment_bytes = 256;
  {
    auto log = OpenOrDie();
    for (int i = 0; i < 40; ++i) ASSERT_EQ(AppendAndWait(log.get(), PayloadFor(i)).durability, Durability::kTrue);
    ASSERT_GE(SegmentNames().size(), 4u);
    fs_.FailNextRemoves(1);
    EXPECT_FALSE(log->CommitConsumed(40).ok());
    ASSERT_EQ(SegmentNames().size(), 2u) << "the oldest segment stays, the ones after it are gone";
    ASSERT_TRUE(log->Close().ok());
  }
  auto reopened = OpenOrDie();
  EXPECT_EQ(reopened->Stats().consumed_id, 40u);
  EXPECT_EQ(reopened->Stats().segments, 1u);
  ASSERT_EQ(AppendAndWait(reopened.get(), PayloadFor(40)).durability, Durability::kTrue);
  ASSERT_TRUE(reopened->CommitConsumed(40).ok());
  EXPECT_EQ(SegmentNames().size(), 1u) << "the stale segment is removed at the next checkpoint";
}

}  // namespace
}  // namespace wal::log
