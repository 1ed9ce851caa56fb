// The space reserve: on a full disk, control appends and checkpoints can still
// be written, data cannot eat the reserve, and retention gives it back.
#include <gtest/gtest.h>

#include "log/log_test_fixture.h"
#include "log/space_reserve.h"

namespace wal::log {
namespace {

class LogSpaceReserveTest : public testing::LogTestBase {
 protected:
  void SetUp() override {
    LogTestBase::SetUp();
    options_.segment_bytes = 4096;
    options_.preallocate = false;
    options_.reserve_bytes = 64 << 10;
  }

  static AppendResult AppendControl(Log* log, std::string payload) {
    std::promise<AppendResult> done;
    log->Append(std::move(payload), [&done](const AppendResult& result) { done.set_value(result); },
                AppendClass::kControl);
    return done.get_future().get();
  }

  // Appends data entries, smaller and smaller, until not even an empty one
  // fits; returns how many were written.
  uint64_t FillTheDisk(Log* log) {
    uint64_t written = 0;
    for (size_t size : {500, 50, 0}) {
      for (;; ++written) {
        AppendResult result = AppendAndWait(log, std::string(size, 'd'));
        if (result.durability != Durability::kTrue) {
          EXPECT_EQ(result.status.code(), StatusCode::kNoSpace) << result.status.ToString();
          break;
        }
      }
    }
    return written;
  }

