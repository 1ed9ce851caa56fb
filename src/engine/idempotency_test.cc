#include "engine/idempotency.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace wal::engine
