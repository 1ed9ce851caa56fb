// Replication target settings and region selection; no memcached needed
// (unreachable servers answer retryable, skipped regions need no I/O).
// Real memcached and Kafka: tests/integration/replication_test.cc.
#include <gtest/gtest.h>

#include "target/replication/replication_target.h"

namespace wal::target {
namespace {

const char* kThreeRegions = R"({
  "regions": {"us-east-1": {"servers": ["127.0.0.1:1"]},
              "us-west-2": {"servers": ["127.0.0.1:1"]},
              "eu-west-1": {"servers": ["127.0.0.1:1"]}},
  "skip_local_region": true, "timeout": "200ms"})";

v1::Mutation Put(const std::string& key) {
  v1::Mutation mutation;
  mutation.set_op(v1::Mutation::PUT);
  mutation.set_key(key);
  mutation.set_value("v");
  return mutation;
}

TEST(ReplicationTargetTest, AnInstanceWithARegionAppliesToThatRegionOnly) {
  auto target = ReplicationTarget::FromSettings(kThreeRegions, TargetEnvironment{.local_region = "us-west-2", .data_dir = ""});
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  EXPECT_EQ((*target)->AppliedRegions(), std::vector<std::string>{"us-west-2"});

  auto fan_out = ReplicationTarget::FromSettings(kThreeRegions, TargetEnvironment{});
  ASSERT_TRUE(fan_out.ok()) << fan_out.status().ToString();
  EXPECT_EQ((*fan_out)->AppliedRegions(), (std::vector<std::string>{"eu-west-1", "us-east-1", "us-west-2"}));
}

TEST(ReplicationTargetTest, SkipsTheRegionTheWriteCameFrom) {
  auto target = ReplicationTarget::FromSettings(kThreeRegions, TargetEnvironment{.local_region = "us-west-2", .data_dir = ""});
  ASSERT_TRUE(target.ok());
  DeliveryContext from_here{"ns", 1, 1, "", "us-west-2"};
  EXPECT_TRUE((*target)->ApplyMutation(Put("k"), from_here).ok()) << "skipped: no I/O, ok";
  DeliveryContext from_elsewhere{"ns", 1, 1, "", "us-east-1"};
  ApplyResult result = (*target)->ApplyMutation(Put("k"), from_elsewhere);
  EXPECT_EQ(result.outcome, ApplyOutcome::kRetryable) << result.reason;
  EXPECT_NE(result.reason.find("region us-west-2"), std::string::npos) << result.reason;

  // Without skip_local_region the origin region is written too.
  std::string settings = kThreeRegions;
  settings.replace(settings.find("true"), 4, "false");
  auto writes_back = ReplicationTarget::FromSettings(settings, TargetEnvironment{.local_region = "us-west-2", .data_dir = ""});
  ASSERT_TRUE(writes_back.ok());
  EXPECT_EQ((*writes_back)->ApplyMutation(Put("k"), from_here).outcome, ApplyOutcome::kRetryable);
}

TEST(ReplicationTargetTest, LocalRegionIsTheOriginOfUnstampedRecords) {
  std::string settings = kThreeRegions;
  settings.insert(settings.rfind('}'), R"(, "local_region": "eu-west-1")");
  auto target = ReplicationTarget::FromSettings(settings, TargetEnvironment{.local_region = "eu-west-1", .data_dir = ""});
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  EXPECT_TRUE((*target)->ApplyMutation(Put("k"), DeliveryContext{"ns", 1, 1, "", ""}).ok());
}

TEST(ReplicationTargetTest, BadSettingsNameTheSetting) {
  for (const char* bad : {
           R"({})",
           R"({"regions": {}})",
           R"({"regions": {"a": {"servers": []}}})",
           R"({"regions": {"a": {"servers": ["nohost"]}}})",
           R"({"regions": {"a": {"servers": ["h:1"], "weight": 2}}})",
           R"({"regions": {"a": {"servers": ["h:1"]}}, "local_region": "b"})",
           R"({"regions": {"a": {"servers": ["h:1"]}}, "skip_local_region": "maybe"})",
           R"({"regions": {"a": {"servers": ["h:1"]}}, "replicas": 3})",
       }) {
    auto target = ReplicationTarget::FromSettings(bad, TargetEnvironment{});
    ASSERT_FALSE(target.ok()) << bad;
    EXPECT_EQ(target.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(target.status().message().find("target."), std::string::npos) << target.status().message();
  }
  auto unknown_region = ReplicationTarget::FromSettings(kThreeRegions, TargetEnvironment{.local_region = "ap-south-1", .data_dir = ""});
  ASSERT_FALSE(unknown_region.ok());
  EXPECT_NE(unknown_region.status().message().find("ap-south-1"), std::string::npos);
}

TEST(ReplicationTargetTest, RefusesOpaquePayloads) {
  auto target = ReplicationTarget::FromSettings(kThreeRegions, TargetEnvironment{});
  ASSERT_TRUE(target.ok());
  v1::Payload payload;
  payload.set_opaque("x");
  EXPECT_EQ((*target)->ValidatePayload(payload).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*target)->DeliverOpaque("x", DeliveryContext{}).outcome, ApplyOutcome::kPermanent);
}

}  // namespace
}  // namespace wal::target
