// Offline repair: it cuts out exactly the damage, reports every lost id, and
// leaves a log that opens and keeps every intact record.
#include "log/repair.h"

#include <gtest/gtest.h>

#include "log/log_test_fixture.h"

namespace wal::log {
namespace {

using testing::FileSize;
using testing::ReadWholeFile;
using testing::WriteWholeFile;

class LogRepairTest : public testing::LogTestBase {
 protected:
  // Appends `count` entries, each its own group; returns each record's offset
  // in its segment (segment first id, offset).
  std::vector<std::pair<uint64_t, uint64_t>> WriteEntries(uint64_t count) {
    std::vector<std::pair<uint64_t, uint64_t>> where;
    auto log = OpenOrDie();
    for (uint64_t i = 0; i < count; ++i) {
      const uint64_t segment = log->SegmentFirstIds().back();
      const uint64_t before = FileSize(SegmentPath(segment));
      EXPECT_EQ(AppendAndWait(log.get(), PayloadFor(i)).durability, Durability::kTrue);
      const uint64_t now_segment = log->SegmentFirstIds().back();
      where.emplace_back(now_segment, now_segment == segment ? before : kSegmentHeaderSize);
    }
    EXPECT_TRUE(log->Close().ok());
    return where;
  }

  RepairReport RepairOrDie() {
    auto repaired = RepairLog(DefaultFileSystem(), directory_);
    EXPECT_TRUE(repaired.ok()) << repaired.status().ToString();
    return repaired.ok() ? repaired.value() : RepairReport{};
  }

