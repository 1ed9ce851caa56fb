#include "engine/idempotency.h"

#include <gtest/gtest.h>

#include <google/protobuf/util/time_util.h>

#include "engine/testing/fake_backend.h"
#include "wal/v1/record.pb.h"

namespace wal::engine {
namespace {

using Clock = IdempotencyTable::Clock;

v1::WriteToLogResponse Durable(uint64_t id) {
  v1::WriteToLogResponse response;
  response.set_durable(v1::TRUE);
  response.set_id(id);
  return response;
}

TEST(IdempotencyTest, RepeatWithinTheWindowIsAnsweredWithTheOriginalId) {
  IdempotencyTable table(std::chrono::seconds(60));
  const auto now = Clock::now();
  int answered = 0;
  auto never = [&](const v1::WriteToLogResponse&) { ++answered; };
  ASSERT_EQ(table.Begin("k", now, never), IdempotencyTable::Claim::kFirst);
  table.Finish("k", Durable(42), now);
  v1::WriteToLogResponse seen;
  auto capture = [&](const v1::WriteToLogResponse& response) { seen = response; };
  EXPECT_EQ(table.Begin("k", now + std::chrono::seconds(30), capture), IdempotencyTable::Claim::kDuplicate);
  EXPECT_EQ(seen.id(), 42u);
  EXPECT_EQ(seen.durable(), v1::TRUE);
  EXPECT_EQ(answered, 0);
  // After the window the key is free again.
  EXPECT_EQ(table.Begin("k", now + std::chrono::seconds(61), capture), IdempotencyTable::Claim::kFirst);
}

TEST(IdempotencyTest, ConcurrentRepeatWaitsForTheFirstWrite) {
  IdempotencyTable table(std::chrono::seconds(60));
  const auto now = Clock::now();
  std::vector<uint64_t> answers;
  auto capture = [&](const v1::WriteToLogResponse& response) { answers.push_back(response.id()); };
  ASSERT_EQ(table.Begin("k", now, capture), IdempotencyTable::Claim::kFirst);
  EXPECT_EQ(table.Begin("k", now, capture), IdempotencyTable::Claim::kWaiting);
  EXPECT_EQ(table.Begin("k", now, capture), IdempotencyTable::Claim::kWaiting);
  EXPECT_TRUE(answers.empty());
  table.Finish("k", Durable(7), now);
  EXPECT_EQ(answers, (std::vector<uint64_t>{7, 7}));
}

TEST(IdempotencyTest, AFailedFirstWriteReleasesTheKey) {
  IdempotencyTable table(std::chrono::seconds(60));
  const auto now = Clock::now();
  auto ignore = [](const v1::WriteToLogResponse&) {};
  ASSERT_EQ(table.Begin("k", now, ignore), IdempotencyTable::Claim::kFirst);
  v1::WriteToLogResponse failed;
  failed.set_durable(v1::FALSE);
  table.Finish("k", failed, now);
  EXPECT_EQ(table.Begin("k", now, ignore), IdempotencyTable::Claim::kFirst);
}

TEST(IdempotencyTest, RememberedKeysExpireFromTheirAcceptedTime) {
  IdempotencyTable table(std::chrono::seconds(10));
  const auto now = Clock::now();
  table.Remember("old", 1, now - std::chrono::seconds(20));
  table.Remember("recent", 2, now - std::chrono::seconds(5));
  auto ignore = [](const v1::WriteToLogResponse&) {};
  EXPECT_EQ(table.Begin("old", now, ignore), IdempotencyTable::Claim::kFirst);
  EXPECT_EQ(table.Begin("recent", now, ignore), IdempotencyTable::Claim::kDuplicate);
}

std::string Keyed(const std::string& key, Clock::time_point accepted) {
  v1::LogRecord record;
  record.set_idempotency_key(key);
  *record.mutable_accepted_time() = google::protobuf::util::TimeUtil::MillisecondsToTimestamp(
      std::chrono::duration_cast<std::chrono::milliseconds>(accepted.time_since_epoch()).count());
  return record.SerializeAsString();
}

uint64_t DuplicateId(IdempotencyTable& table, const std::string& key, Clock::time_point now) {
  v1::WriteToLogResponse seen;
  EXPECT_EQ(table.Begin(key, now, [&](const v1::WriteToLogResponse& r) { seen = r; }),
            IdempotencyTable::Claim::kDuplicate);
  return seen.id();
}

// A retried write leaves copies (the original and each replacement) with the
// write's accepted time; after a restart the duplicate answer must carry the
// original's id, as before the restart, not the newest copy's.
TEST(IdempotencyTest, RebuildAnswersWithTheOriginalIdNotTheNewestCopy) {
  const auto now = Clock::now();
  const auto accepted = now - std::chrono::seconds(10);
  testing::FakeBackend backend;
  backend.AddEntry(5, Keyed("k", accepted));   // the original
  backend.AddEntry(9, Keyed("k", accepted));   // its reschedule
  backend.AddEntry(14, Keyed("k", accepted));  // and a copy-forward
  IdempotencyTable table(std::chrono::seconds(60));
  RestoreReport report = RestoreIdempotencyKeys(backend, table, now);
  ASSERT_TRUE(report.status.ok()) << report.status.ToString();
  EXPECT_EQ(DuplicateId(table, "k", now), 5u);
}

TEST(IdempotencyTest, RebuildKeepsANewerWriteOfAKeyWhoseWindowHadEnded) {
  const auto now = Clock::now();
  testing::FakeBackend backend;
  backend.AddEntry(5, Keyed("k", now - std::chrono::seconds(100)));  // outside the 60 s window
  backend.AddEntry(9, Keyed("k", now - std::chrono::seconds(10)));   // written again later
  IdempotencyTable table(std::chrono::seconds(60));
  ASSERT_TRUE(RestoreIdempotencyKeys(backend, table, now).status.ok());
  EXPECT_EQ(DuplicateId(table, "k", now), 9u);
}

// The rebuild used to stop silently at a read error, as if the log ended.
TEST(IdempotencyTest, RebuildReportsAReadError) {
  const auto now = Clock::now();
  testing::FakeBackend backend;
  for (uint64_t id = 0; id < 9; ++id) backend.AddEntry(id, Keyed("k" + std::to_string(id), now));
  backend.FailReadsFrom(2);
  IdempotencyTable table(std::chrono::seconds(60));
  RestoreReport report = RestoreIdempotencyKeys(backend, table, now);
  EXPECT_EQ(report.status.code(), StatusCode::kIOError) << report.status.ToString();
  EXPECT_EQ(report.restored, 3u) << "the keys before the failure are restored";
}

}  // namespace
}  // namespace wal::engine