  std::string ReservePath() const { return JoinPath(directory_, std::string(kSpaceReserveFileName)); }
};

TEST_F(LogSpaceReserveTest, TheReserveIsHeldOnDisk) {
  auto log = OpenOrDie();
  EXPECT_TRUE(log->Stats().reserve_held);
  EXPECT_EQ(fs_.allocated_bytes(ReservePath()), options_.reserve_bytes);
  // Not a segment: recovery ignores it, and a reopen takes the same space again.
  ASSERT_TRUE(log->Close().ok());
  log = OpenOrDie();
  EXPECT_EQ(fs_.allocated_bytes(ReservePath()), options_.reserve_bytes);
  EXPECT_EQ(log->Stats().segments, 1u);
}

// The whole cycle on a disk that fills up: data is refused, a control record
// and the checkpoint still get written from the reserve, retention deletes the
// consumed segments, the reserve is taken back, and data flows again.
TEST_F(LogSpaceReserveTest, ControlRecordsAndRetentionWorkOnAFullDisk) {
  auto log = OpenOrDie();
  fs_.SetSpaceLimit(fs_.used_bytes() + 20'000);
  const uint64_t fitted = FillTheDisk(log.get());
  ASSERT_GT(fitted, 10u);
  ASSERT_GT(log->Stats().segments, 2u);
  EXPECT_TRUE(log->Stats().reserve_held);

  AppendResult control = AppendControl(log.get(), "retire: everything so far");
  ASSERT_EQ(control.durability, Durability::kTrue) << control.status.ToString();
  EXPECT_EQ(control.id, fitted);
  EXPECT_FALSE(log->Stats().reserve_held);
  EXPECT_EQ(log->Stats().reserve_releases, 1u);
  EXPECT_FALSE(fs_.Exists(ReservePath()));

  // The freed space is for control records only.
  AppendResult data = AppendAndWait(log.get(), "data");
  EXPECT_EQ(data.durability, Durability::kFalse);
  EXPECT_EQ(data.status.code(), StatusCode::kNoSpace);
  EXPECT_NE(data.status.message().find("space reserve"), std::string::npos) << data.status.ToString();
  ASSERT_EQ(AppendControl(log.get(), "another control record").durability, Durability::kTrue);

  // Retention: the checkpoint is written and the consumed segments deleted,
  // which gives the reserve back.
  ASSERT_TRUE(log->CommitConsumed(log->Stats().next_id).ok());
  EXPECT_EQ(log->Stats().segments, 1u);
  EXPECT_TRUE(log->Stats().reserve_held);
  EXPECT_EQ(fs_.allocated_bytes(ReservePath()), options_.reserve_bytes);
  AppendResult after = AppendAndWait(log.get(), "data again");
  EXPECT_EQ(after.durability, Durability::kTrue) << after.status.ToString();
  ASSERT_TRUE(log->Close().ok());
  log.reset();
  fs_.Reset();
  RecoveryReport report;
  log = OpenOrDie(&fs_, &report);
  EXPECT_EQ(log->Stats().next_id, fitted + 3);
}

// On a disk so full that not even the checkpoint's temporary file fits, the
// checkpoint still gets written, so retention can run.
TEST_F(LogSpaceReserveTest, CheckpointOnAFullDiskStillFreesSpace) {
  auto log = OpenOrDie();
  fs_.SetSpaceLimit(fs_.used_bytes() + 20'000);
  const uint64_t fitted = FillTheDisk(log.get());
  const uint64_t segments = log->Stats().segments;
  ASSERT_GT(segments, 2u);
  Status checkpoint = log->CommitConsumed(fitted);
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.ToString();
  EXPECT_LT(log->Stats().segments, segments);
  EXPECT_EQ(log->Stats().consumed_id, fitted);
  EXPECT_EQ(AppendAndWait(log.get(), "room again").durability, Durability::kTrue);
}

// One group holding both classes on a full disk: the data appends are refused,
// the control ones written.
TEST_F(LogSpaceReserveTest, MixedGroupSplitsOnAFullDisk) {
  auto log = OpenOrDie();
  fs_.SetSpaceLimit(fs_.used_bytes() + 8'000);
  FillTheDisk(log.get());
  std::promise<void> lead_running;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  log->Append("lead", [&](const AppendResult&) {
    lead_running.set_value();
    released.wait();
  }, AppendClass::kControl);
  lead_running.get_future().wait();
  std::vector<std::promise<AppendResult>> done(4);
  for (int i = 0; i < 4; ++i) {
    log->Append("entry " + std::to_string(i), [&done, i](const AppendResult& result) { done[i].set_value(result); },
                i % 2 == 0 ? AppendClass::kData : AppendClass::kControl);
  }
  release.set_value();
  std::vector<AppendResult> results;
  for (auto& promise : done) results.push_back(promise.get_future().get());
  EXPECT_EQ(results[0].durability, Durability::kFalse);
  EXPECT_EQ(results[2].durability, Durability::kFalse);
  EXPECT_EQ(results[0].status.code(), StatusCode::kNoSpace);
  ASSERT_EQ(results[1].durability, Durability::kTrue) << results[1].status.ToString();
  ASSERT_EQ(results[3].durability, Durability::kTrue);
  EXPECT_EQ(results[3].id, results[1].id + 1);
  auto entries = ReadAll(log.get(), results[1].id);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].payload, "entry 1");
  EXPECT_EQ(entries[1].payload, "entry 3");
}

TEST_F(LogSpaceReserveTest, WithoutAReserveControlRecordsFailLikeData) {
  options_.reserve_bytes = 0;
  auto log = OpenOrDie();
  EXPECT_FALSE(fs_.Exists(ReservePath()));
  fs_.SetSpaceLimit(fs_.used_bytes() + 8'000);
  FillTheDisk(log.get());
  EXPECT_EQ(AppendControl(log.get(), "retire").status.code(), StatusCode::kNoSpace);
  EXPECT_TRUE(log->Stats().reserve_held);  // nothing to release
}

// A full disk at open: the log opens; data waits until the reserve fits again.
TEST_F(LogSpaceReserveTest, FullDiskAtOpenRefusesDataUntilTheReserveFits) {
  { OpenOrDie(); }
  ASSERT_TRUE(fs_.RemoveFile(ReservePath()).ok());
  fs_.SetSpaceLimit(fs_.used_bytes() + 1000);
  auto log = OpenOrDie();
  EXPECT_FALSE(log->Stats().reserve_held);
  EXPECT_EQ(AppendAndWait(log.get(), "data").status.code(), StatusCode::kNoSpace);
  EXPECT_EQ(AppendControl(log.get(), "control").durability, Durability::kTrue);
  fs_.SetSpaceLimit(std::nullopt);
  EXPECT_EQ(AppendAndWait(log.get(), "data").durability, Durability::kTrue);
  EXPECT_TRUE(log->Stats().reserve_held);
}

TEST(SpaceReserveTest, ReleaseAndRestore) {
  const std::string path = JoinPath(::testing::TempDir(), "space_reserve_" + std::to_string(::getpid()));
  FaultInjectingFileSystem fs(DefaultFileSystem());
  SpaceReserve reserve(&fs, path, 1 << 16);
  EXPECT_FALSE(reserve.held());
  EXPECT_FALSE(reserve.Release());  // nothing held yet
  ASSERT_TRUE(reserve.Restore());
  EXPECT_TRUE(reserve.held());
  EXPECT_EQ(fs.allocated_bytes(path), 1u << 16);
  EXPECT_TRUE(reserve.Release());
  EXPECT_FALSE(reserve.Release());
  EXPECT_EQ(fs.used_bytes(), 0u);
  fs.SetSpaceLimit(1000);
  EXPECT_FALSE(reserve.Restore());
  EXPECT_EQ(fs.used_bytes(), 0u);  // no partial reserve is left behind
  fs.SetSpaceLimit(std::nullopt);
  ASSERT_TRUE(reserve.Restore());
  EXPECT_TRUE(reserve.Restore());  // idempotent
  EXPECT_TRUE(reserve.Release());

  // A reserve that cannot be made for another reason than ENOSPC holds nothing
  // and never blocks data.
  SpaceReserve impossible(&fs, JoinPath(path + "_missing_directory", "space.reserve"), 1 << 16);
  EXPECT_TRUE(impossible.Restore());
  EXPECT_TRUE(impossible.held());

  SpaceReserve disabled(&fs, path, 0);
  EXPECT_TRUE(disabled.held());
  EXPECT_TRUE(disabled.Restore());
  EXPECT_FALSE(disabled.Release());
  EXPECT_FALSE(fs.Exists(path));
}

}  // namespace
}  // namespace wal::log
