#include "queue/kafka/dlq_markers.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "common/fault_injecting_file_system.h"
#include "common/testing/power_loss_file_system.h"

namespace wal::queue::kafka {
namespace {

class DlqRemovalMarkersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = JoinPath(::testing::TempDir(), "dlq_markers_test_" + std::to_string(::getpid()) + "_" +
                                                    ::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_TRUE(DefaultFileSystem()->RemoveAll(directory_).ok());
  }
  void TearDown() override { (void)DefaultFileSystem()->RemoveAll(directory_); }

  // Markers of topic "t.dlq" as a fresh process would load them.
  std::unique_ptr<DlqRemovalMarkers> Reopen() {
    auto markers = std::make_unique<DlqRemovalMarkers>(&fs_, directory_, "t.dlq");
    Status loaded = markers->Load();
    EXPECT_TRUE(loaded.ok()) << loaded.ToString();
    return markers;
  }
  std::string Path() const { return JoinPath(directory_, DlqRemovalMarkers::kFileName); }
  std::string Contents() {
    auto contents = DefaultFileSystem()->ReadFile(Path());
    EXPECT_TRUE(contents.ok()) << contents.status().ToString();
    return contents.ok() ? *contents : std::string();
  }
  void WriteFile(const std::string& contents) {
    ASSERT_TRUE(DefaultFileSystem()->CreateDirectories(directory_).ok());
    ASSERT_TRUE(DefaultFileSystem()->WriteFileAtomically(Path(), contents).ok());
  }

