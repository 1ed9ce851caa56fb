// Recovery of states a power loss can leave (torn tails, holes inside the last,
// unsynced group) versus real mid-log corruption, and recovery's independence
// from the options in force when the log is reopened.
#include <gtest/gtest.h>

#include "log/log_test_fixture.h"

namespace wal::log {
namespace {

using testing::FileSize;
using testing::ReadWholeFile;

class LogRecoveryTest : public testing::LogTestBase {
 protected:
  // Writes one acknowledged entry ("lead"), then `count` entries of
  // `payload_bytes` each as one group. Returns the group's byte range.
  struct Layout {
    uint64_t group_start = 0;
    uint64_t group_end = 0;
    uint64_t record_bytes = 0;  // every record of the group has this size
  };
  Layout WriteLeadAndGroup(size_t count, size_t payload_bytes, const std::string& later = "") {
    Layout layout;
    auto log = OpenOrDie();
    std::vector<std::string> payloads;
    for (size_t i = 0; i < count; ++i) payloads.push_back(GroupPayload(i, payload_bytes));
    std::vector<AppendResult> results = AppendLeadThenGroup(log.get(), "lead", payloads, [&] {
      layout.group_start = FileSize(SegmentPath(0));
    });
    for (size_t i = 0; i < results.size(); ++i) {
      EXPECT_EQ(results[i].durability, Durability::kTrue);
      EXPECT_EQ(results[i].id, 1 + i);
    }
    EXPECT_EQ(log->Stats().fsyncs, 2u) << "the group was not committed with one fdatasync";
    layout.group_end = FileSize(SegmentPath(0));
    layout.record_bytes = (layout.group_end - layout.group_start) / count;
    if (!later.empty()) {
      EXPECT_EQ(AppendAndWait(log.get(), later).durability, Durability::kTrue);
    }
    EXPECT_TRUE(log->Close().ok());
    return layout;
  }
  static std::string GroupPayload(size_t i, size_t bytes) {
    std::string payload = "group-" + std::to_string(i) + "-";
    payload.resize(bytes, static_cast<char>('a' + i % 26));
    return payload;
  }
};

// Power loss while a group is being written can leave its first record's pages
// unwritten (zeros) while later pages of the same group reached the disk. That
// group was never acknowledged: it is a torn tail, not corruption.
TEST_F(LogRecoveryTest, ZeroHoleAtTheStartOfTheUnsyncedLastGroupIsATornTail) {
  Layout layout = WriteLeadAndGroup(3, 100);
  ZeroRange(SegmentPath(0), layout.group_start, layout.record_bytes);
  RecoveryReport report;
  auto log = Log::Open(DefaultFileSystem(), options_, &report);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_TRUE(report.corruption.empty());
  EXPECT_EQ(report.entries, 1u);
  EXPECT_EQ(report.truncated_tail_bytes, layout.group_end - layout.group_start);
  auto entries = ReadAll(log->get());
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].payload, "lead");
  // The log goes on from the cut, and reopens cleanly.
  EXPECT_EQ(AppendAndWait(log->get(), "next").id, 1u);
  ASSERT_TRUE((*log)->Close().ok());
  log->reset();
  RecoveryReport again;
  ASSERT_TRUE(Log::Open(DefaultFileSystem(), options_, &again).ok());
  EXPECT_EQ(again.entries, 2u);
  EXPECT_EQ(again.truncated_tail_bytes, 0u);
}

// A hole in the middle of the unsynced group: the group is cut whole, so no
// record of an unacknowledged group survives with a missing neighbour.
TEST_F(LogRecoveryTest, ZeroHoleInsideTheUnsyncedLastGroupCutsTheWholeGroup) {
  Layout layout = WriteLeadAndGroup(3, 100);
  ZeroRange(SegmentPath(0), layout.group_start + layout.record_bytes, layout.record_bytes);
  RecoveryReport report;
  auto log = Log::Open(DefaultFileSystem(), options_, &report);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ(report.entries, 1u);
  EXPECT_EQ(report.truncated_tail_bytes, layout.group_end - layout.group_start);
  EXPECT_EQ(ReadAll(log->get()).size(), 1u);
}

