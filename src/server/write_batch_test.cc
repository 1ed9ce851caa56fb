#include "server/write_batch.h"

#include <gtest/gtest.h>

#include <grpcpp/grpcpp.h>

#include <future>

#include "server/server_test_support.h"

namespace wal::server {
namespace {

class WriteBatchTest : public testing::EngineFixture {
 protected:
  v1::WriteToLogBatchResponse Run(const WriteSubmitter& submitter, const v1::WriteToLogBatchRequest& batch,
                                  std::string_view authorization = "") {
    std::promise<v1::WriteToLogBatchResponse> answered;
    auto future = answered.get_future();
    SubmitBatch(submitter, authorization, batch,
                [&answered](v1::WriteToLogBatchResponse results) { answered.set_value(std::move(results)); });
    return future.get();
  }
};

v1::WriteToLogRequest WriteTo(const std::string& name) {
  v1::WriteToLogRequest write;
  write.set_namespace_(name);
  write.mutable_payload()->set_opaque("x");
  return write;
}

TEST_F(WriteBatchTest, EachWriteGetsItsOwnResultInOrder) {
  Open({{"orders", "name: orders\ndelay: {default: 1h}\n"}});
  WriteSubmitter submitter(engine_.get(), nullptr, nullptr);
  v1::WriteToLogBatchRequest batch;
  *batch.add_writes() = WriteTo("orders");
  *batch.add_writes() = WriteTo("missing");
  *batch.add_writes() = WriteTo("orders");
  v1::WriteToLogBatchResponse results = Run(submitter, batch);
  ASSERT_EQ(results.results_size(), 3);
  EXPECT_EQ(results.results(0).written().durable(), v1::TRUE);
  EXPECT_EQ(results.results(1).refused().code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  EXPECT_EQ(results.results(2).written().durable(), v1::TRUE);
  EXPECT_LT(results.results(0).written().id(), results.results(2).written().id());
}

TEST_F(WriteBatchTest, AnEmptyBatchIsAnsweredAtOnce) {
  Open({});
  WriteSubmitter submitter(engine_.get(), nullptr, nullptr);
  EXPECT_EQ(Run(submitter, v1::WriteToLogBatchRequest()).results_size(), 0);
}

TEST_F(WriteBatchTest, TheGateRefusesWritesOneByOne) {
  Open({{"limited", "name: limited\nlimits: {writes_per_second: 1, burst: 2}\ndelay: {default: 1h}\n"}});
  RequestGate gate(engine_.get(), nullptr, nullptr, "");
  WriteSubmitter submitter(engine_.get(), &gate, nullptr);
  v1::WriteToLogBatchRequest batch;
  for (int i = 0; i < 4; ++i) *batch.add_writes() = WriteTo("limited");
  v1::WriteToLogBatchResponse results = Run(submitter, batch);
  ASSERT_EQ(results.results_size(), 4);
  EXPECT_TRUE(results.results(0).has_written());
  EXPECT_TRUE(results.results(1).has_written());
  EXPECT_EQ(results.results(2).refused().code(), static_cast<int>(grpc::StatusCode::RESOURCE_EXHAUSTED));
  EXPECT_NE(results.results(2).refused().message().find("limits.writes_per_second"), std::string::npos);
  EXPECT_EQ(results.results(3).refused().code(), static_cast<int>(grpc::StatusCode::RESOURCE_EXHAUSTED));
}

TEST(WriteBatchLimitTest, MoreThanTheLimitIsRefused) {
  v1::WriteToLogBatchRequest batch;
  for (size_t i = 0; i < kMaxBatchWrites; ++i) batch.add_writes();
  EXPECT_TRUE(CheckBatch(batch).ok());
  batch.add_writes();
  Status refused = CheckBatch(batch);
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("at most 10000"), std::string::npos) << refused.message();
}

}  // namespace
}  // namespace wal::server
