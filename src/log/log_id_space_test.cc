// The id space: entry ids are below kEntryIdLimit (2^63). A segment that starts
// or holds records outside it is corruption (to Open and to the offline check
// alike; repair removes it), and an append at the end of the space is refused
// without writing anything, so no id ever wraps to 0.
#include <gtest/gtest.h>

#include "log/log_test_fixture.h"
#include "log/repair.h"

namespace wal::log {
namespace {

using testing::FileSize;
using testing::ReadWholeFile;
using testing::WriteWholeFile;

class LogIdSpaceTest : public testing::LogTestBase {
 protected:
  void SetUp() override {
    LogTestBase::SetUp();
    ASSERT_TRUE(DefaultFileSystem()->CreateDirectories(directory_).ok());
  }

  // A version 2 segment starting at `first_id` with one single-record group per
  // payload; the file is named by `first_id`.
  void WriteSegment(uint64_t first_id, const std::vector<std::string>& payloads) {
    std::string contents = EncodeSegmentHeader(first_id);
    for (size_t i = 0; i < payloads.size(); ++i) AppendRecord(first_id + i, 0, 1, payloads[i], &contents);
    WriteWholeFile(SegmentPath(first_id), contents);
  }

  // Open must fail with kCorruption, and the offline check must say the same.
  void ExpectCorruptionMentioning(const std::string& text) {
    RecoveryReport report;
    auto log = Log::Open(DefaultFileSystem(), options_, &report);
    ASSERT_FALSE(log.ok()) << "the log opened; next_id " << (*log)->Stats().next_id;
    EXPECT_EQ(log.status().code(), StatusCode::kCorruption) << log.status().ToString();
    EXPECT_NE(report.corruption.find(text), std::string::npos) << report.corruption;
    auto check = CheckLog(DefaultFileSystem(), directory_);
    ASSERT_TRUE(check.ok()) << check.status().ToString();
    EXPECT_EQ(check->corruption, report.corruption);
  }
};

TEST_F(LogIdSpaceTest, TheIdSpaceEndsAtTwoToTheSixtyThird) {
  EXPECT_EQ(kEntryIdLimit, uint64_t{1} << 63);
  EXPECT_EQ(kMaxEntryId, kEntryIdLimit - 1);
}

TEST_F(LogIdSpaceTest, SegmentStartingOutsideTheIdSpaceIsCorruption) {
  WriteSegment(UINT64_MAX, {});
  ExpectCorruptionMentioning("outside the id space");
}

TEST_F(LogIdSpaceTest, SegmentStartingJustPastTheIdSpaceIsCorruption) {
  WriteSegment(kEntryIdLimit, {});
  ExpectCorruptionMentioning("outside the id space");
}

// A torn header is otherwise rewritten as an empty segment at the file name's
// id; outside the id space that would hand out wrapping ids.
TEST_F(LogIdSpaceTest, TornHeaderOfASegmentNamedOutsideTheIdSpaceIsCorruption) {
  WriteWholeFile(SegmentPath(UINT64_MAX), std::string(kSegmentHeaderSize, '\0'));
  ExpectCorruptionMentioning("outside the id space");
}

// The last record of the space is fine; one more record would end the log past
// it (at 2^63 + 1).
TEST_F(LogIdSpaceTest, RecordWithAnIdOutsideTheIdSpaceIsCorruption) {
  WriteSegment(kMaxEntryId, {"last id", "one too many"});
  ExpectCorruptionMentioning("record id " + std::to_string(kEntryIdLimit) + " is outside the id space");
}

TEST_F(LogIdSpaceTest, LogFillingTheWholeIdSpaceOpens) {
  WriteSegment(kMaxEntryId, {"last id"});
  auto log = OpenOrDie();
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->Stats().first_id, kMaxEntryId);
  EXPECT_EQ(log->Stats().next_id, kEntryIdLimit);
  auto entries = ReadAll(log.get());
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].id, kMaxEntryId);
  EXPECT_EQ(entries[0].payload, "last id");
}