  std::string directory_;
  FaultInjectingFileSystem fs_{DefaultFileSystem()};
};

TEST_F(DlqRemovalMarkersTest, MarksSurviveAReopenAndCreateTheDirectory) {
  auto markers = Reopen();
  EXPECT_EQ(markers->size(), 0u);
  ASSERT_TRUE(markers->MarkRemoved(3).ok());
  ASSERT_TRUE(markers->MarkRemoved(3).ok());  // already removed: nothing written
  ASSERT_TRUE(markers->MarkRemoved(281474976710657).ok());  // partition 1, offset 1
  EXPECT_EQ(Contents(), "t.dlq 3\nt.dlq 281474976710657\n");
  EXPECT_GE(fs_.syncs(), 2u);

  auto again = Reopen();
  EXPECT_TRUE(again->Contains(3));
  EXPECT_TRUE(again->Contains(281474976710657));
  EXPECT_FALSE(again->Contains(1));
  EXPECT_EQ(again->size(), 2u);
}

TEST_F(DlqRemovalMarkersTest, AFailedFsyncIsReportedAndTheIdStaysListed) {
  auto markers = Reopen();
  fs_.FailNextSyncs(1);
  Status status = markers->MarkRemoved(7);
  EXPECT_EQ(status.code(), StatusCode::kIOError) << status.ToString();
  EXPECT_NE(status.message().find("not recorded"), std::string::npos) << status.ToString();
  EXPECT_FALSE(markers->Contains(7));
  // Nothing is left behind for a restart to read as removed.
  EXPECT_FALSE(Reopen()->Contains(7));

  ASSERT_TRUE(markers->MarkRemoved(7).ok());
  EXPECT_TRUE(Reopen()->Contains(7));
  EXPECT_EQ(Contents(), "t.dlq 7\n");
}

TEST_F(DlqRemovalMarkersTest, AFullDiskIsReportedAsNoSpace) {
  auto markers = Reopen();
  fs_.SetNoSpace(true);
  Status status = markers->MarkRemoved(4);
  EXPECT_EQ(status.code(), StatusCode::kNoSpace) << status.ToString();
  EXPECT_FALSE(markers->Contains(4));
  fs_.SetNoSpace(false);
  EXPECT_FALSE(Reopen()->Contains(4));
}

TEST_F(DlqRemovalMarkersTest, AShortWriteIsCutOffSoTheNextLineStandsAlone) {
  auto markers = Reopen();
  ASSERT_TRUE(markers->MarkRemoved(1).ok());
  fs_.ShortWriteNext(7);  // "t.dlq 1" of "t.dlq 12\n": would read as id 1
  EXPECT_FALSE(markers->MarkRemoved(12).ok());
  EXPECT_FALSE(markers->Contains(12));
  ASSERT_TRUE(markers->MarkRemoved(5).ok());
  EXPECT_EQ(Contents(), "t.dlq 1\nt.dlq 5\n");
  auto again = Reopen();
  EXPECT_FALSE(again->Contains(12));
  EXPECT_TRUE(again->Contains(5));
  EXPECT_EQ(again->size(), 2u);
}

TEST_F(DlqRemovalMarkersTest, AFragmentThatCannotBeCutAtOnceIsCutBeforeTheNextLine) {
  auto markers = Reopen();
  ASSERT_TRUE(markers->MarkRemoved(1).ok());
  fs_.ShortWriteNext(4);
  fs_.FailTruncate(true);
  EXPECT_FALSE(markers->MarkRemoved(12).ok());
  // While the fragment cannot be cut, no line is written after it.
  Status blocked = markers->MarkRemoved(5);
  EXPECT_FALSE(blocked.ok());
  EXPECT_NE(blocked.message().find("earlier failed write"), std::string::npos) << blocked.ToString();
  EXPECT_FALSE(markers->Contains(5));
  fs_.FailTruncate(false);
  ASSERT_TRUE(markers->MarkRemoved(5).ok());
  EXPECT_EQ(Contents(), "t.dlq 1\nt.dlq 5\n");
}

TEST_F(DlqRemovalMarkersTest, ATornLastLineIsDroppedAndCutOffAtLoad) {
  // A crash in the middle of writing "t.dlq 12\n".
  WriteFile("t.dlq 3\nt.dlq 1");
  auto markers = Reopen();
  EXPECT_TRUE(markers->Contains(3));
  EXPECT_FALSE(markers->Contains(1));
  EXPECT_EQ(Contents(), "t.dlq 3\n");
  ASSERT_TRUE(markers->MarkRemoved(12).ok());
  EXPECT_EQ(Contents(), "t.dlq 3\nt.dlq 12\n");
}

TEST_F(DlqRemovalMarkersTest, AnUnparsableLastLineIsDroppedAndCutOffAtLoad) {
  // Sectors of the last, unsynced line lost in a power cut read as zeros.
  WriteFile(std::string("t.dlq 3\n") + std::string(5, '\0') + " 45\n");
  auto markers = Reopen();
  EXPECT_TRUE(markers->Contains(3));
  EXPECT_EQ(markers->size(), 1u);
  EXPECT_EQ(Contents(), "t.dlq 3\n");
}

// Every mark that returned OK survives a power cut at any later instant, no id
// that was not marked appears (a torn "t.dlq 12" never reads as id 1), and the
// next mark after the crash stands on a line of its own. This covers the
// directory fsync: without it a crash may lose the whole file.
TEST_F(DlqRemovalMarkersTest, AcknowledgedMarksSurviveAPowerCutAndNoOtherIdAppears) {
  wal::testing::PowerLossFileSystem disk;
  const std::vector<uint64_t> ids = {12, 345, 6789};
  std::vector<uint64_t> acknowledged_at;  // operations issued when each MarkRemoved returned OK
  {
    DlqRemovalMarkers markers(&disk, "/data/ns", "t.dlq");
    ASSERT_TRUE(markers.Load().ok());
    for (uint64_t id : ids) {
      ASSERT_TRUE(markers.MarkRemoved(id).ok());
      acknowledged_at.push_back(disk.operation_count());
    }
  }
  for (uint64_t point = 0; point <= disk.operation_count(); ++point) {
    for (uint64_t seed = 0; seed < 25; ++seed) {
      wal::testing::CrashReport report;
      auto crashed = disk.CrashState(point, seed, wal::testing::CrashOptions{}, &report);
      DlqRemovalMarkers markers(crashed.get(), "/data/ns", "t.dlq");
      Status loaded = markers.Load();
      ASSERT_TRUE(loaded.ok()) << loaded.ToString() << "\n" << report.Summary();
      size_t present = 0;
      for (size_t i = 0; i < ids.size(); ++i) {
        if (point >= acknowledged_at[i]) {
          EXPECT_TRUE(markers.Contains(ids[i])) << "id " << ids[i] << " lost\n" << report.Summary();
        }
        present += markers.Contains(ids[i]) ? 1 : 0;
      }
      ASSERT_EQ(markers.size(), present) << "an id never marked appeared\n" << report.Summary();
      ASSERT_TRUE(markers.MarkRemoved(7).ok()) << report.Summary();
      DlqRemovalMarkers again(crashed.get(), "/data/ns", "t.dlq");
      ASSERT_TRUE(again.Load().ok()) << report.Summary();
      EXPECT_TRUE(again.Contains(7)) << report.Summary();
      EXPECT_EQ(again.size(), present + 1) << report.Summary();
    }
  }
}

TEST_F(DlqRemovalMarkersTest, OtherTopicsAreKeptAndIgnored) {
  WriteFile("old.dlq 2\nt.dlq 9\n\n");
  auto markers = Reopen();
  EXPECT_FALSE(markers->Contains(2));
  EXPECT_TRUE(markers->Contains(9));
  ASSERT_TRUE(markers->MarkRemoved(2).ok());
  EXPECT_EQ(Contents(), "old.dlq 2\nt.dlq 9\n\nt.dlq 2\n");
}

TEST_F(DlqRemovalMarkersTest, AMalformedLineIsCorruptionNamingTheLine) {
  WriteFile("t.dlq 1\nt.dlq x2\nt.dlq 3\n");
  DlqRemovalMarkers markers(&fs_, directory_, "t.dlq");
  Status status = markers.Load();
  EXPECT_EQ(status.code(), StatusCode::kCorruption) << status.ToString();
  EXPECT_NE(status.message().find("line 2"), std::string::npos) << status.ToString();
  EXPECT_EQ(Contents(), "t.dlq 1\nt.dlq x2\nt.dlq 3\n");  // nothing changed
}

TEST_F(DlqRemovalMarkersTest, AnUnreadableFileFailsTheLoad) {
  // A directory where the file should be: ReadFile fails with something other than NotFound.
  ASSERT_TRUE(DefaultFileSystem()->CreateDirectories(Path()).ok());
  DlqRemovalMarkers markers(&fs_, directory_, "t.dlq");
  EXPECT_FALSE(markers.Load().ok());
}

TEST_F(DlqRemovalMarkersTest, WithoutADirectoryMarksStayInMemory) {
  DlqRemovalMarkers markers(&fs_, "", "t.dlq");
  ASSERT_TRUE(markers.Load().ok());
  ASSERT_TRUE(markers.MarkRemoved(6).ok());
  EXPECT_TRUE(markers.Contains(6));
  EXPECT_TRUE(markers.path().empty());
  EXPECT_EQ(fs_.appends(), 0u);
}

}  // namespace
}  // namespace wal::queue::kafka
