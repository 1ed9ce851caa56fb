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