TEST_F(LogIdSpaceTest, AppendPastTheIdSpaceIsRefusedAndWritesNothing) {
  options_.segment_bytes = 60;  // full after one record: a further append would start a new segment
  options_.preallocate = false;
  WriteSegment(kMaxEntryId - 1, {});
  auto log = OpenOrDie();
  ASSERT_NE(log, nullptr);
  AppendResult first = AppendAndWait(log.get(), "second to last");
  EXPECT_EQ(first.durability, Durability::kTrue);
  EXPECT_EQ(first.id, kMaxEntryId - 1);
  AppendResult last = AppendAndWait(log.get(), "last");
  EXPECT_EQ(last.durability, Durability::kTrue);
  EXPECT_EQ(last.id, kMaxEntryId);
  const std::vector<std::string> segments = SegmentNames();
  const uint64_t last_segment_bytes = FileSize(SegmentPath(kMaxEntryId));

  AppendResult refused = AppendAndWait(log.get(), "no id left");
  EXPECT_EQ(refused.durability, Durability::kFalse);
  EXPECT_EQ(refused.status.code(), StatusCode::kResourceExhausted) << refused.status.ToString();
  EXPECT_NE(refused.status.message().find("id space"), std::string::npos) << refused.status.ToString();
  EXPECT_EQ(log->Stats().next_id, kEntryIdLimit);
  EXPECT_FALSE(log->Stats().poisoned);
  EXPECT_EQ(SegmentNames(), segments) << "a segment was started for an append that got no id";
  EXPECT_EQ(FileSize(SegmentPath(kMaxEntryId)), last_segment_bytes);
  ASSERT_TRUE(log->Close().ok());

  RecoveryReport report;
  auto reopened = Log::Open(DefaultFileSystem(), options_, &report);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ((*reopened)->Stats().next_id, kEntryIdLimit);
  auto entries = ReadAll(reopened->get());
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1].payload, "last");
}

// In one group, the appends that still have an id are written; the rest are
// refused.
TEST_F(LogIdSpaceTest, GroupReachingPastTheIdSpaceKeepsTheAppendsThatFit) {
  WriteSegment(kMaxEntryId - 2, {});
  auto log = OpenOrDie();
  ASSERT_NE(log, nullptr);
  std::vector<AppendResult> results = AppendLeadThenGroup(log.get(), "lead", {"fits", "fits too", "no id left"});
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].durability, Durability::kTrue);
  EXPECT_EQ(results[0].id, kMaxEntryId - 1);
  EXPECT_EQ(results[1].durability, Durability::kTrue);
  EXPECT_EQ(results[1].id, kMaxEntryId);
  EXPECT_EQ(results[2].durability, Durability::kFalse);
  EXPECT_EQ(results[2].status.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(log->Stats().next_id, kEntryIdLimit);
  EXPECT_EQ(ReadAll(log.get()).size(), 3u);
}

TEST_F(LogIdSpaceTest, RepairRemovesASegmentOutsideTheIdSpaceAndKeepsTheRest) {
  WriteSegment(0, {"a", "b"});
  WriteSegment(UINT64_MAX, {"wraps"});
  const uint64_t outside_bytes = FileSize(SegmentPath(UINT64_MAX));

  auto repaired = RepairLog(DefaultFileSystem(), directory_);
  ASSERT_TRUE(repaired.ok()) << repaired.status().ToString();
  EXPECT_TRUE(repaired->changed);
  ASSERT_EQ(repaired->dropped.size(), 1u) << repaired->Describe();
  EXPECT_EQ(repaired->dropped[0].segment, SegmentFileName(UINT64_MAX));
  EXPECT_EQ(repaired->dropped[0].bytes, outside_bytes);
  EXPECT_EQ(repaired->ids_lost, 0u);
  EXPECT_NE(repaired->Describe().find("outside the id space"), std::string::npos) << repaired->Describe();
  EXPECT_EQ(SegmentNames(), std::vector<std::string>{SegmentFileName(0)});

  auto again = RepairLog(DefaultFileSystem(), directory_);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE(again->changed);
  auto log = OpenOrDie();
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(ReadAll(log.get()).size(), 2u);
  EXPECT_EQ(AppendAndWait(log.get(), "c").id, 2u);
}

TEST_F(LogIdSpaceTest, RepairDropsTheRecordsOutsideTheIdSpace) {
  WriteSegment(kMaxEntryId, {"last id", "one too many"});
  auto repaired = RepairLog(DefaultFileSystem(), directory_);
  ASSERT_TRUE(repaired.ok()) << repaired.status().ToString();
  EXPECT_TRUE(repaired->changed);
  EXPECT_EQ(repaired->ids_lost, 0u) << repaired->Describe();
  auto log = OpenOrDie();
  ASSERT_NE(log, nullptr);
  auto entries = ReadAll(log.get());
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].payload, "last id");
  EXPECT_EQ(log->Stats().next_id, kEntryIdLimit);
  EXPECT_EQ(AppendAndWait(log.get(), "no id left").durability, Durability::kFalse);
}

}  // namespace
}  // namespace wal::log
