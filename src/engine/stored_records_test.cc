#include "engine/stored_records.h"

#include <gtest/gtest.h>

#include "engine/testing/fake_backend.h"

namespace wal::engine {
namespace {

std::string Marker(const std::string& set_id) {
  v1::LogRecord record;
  record.mutable_set_ref()->set_set_id(set_id);
  return record.SerializeAsString();
}

std::string Plain() {
  v1::LogRecord record;
  record.mutable_payload()->set_opaque("x");
  return record.SerializeAsString();
}

TEST(StoredRecordsTest, VisitsEveryEntryAcrossShortPages) {
  testing::FakeBackend backend;
  for (uint64_t id = 10; id < 20; ++id) backend.AddEntry(id, "r" + std::to_string(id));
  std::vector<uint64_t> seen;
  ASSERT_TRUE(
      ForEachStoredEntry(backend, StoredStream::kLog, 12, [&](const queue::StoredEntry& e) { seen.push_back(e.id); })
          .ok());
  EXPECT_EQ(seen, (std::vector<uint64_t>{12, 13, 14, 15, 16, 17, 18, 19}));
}

// A read error part-way used to end the scan as if the log ended there.
TEST(StoredRecordsTest, AReadErrorPartWayIsReturnedNotTakenForTheEnd) {
  testing::FakeBackend backend;
  for (uint64_t id = 0; id < 10; ++id) backend.AddEntry(id, Plain());
  backend.FailReadsFrom(2);
  size_t seen = 0;
  Status status = ForEachStoredEntry(backend, StoredStream::kLog, 0, [&](const queue::StoredEntry&) { ++seen; });
  EXPECT_EQ(status.code(), StatusCode::kIOError) << status.ToString();
  EXPECT_NE(status.message().find("from id 3"), std::string::npos) << status.ToString();
  EXPECT_EQ(seen, 3u);
}

TEST(StoredRecordsTest, CollectsMarkersFromTheLogAndTheDeadLetters) {
  testing::FakeBackend backend;
  backend.AddEntry(0, Plain());
  backend.AddEntry(1, Marker("a"));
  backend.AddEntry(2, Plain());
  backend.AddEntry(3, Plain());
  backend.AddEntry(4, Marker("b"));
  backend.AddDeadLetter(0, Marker("c"));
  auto markers = CollectSetMarkers(backend);
  ASSERT_TRUE(markers.ok()) << markers.status().ToString();
  ASSERT_EQ(markers->live.size(), 2u);
  EXPECT_EQ(markers->live[1].set_ref().set_id(), "b");
  ASSERT_EQ(markers->dead.size(), 1u);
  EXPECT_EQ(markers->dead[0].set_ref().set_id(), "c");
  EXPECT_TRUE(markers->complete);
}

// The marker scan decides which stored sets were never acknowledged: a scan
// cut short by a read error must fail, or acknowledged sets whose markers come
// later are dropped and never applied.
TEST(StoredRecordsTest, AReadErrorFailsTheMarkerScan) {
  testing::FakeBackend backend;
  for (uint64_t id = 0; id < 6; ++id) backend.AddEntry(id, Plain());
  backend.AddEntry(6, Marker("late"));
  backend.FailReadsFrom(2);
  auto markers = CollectSetMarkers(backend);
  EXPECT_FALSE(markers.ok());
  backend.FailReadsFrom(0);
  backend.AddDeadLetter(0, Marker("dead"));
  backend.FailReadsFrom(4);  // three log pages, then the DLQ read fails
  EXPECT_FALSE(CollectSetMarkers(backend).ok());
}

TEST(StoredRecordsTest, AnUnparsableRecordMakesTheMarkerScanIncomplete) {
  testing::FakeBackend backend;
  backend.AddEntry(0, Marker("a"));
  backend.AddEntry(1, std::string("\xff\xff\xff", 3));
  auto markers = CollectSetMarkers(backend);
  ASSERT_TRUE(markers.ok());
  EXPECT_EQ(markers->live.size(), 1u);
  EXPECT_FALSE(markers->complete) << "the unparsable record may have been a marker";
}

}  // namespace
}  // namespace wal::engine
