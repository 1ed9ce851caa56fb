// Kafka target settings and error classification; no broker needed (the
// producer connects lazily). Produce paths are covered through wald in
// tests/integration/replication_test.cc.
#include <gtest/gtest.h>

#include "target/kafka/kafka_target.h"

namespace wal::target {
namespace {

constexpr int kMsgSizeTooLarge = 10;        // RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE
constexpr int kUnknownTopicOrPart = 3;      // RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART
constexpr int kNotEnoughReplicas = 19;      // RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS
constexpr int kLocalMsgTimedOut = -192;     // RD_KAFKA_RESP_ERR__MSG_TIMED_OUT
constexpr int kLocalTransport = -195;       // RD_KAFKA_RESP_ERR__TRANSPORT

TEST(KafkaTargetTest, BuildsWithoutABrokerAndClassifiesErrors) {
  auto target = KafkaTarget::FromSettings(R"({"bootstrap_servers": "127.0.0.1:1", "topic": "out", "timeout": "2s"})");
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  EXPECT_EQ((*target)->Classify(0), ApplyOutcome::kOk);
  EXPECT_EQ((*target)->Classify(kMsgSizeTooLarge), ApplyOutcome::kPermanent);
  EXPECT_EQ((*target)->Classify(kUnknownTopicOrPart), ApplyOutcome::kPermanent);
  EXPECT_EQ((*target)->Classify(kNotEnoughReplicas), ApplyOutcome::kRetryable);
  EXPECT_EQ((*target)->Classify(kLocalMsgTimedOut), ApplyOutcome::kRetryable);
  EXPECT_EQ((*target)->Classify(kLocalTransport), ApplyOutcome::kRetryable);
}

TEST(KafkaTargetTest, PermanentErrorsAreConfigurable) {
  auto target = KafkaTarget::FromSettings(
      R"({"bootstrap_servers": "127.0.0.1:1", "topic": "out", "permanent_errors": ["_MSG_TIMED_OUT"]})");
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  EXPECT_EQ((*target)->Classify(kLocalMsgTimedOut), ApplyOutcome::kPermanent);
  EXPECT_EQ((*target)->Classify(kMsgSizeTooLarge), ApplyOutcome::kRetryable);

  auto none = KafkaTarget::FromSettings(R"({"bootstrap_servers": "h:1", "topic": "out", "permanent_errors": []})");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ((*none)->Classify(kUnknownTopicOrPart), ApplyOutcome::kRetryable);
}

TEST(KafkaTargetTest, RefusesSettingsThatVoidTheGuarantees) {
  for (const char* bad : {
           R"({"topic": "out"})",
           R"({"bootstrap_servers": "h:1"})",
           R"({"bootstrap_servers": "h:1", "topic": "out", "properties": {"acks": "1"}})",
           R"({"bootstrap_servers": "h:1", "topic": "out", "properties": {"enable.idempotence": "false"}})",
           R"({"bootstrap_servers": "h:1", "topic": "out", "properties": {"bootstrap.servers": "x:1"}})",
           R"({"bootstrap_servers": "h:1", "topic": "out", "properties": {"no.such.property": "1"}})",
           R"({"bootstrap_servers": "h:1", "topic": "out", "permanent_errors": ["NO_SUCH_ERROR"]})",
           R"({"bootstrap_servers": "h:1", "topic": "out", "encoding": "json"})",
           R"({"bootstrap_servers": "h:1", "topic": "out", "tpoic": "x"})",
       }) {
    auto target = KafkaTarget::FromSettings(bad);
    ASSERT_FALSE(target.ok()) << bad;
    EXPECT_EQ(target.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(target.status().message().find("target."), std::string::npos) << target.status().message();
  }
}

TEST(KafkaTargetTest, ValidatesSizeBeforeAccepting) {
  auto target = KafkaTarget::FromSettings(
      R"({"bootstrap_servers": "h:1", "topic": "out", "encoding": "value", "max_message_bytes": 100})");
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  v1::Payload payload;
  payload.mutable_mutation()->set_op(v1::Mutation::PUT);
  payload.mutable_mutation()->set_key("k");
  payload.mutable_mutation()->set_value(std::string(50, 'x'));
  EXPECT_TRUE((*target)->ValidatePayload(payload).ok());
  payload.mutable_mutation()->set_value(std::string(200, 'x'));
  EXPECT_EQ((*target)->ValidatePayload(payload).code(), StatusCode::kInvalidArgument);
  v1::Payload opaque;
  opaque.set_opaque(std::string(101, 'o'));
  EXPECT_EQ((*target)->ValidatePayload(opaque).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace wal::target