// A group of many small records spans several 4 KiB pages; any one page lost
// (zeros) while the others were written is a torn tail.
TEST_F(LogRecoveryTest, AnyLostPageOfALargeUnsyncedGroupIsATornTail) {
  Layout layout = WriteLeadAndGroup(200, 100);
  ASSERT_GT(layout.group_end - layout.group_start, 4u * 4096);
  const std::string path = SegmentPath(0);
  const std::string original = ReadWholeFile(path);
  for (uint64_t page = layout.group_start / 4096; page * 4096 < layout.group_end; ++page) {
    testing::WriteWholeFile(path, original);
    const uint64_t start = std::max(page * 4096, layout.group_start);
    const uint64_t end = std::min((page + 1) * 4096, layout.group_end);
    ZeroRange(path, start, end - start);
    RecoveryReport report;
    auto log = Log::Open(DefaultFileSystem(), options_, &report);
    ASSERT_TRUE(log.ok()) << "page " << page << ": " << log.status().ToString();
    EXPECT_EQ(report.entries, 1u) << "page " << page;
  }
}

// Damage inside a group that a later group follows is not a torn tail: the
// later group was only written after the damaged one was synced and answered.
TEST_F(LogRecoveryTest, DamageFollowedByALaterGroupIsCorruption) {
  Layout layout = WriteLeadAndGroup(3, 100, "later");
  const std::string path = SegmentPath(0);
  const std::string original = ReadWholeFile(path);
  for (uint64_t victim = 0; victim < 3; ++victim) {
    ZeroRange(path, layout.group_start + victim * layout.record_bytes, layout.record_bytes);
    RecoveryReport report;
    auto log = Log::Open(DefaultFileSystem(), options_, &report);
    EXPECT_EQ(log.status().code(), StatusCode::kCorruption) << "victim " << victim;
    EXPECT_NE(report.corruption.find(SegmentFileName(0)), std::string::npos) << report.corruption;
    testing::WriteWholeFile(path, original);
  }
  EXPECT_EQ(OpenOrDie()->Stats().next_id, 5u);
}

// A group whose last records never reached the disk (the file ends at a record
// boundary inside the group) has no commit marker: it is cut whole.
TEST_F(LogRecoveryTest, GroupWithoutItsLastRecordIsCutWhole) {
  Layout layout = WriteLeadAndGroup(4, 50);
  const std::string path = SegmentPath(0);
  testing::WriteWholeFile(path, ReadWholeFile(path).substr(0, layout.group_start + 3 * layout.record_bytes));
  RecoveryReport report;
  auto log = Log::Open(DefaultFileSystem(), options_, &report);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ(report.entries, 1u);
  EXPECT_EQ(report.truncated_tail_bytes, 3 * layout.record_bytes);
  EXPECT_EQ(FileSize(path), layout.group_start);
}

// A record with a valid checksum in the wrong place cannot come from a crash.
TEST_F(LogRecoveryTest, ValidRecordOutOfPlaceIsCorruption) {
  Layout layout = WriteLeadAndGroup(3, 50);
  const std::string path = SegmentPath(0);
  std::string contents = ReadWholeFile(path);
  // Swap the group's first two records: both intact, neither where it belongs.
  std::string first = contents.substr(layout.group_start, layout.record_bytes);
  std::string second = contents.substr(layout.group_start + layout.record_bytes, layout.record_bytes);
  contents.replace(layout.group_start, layout.record_bytes, second);
  contents.replace(layout.group_start + layout.record_bytes, layout.record_bytes, first);
  testing::WriteWholeFile(path, contents);
  RecoveryReport report;
  auto log = Log::Open(DefaultFileSystem(), options_, &report);
  EXPECT_EQ(log.status().code(), StatusCode::kCorruption);
  EXPECT_NE(report.corruption.find("expected id 1"), std::string::npos) << report.corruption;
  EXPECT_NE(log.status().message().find("wald --repair"), std::string::npos) << log.status().ToString();
}

