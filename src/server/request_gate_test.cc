#include "server/request_gate.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "server/server_test_support.h"
#include "server/shard_map.h"

namespace wal::server {
namespace {

class RequestGateTest : public testing::EngineFixture {};

TEST_F(RequestGateTest, RateLimiterBucketRefillsAtTheRate) {
  RateLimiter limiter;
  const auto start = RateLimiter::Clock::now();
  EXPECT_TRUE(limiter.Allow("a", 0, 0, start));  // unlimited
  int allowed = 0;
  for (int i = 0; i < 20; ++i) allowed += limiter.Allow("b", 10, 5, start) ? 1 : 0;
  EXPECT_EQ(allowed, 5);  // the burst
  EXPECT_FALSE(limiter.Allow("b", 10, 5, start));
  EXPECT_TRUE(limiter.Allow("b", 10, 5, start + std::chrono::milliseconds(110)));  // 1.1 tokens back
  EXPECT_FALSE(limiter.Allow("b", 10, 5, start + std::chrono::milliseconds(120)));
}

TEST_F(RequestGateTest, RateLimiterSaysHowLongUntilTheBucketHoldsAWriteAgain) {
  RateLimiter limiter;
  const auto start = RateLimiter::Clock::now();
  RateLimiter::Clock::duration wait{};
  EXPECT_TRUE(limiter.Allow("slow", 0.5, 1, start, &wait));
  EXPECT_FALSE(limiter.Allow("slow", 0.5, 1, start, &wait));
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(wait).count(), 2000);  // a token per 2 s
  EXPECT_FALSE(limiter.Allow("slow", 0.5, 1, start + std::chrono::milliseconds(500), &wait));
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(wait).count(), 1500);
}

TEST_F(RequestGateTest, LimitsAndDrainAndShards) {
  Open({{"limited", "name: limited\nlimits: {writes_per_second: 1, burst: 2}\n"},
        {"backlogged", "name: backlogged\nlimits: {max_backlog: 1}\ndelay: {default: 1h}\n"}});
  auto map = ShardMap::Parse(
      "shards:\n  a: {addresses: ['127.0.0.1:1'], namespaces: [limited, backlogged]}\n"
      "  b: {addresses: ['10.0.0.2:7400'], http: ['10.0.0.2:7401'], namespaces: [elsewhere]}\n",
      config::Format::kYaml, "shards.yaml");
  ASSERT_TRUE(map.ok()) << map.status().message();
  RequestGate gate(engine_.get(), nullptr,
                   std::make_shared<Swappable<ShardMap>>(std::make_shared<ShardMap>(std::move(map).value())), "a");
  EXPECT_TRUE(gate.AdmitWrite("", "limited").ok());
  EXPECT_TRUE(gate.AdmitWrite("", "limited").ok());
  Admission limited = gate.AdmitWrite("", "limited");
  EXPECT_EQ(limited.status.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(limited.status.message().find("limits.writes_per_second"), std::string::npos);
  EXPECT_EQ(limited.retry_after_seconds, 1);  // one write a second: the next token is under a second away

  Admission misdirected = gate.AdmitWrite("", "elsewhere");
  EXPECT_EQ(misdirected.status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(misdirected.address, "10.0.0.2:7400");
  EXPECT_EQ(misdirected.http_address, "10.0.0.2:7401");
  EXPECT_EQ(misdirected.shard, "b");
  EXPECT_NE(misdirected.status.message().find("10.0.0.2:7400"), std::string::npos);

  // Two pending entries pass max_backlog 1.
  for (int i = 0; i < 2; ++i) {
    v1::WriteToLogRequest request;
    request.set_namespace_("backlogged");
    request.mutable_payload()->set_opaque("x");
    std::promise<engine::WriteOutcome> done;
    engine_->WriteToLog(request, [&](engine::WriteOutcome outcome) { done.set_value(std::move(outcome)); });
    ASSERT_EQ(done.get_future().get().response.durable(), v1::TRUE);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(150));  // past the backlog sample's age
  Admission backlog = gate.AdmitWrite("", "backlogged");
  EXPECT_EQ(backlog.status.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(backlog.status.message().find("max_backlog"), std::string::npos);
  EXPECT_EQ(backlog.retry_after_seconds, 5);

  gate.BeginDrain();
  EXPECT_EQ(gate.AdmitWrite("", "limited").status.code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace wal::server