  // Opens the repaired log and checks it holds exactly the ids not in `lost`,
  // with their payloads.
  void ExpectHoldsAllBut(uint64_t count, const std::set<uint64_t>& lost) {
    RecoveryReport report;
    auto log = Log::Open(DefaultFileSystem(), options_, &report);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    auto entries = ReadAll(log->get());
    std::vector<uint64_t> ids;
    for (const LogEntry& entry : entries) {
      ids.push_back(entry.id);
      EXPECT_EQ(entry.payload, PayloadFor(entry.id));
    }
    std::vector<uint64_t> expected;
    for (uint64_t id = 0; id < count; ++id) {
      if (!lost.count(id)) expected.push_back(id);
    }
    EXPECT_EQ(ids, expected);
    EXPECT_EQ((*log)->Stats().next_id, count);
    EXPECT_EQ(AppendAndWait(log->get(), PayloadFor(count)).id, count);
  }
};

TEST_F(LogRepairTest, HealthyLogIsLeftAlone) {
  WriteEntries(5);
  const std::string before = ReadWholeFile(SegmentPath(0));
  RepairReport report = RepairOrDie();
  EXPECT_FALSE(report.changed);
  EXPECT_TRUE(report.dropped.empty());
  EXPECT_EQ(ReadWholeFile(SegmentPath(0)), before);
  EXPECT_EQ(report.Describe(), "log is healthy: nothing to repair\n");
  auto check = CheckLog(DefaultFileSystem(), directory_);
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE(check->corruption.empty());
  EXPECT_EQ(check->entries, 5u);
}

// A bad record with acknowledged records after it: only that record is lost.
TEST_F(LogRepairTest, DamagedRecordInTheLastSegmentLosesOnlyThatRecord) {
  auto where = WriteEntries(10);
  const std::string path = SegmentPath(0);
  std::string contents = ReadWholeFile(path);
  const uint64_t damaged_at = where[4].second;
  contents[damaged_at + kRecordHeaderSize] ^= 0x01;
  WriteWholeFile(path, contents);
  ASSERT_FALSE(Log::Open(DefaultFileSystem(), options_, nullptr).ok());
  auto check = CheckLog(DefaultFileSystem(), directory_);
  ASSERT_TRUE(check.ok());
  EXPECT_FALSE(check->corruption.empty());

  RepairReport report = RepairOrDie();
  EXPECT_TRUE(report.changed);
  EXPECT_NE(report.damage.find("offset " + std::to_string(damaged_at)), std::string::npos) << report.damage;
  ASSERT_EQ(report.dropped.size(), 1u) << report.Describe();
  const RepairDrop& drop = report.dropped[0];
  EXPECT_EQ(drop.segment, SegmentFileName(0));
  EXPECT_EQ(drop.offset, damaged_at);
  EXPECT_EQ(drop.bytes, where[5].second - where[4].second);
  EXPECT_EQ(drop.first_lost_id, 4u);
  EXPECT_EQ(drop.end_lost_id, 5u);
  EXPECT_EQ(report.ids_lost, 1u);
  EXPECT_NE(report.Describe().find("record ids 4..4 lost (1)"), std::string::npos) << report.Describe();
  ExpectHoldsAllBut(10, {4});
  // Repairing again finds nothing to do.
  EXPECT_FALSE(RepairOrDie().changed);
}

// Damage at the very end of a non-last segment: the ids up to the next
// segment are lost, and the next segment records the gap.
TEST_F(LogRepairTest, DamageAtTheEndOfANonLastSegment) {
  options_.segment_bytes = 256;
  auto where = WriteEntries(40);
  auto names = SegmentNames();
  ASSERT_GE(names.size(), 3u);
  const uint64_t second = *ParseSegmentFileName(names[1]);
  const uint64_t third = *ParseSegmentFileName(names[2]);
  const std::string path = JoinPath(directory_, names[1]);
  std::string contents = ReadWholeFile(path);
  WriteWholeFile(path, contents.substr(0, contents.size() - 1));
  RepairReport report = RepairOrDie();
  EXPECT_EQ(report.ids_lost, 1u) << report.Describe();
  ASSERT_FALSE(report.dropped.empty());
  EXPECT_EQ(report.dropped[0].first_lost_id, third - 1);
  EXPECT_EQ(report.dropped[0].end_lost_id, third);
  EXPECT_EQ(report.dropped[0].segment, names[1]);
  (void)second;
  ExpectHoldsAllBut(40, {third - 1});
}

TEST_F(LogRepairTest, MissingSegmentIsReportedAsLostIds) {
  options_.segment_bytes = 256;
  WriteEntries(40);
  auto names = SegmentNames();
  ASSERT_GE(names.size(), 3u);
  const uint64_t second = *ParseSegmentFileName(names[1]);
  const uint64_t third = *ParseSegmentFileName(names[2]);
  ASSERT_TRUE(DefaultFileSystem()->RemoveFile(JoinPath(directory_, names[1])).ok());
  RepairReport report = RepairOrDie();
  ASSERT_EQ(report.dropped.size(), 1u) << report.Describe();
  EXPECT_EQ(report.dropped[0].segment, "");
  EXPECT_EQ(report.dropped[0].first_lost_id, second);
  EXPECT_EQ(report.dropped[0].end_lost_id, third);
  EXPECT_EQ(report.written, std::vector<std::string>{names[2]});
  std::set<uint64_t> lost;
  for (uint64_t id = second; id < third; ++id) lost.insert(id);
  ExpectHoldsAllBut(40, lost);
  auto header = DecodeSegmentHeader(ReadWholeFile(JoinPath(directory_, names[2])));
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->gap_start_id, second);
}

// Several damaged places in one segment, including its header.
TEST_F(LogRepairTest, EveryIntactRecordOfADamagedSegmentIsKept) {
  options_.segment_bytes = 1 << 20;
  auto where = WriteEntries(20);
  const std::string path = SegmentPath(0);
  std::string contents = ReadWholeFile(path);
  contents[3] ^= 0x01;                                   // the header
  contents[where[2].second + 5] ^= 0x01;                 // record 2
  for (uint64_t i = where[7].second; i < where[9].second; ++i) contents[i] = 0;  // records 7 and 8
  contents[where[15].second + kRecordHeaderSize + 1] ^= 0x01;  // record 15
  WriteWholeFile(path, contents);
  RepairReport report = RepairOrDie();
  EXPECT_EQ(report.ids_lost, 4u) << report.Describe();
  ExpectHoldsAllBut(20, {2, 7, 8, 15});
  for (const auto& drop : report.dropped) EXPECT_EQ(drop.segment, SegmentFileName(0)) << report.Describe();
}

TEST_F(LogRepairTest, DamagedCheckpointIsRemovedSoNothingIsSkipped) {
  WriteEntries(5);
  {
    auto log = OpenOrDie();
    ASSERT_TRUE(log->CommitConsumed(3).ok());
  }
  const std::string checkpoint = JoinPath(directory_, std::string(kCheckpointFileName));
  std::string contents = ReadWholeFile(checkpoint);
  contents[9] ^= 0x01;
  WriteWholeFile(checkpoint, contents);
  RepairReport report = RepairOrDie();
  EXPECT_FALSE(report.checkpoint_removed.empty());
  EXPECT_EQ(report.ids_lost, 0u);
  EXPECT_NE(report.Describe().find("delivered again"), std::string::npos);
  auto log = OpenOrDie();
  EXPECT_EQ(log->Stats().consumed_id, 0u);
  EXPECT_EQ(ReadAll(log.get()).size(), 5u);
}

// The last group of the last segment is torn (never acknowledged) and there is
// real damage before it: the damage is reported as lost, the torn group not.
TEST_F(LogRepairTest, TornLastGroupIsNotCountedAsLost) {
  uint64_t group_start = 0;
  std::vector<uint64_t> starts;
  {
    auto log = OpenOrDie();
    for (uint64_t i = 0; i < 5; ++i) {
      starts.push_back(FileSize(SegmentPath(0)));
      ASSERT_EQ(AppendAndWait(log.get(), PayloadFor(i)).durability, Durability::kTrue);
    }
    AppendLeadThenGroup(log.get(), PayloadFor(5), {PayloadFor(6), PayloadFor(7), PayloadFor(8)},
                        [&] { group_start = FileSize(SegmentPath(0)); });
  }
  const std::string path = SegmentPath(0);
  std::string contents = ReadWholeFile(path);
  contents[starts[1] + 2] ^= 0x01;  // real damage: record 1, with later groups after it
  const uint64_t record_bytes = (contents.size() - group_start) / 3;
  WriteWholeFile(path, contents.substr(0, group_start + 2 * record_bytes));  // the group lost its last record
  RepairReport report = RepairOrDie();
  EXPECT_EQ(report.ids_lost, 1u) << report.Describe();
  EXPECT_NE(report.Describe().find("never acknowledged"), std::string::npos) << report.Describe();
  auto log = Log::Open(DefaultFileSystem(), options_, nullptr);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  std::vector<uint64_t> ids;
  for (const auto& entry : ReadAll(log->get())) ids.push_back(entry.id);
  EXPECT_EQ(ids, (std::vector<uint64_t>{0, 2, 3, 4, 5}));
}

// A crash in the middle of a repair (new files in place, the original not yet
// removed) is finished by running repair again.
TEST_F(LogRepairTest, RepairInterruptedBeforeRemovingTheOriginalFinishesOnTheNextRun) {
  auto where = WriteEntries(6);
  const std::string path = SegmentPath(0);
  std::string contents = ReadWholeFile(path);
  contents[where[0].second + kRecordHeaderSize] ^= 0x01;  // record 0: the kept run starts at id 1
  WriteWholeFile(path, contents);
  RepairReport first = RepairOrDie();
  EXPECT_EQ(first.removed, std::vector<std::string>{SegmentFileName(0)});
  // As if the crash came before the removal: the damaged original is back.
  WriteWholeFile(path, contents);
  WriteWholeFile(SegmentPath(1) + ".repair", "half-written leftover");
  RepairReport second = RepairOrDie();
  EXPECT_TRUE(second.changed);
  EXPECT_FALSE(DefaultFileSystem()->Exists(SegmentPath(1) + ".repair"));
  ExpectHoldsAllBut(6, {0});
}

TEST_F(LogRepairTest, VersionOneSegmentsAreRepairedIntoTheCurrentFormat) {
  ASSERT_TRUE(DefaultFileSystem()->CreateDirectories(directory_).ok());
  std::string segment = EncodeSegmentHeaderV1(0);
  std::vector<size_t> starts;
  for (uint64_t id = 0; id < 6; ++id) {
    starts.push_back(segment.size());
    AppendRecordV1(id, PayloadFor(id), &segment);
  }
  segment[starts[2] + kRecordHeaderSizeV1] ^= 0x01;
  WriteWholeFile(SegmentPath(0), segment);
  RepairReport report = RepairOrDie();
  EXPECT_EQ(report.ids_lost, 1u) << report.Describe();
  ExpectHoldsAllBut(6, {2});
  auto header = DecodeSegmentHeader(ReadWholeFile(SegmentPath(3)));
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->version, kFormatVersion);
  EXPECT_EQ(header->gap_start_id, 2u);
}

TEST_F(LogRepairTest, FindsTheLogsUnderADirectoryTree) {
  WriteEntries(1);
  LogOptions other = options_;
  other.directory = JoinPath(directory_ + "_tree", "a/b/log");
  ASSERT_TRUE(Log::Open(DefaultFileSystem(), other, nullptr).ok());
  ASSERT_TRUE(DefaultFileSystem()->CreateDirectories(JoinPath(directory_ + "_tree", "empty")).ok());
  auto found = FindLogDirectories(DefaultFileSystem(), directory_ + "_tree");
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found.value(), std::vector<std::string>{other.directory});
  (void)DefaultFileSystem()->RemoveAll(directory_ + "_tree");
}

}  // namespace
}  // namespace wal::log