// A crash while a segment is being created can leave any prefix of its header;
// with no record after it, that is a torn header, whatever its bytes.
TEST_F(LogRecoveryTest, PartlyWrittenHeaderOfTheLastSegmentIsRewritten) {
  options_.segment_bytes = 256;
  {
    auto log = OpenOrDie();
    for (int i = 0; i < 20; ++i) ASSERT_EQ(AppendAndWait(log.get(), PayloadFor(i)).durability, Durability::kTrue);
  }
  auto names = SegmentNames();
  ASSERT_GE(names.size(), 2u);
  const uint64_t last_first = *ParseSegmentFileName(names.back());
  const std::string header = EncodeSegmentHeader(last_first);
  for (size_t cut : {size_t{0}, size_t{1}, size_t{13}, kSegmentHeaderSize - 1}) {
    std::string torn = header.substr(0, cut) + std::string(kSegmentHeaderSize - cut, '\0');
    testing::WriteWholeFile(JoinPath(directory_, names.back()), torn);
    RecoveryReport report;
    auto log = Log::Open(DefaultFileSystem(), options_, &report);
    ASSERT_TRUE(log.ok()) << "cut " << cut << ": " << log.status().ToString();
    EXPECT_EQ((*log)->Stats().next_id, last_first);
    EXPECT_EQ(AppendAndWait(log->get(), "after").id, last_first);
  }
}

// Repair may drop ids; it then says so in the header of the segment after the
// gap, and recovery accepts exactly that gap.
TEST_F(LogRecoveryTest, GapDeclaredInTheSegmentHeaderIsAccepted) {
  {
    auto log = OpenOrDie();
    for (int i = 0; i < 3; ++i) ASSERT_EQ(AppendAndWait(log.get(), PayloadFor(i)).durability, Durability::kTrue);
  }
  std::string segment = EncodeSegmentHeader(10, 3);
  AppendRecord(10, 0, 1, "ten", &segment);
  testing::WriteWholeFile(SegmentPath(10), segment);
  RecoveryReport report;
  auto log = Log::Open(DefaultFileSystem(), options_, &report);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  auto entries = ReadAll(log->get());
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[3].id, 10u);
  EXPECT_EQ(entries[3].payload, "ten");
  EXPECT_EQ(ReadAll(log->get(), 5).front().id, 10u);  // a read from inside the gap starts after it
  EXPECT_EQ(AppendAndWait(log->get(), "eleven").id, 11u);
  ASSERT_TRUE((*log)->Close().ok());
  log->reset();

  // A header that declares a different gap start is corruption.
  std::string wrong = EncodeSegmentHeader(10, 2);
  AppendRecord(10, 0, 1, "ten", &wrong);
  testing::WriteWholeFile(SegmentPath(10), wrong);
  EXPECT_EQ(Log::Open(DefaultFileSystem(), options_, nullptr).status().code(), StatusCode::kCorruption);
}

// Logs written in format version 1 (no group framing) still open, keep their
// torn-tail rule, and new records go to a version 2 segment.
TEST_F(LogRecoveryTest, VersionOneLogOpensAndContinuesInVersionTwo) {
  ASSERT_TRUE(DefaultFileSystem()->CreateDirectories(directory_).ok());
  std::string first = EncodeSegmentHeaderV1(0);
  for (uint64_t id = 0; id < 5; ++id) AppendRecordV1(id, PayloadFor(id), &first);
  testing::WriteWholeFile(SegmentPath(0), first);
  std::string second = EncodeSegmentHeaderV1(5);
  for (uint64_t id = 5; id < 8; ++id) AppendRecordV1(id, PayloadFor(id), &second);
  const uint64_t whole = second.size();
  second += "torn";  // a torn tail, version 1 rule: keep whole records before it
  testing::WriteWholeFile(SegmentPath(5), second);
  testing::WriteWholeFile(JoinPath(directory_, std::string(kCheckpointFileName)), EncodeCheckpoint(2));

  RecoveryReport report;
  auto log = Log::Open(DefaultFileSystem(), options_, &report);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ(report.entries, 8u);
  EXPECT_EQ(report.truncated_tail_bytes, 4u);
  EXPECT_EQ(FileSize(SegmentPath(5)), whole);
  EXPECT_EQ((*log)->Stats().consumed_id, 2u);
  auto entries = ReadAll(log->get());
  ASSERT_EQ(entries.size(), 8u);
  for (uint64_t id = 0; id < 8; ++id) EXPECT_EQ(entries[id].payload, PayloadFor(id));
  EXPECT_EQ(SegmentNames().size(), 2u) << "Open itself writes nothing new";
  EXPECT_EQ(AppendAndWait(log->get(), PayloadFor(8)).id, 8u);
  EXPECT_EQ(SegmentNames().size(), 3u) << "a version 2 segment is started for new records";
  auto header = DecodeSegmentHeader(ReadWholeFile(SegmentPath(8)));
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->version, kFormatVersion);
  ASSERT_TRUE((*log)->CommitConsumed(8).ok());  // retention deletes the old segments like any other
  EXPECT_EQ(SegmentNames().size(), 1u);
  ASSERT_TRUE((*log)->Close().ok());
  log->reset();
  auto reopened = Log::Open(DefaultFileSystem(), options_, nullptr);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ((*reopened)->Stats().next_id, 9u);
}

TEST_F(LogRecoveryTest, VersionOneLogOpensOnAFullDisk) {
  ASSERT_TRUE(DefaultFileSystem()->CreateDirectories(directory_).ok());
  std::string segment = EncodeSegmentHeaderV1(0);
  for (uint64_t id = 0; id < 3; ++id) AppendRecordV1(id, PayloadFor(id), &segment);
  testing::WriteWholeFile(SegmentPath(0), segment);
  fs_.SetNoSpace(true);
  auto log = Log::Open(&fs_, options_, nullptr);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ(ReadAll(log->get()).size(), 3u);
  EXPECT_EQ(AppendAndWait(log->get(), "no room").status.code(), StatusCode::kNoSpace);
  fs_.SetNoSpace(false);
  EXPECT_EQ(AppendAndWait(log->get(), PayloadFor(3)).id, 3u);
}

TEST_F(LogRecoveryTest, VersionOneMidLogDamageIsStillCorruption) {
  ASSERT_TRUE(DefaultFileSystem()->CreateDirectories(directory_).ok());
  std::string segment = EncodeSegmentHeaderV1(0);
  std::vector<size_t> starts;
  for (uint64_t id = 0; id < 4; ++id) {
    starts.push_back(segment.size());
    AppendRecordV1(id, PayloadFor(id), &segment);
  }
  segment[starts[1] + kRecordHeaderSizeV1] ^= 0x20;
  testing::WriteWholeFile(SegmentPath(0), segment);
  RecoveryReport report;
  EXPECT_EQ(Log::Open(DefaultFileSystem(), options_, &report).status().code(), StatusCode::kCorruption);
  EXPECT_NE(report.corruption.find("offset " + std::to_string(starts[1])), std::string::npos) << report.corruption;
}

// An empty version 1 last segment is rewritten in place as version 2.
TEST_F(LogRecoveryTest, EmptyVersionOneSegmentIsRewritten) {
  ASSERT_TRUE(DefaultFileSystem()->CreateDirectories(directory_).ok());
  testing::WriteWholeFile(SegmentPath(0), EncodeSegmentHeaderV1(0));
  auto log = OpenOrDie(DefaultFileSystem());
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(AppendAndWait(log.get(), "first").id, 0u);
  EXPECT_EQ(SegmentNames().size(), 1u);
  auto header = DecodeSegmentHeader(ReadWholeFile(SegmentPath(0)));
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->version, kFormatVersion);
}

// Recovery trusts only the on-disk format: a lower max_record_bytes at reopen
// applies to new appends, never to records already stored.
TEST_F(LogRecoveryTest, RecoveryIgnoresTheConfiguredRecordLimit) {
  options_.segment_bytes = 4096;
  const std::string big(3000, 'b');
  {
    auto log = OpenOrDie();
    for (int i = 0; i < 3; ++i) ASSERT_EQ(AppendAndWait(log.get(), big).durability, Durability::kTrue);
    ASSERT_GE(log->Stats().segments, 2u);  // one big record sits in a closed segment
  }
  options_.max_record_bytes = 100;
  RecoveryReport report;
  auto log = Log::Open(DefaultFileSystem(), options_, &report);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ(report.entries, 3u);
  EXPECT_EQ(report.truncated_tail_bytes, 0u);
  auto entries = ReadAll(log->get());
  ASSERT_EQ(entries.size(), 3u);
  for (const auto& entry : entries) EXPECT_EQ(entry.payload, big);
  // New appends obey the new limit.
  EXPECT_EQ(AppendAndWait(log->get(), std::string(101, 'x')).durability, Durability::kFalse);
  EXPECT_EQ(AppendAndWait(log->get(), std::string(100, 'x')).id, 3u);
}

}  // namespace
}  // namespace wal::log
