// Validation and settings of the memcached target; nothing here talks to a
// server (see servers_test.cc for that).
#include <gtest/gtest.h>

#include "target/memcached/memcached_target.h"

namespace wal::target {
namespace {

std::unique_ptr<MemcachedTarget> MakeTarget(std::string key_prefix = "", uint64_t max_item_bytes = 1 << 20) {
  MemcachedTarget::Options options;
  options.servers = {HostPort{"127.0.0.1", 1}};
  options.key_prefix = std::move(key_prefix);
  options.max_item_bytes = max_item_bytes;
  auto target = MemcachedTarget::Create(std::move(options));
  EXPECT_TRUE(target.ok()) << target.status().ToString();
  return std::move(target).value();
}

v1::Payload PutPayload(std::string table, std::string partition_key, std::string key, std::string value) {
  v1::Payload payload;
  v1::Mutation* mutation = payload.mutable_mutation();
  mutation->set_op(v1::Mutation::PUT);
  mutation->set_table(std::move(table));
  mutation->set_partition_key(std::move(partition_key));
  mutation->set_key(std::move(key));
  mutation->set_value(std::move(value));
  return payload;
}

void ExpectRejected(const Status& status, const std::string& field) {
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
  EXPECT_NE(status.message().find(field), std::string::npos) << status.message();
}

TEST(MemcachedValidationTest, KeysMustFitMemcachedsRules) {
  auto target = MakeTarget("app:");
  EXPECT_TRUE(target->ValidatePayload(PutPayload("t", "p", "key", "v")).ok());
  EXPECT_TRUE(target->ValidatePayload(PutPayload("", "", "ключ", "v")).ok()) << "UTF-8 bytes are fine";

  // "app:" + "t:" + "p:" = 8 bytes of layout around the key.
  EXPECT_TRUE(target->ValidatePayload(PutPayload("t", "p", std::string(242, 'k'), "v")).ok());
  ExpectRejected(target->ValidatePayload(PutPayload("t", "p", std::string(243, 'k'), "v")), "payload.mutation.key");

  ExpectRejected(target->ValidatePayload(PutPayload("t", "p", "has space", "v")), "payload.mutation.key");
  ExpectRejected(target->ValidatePayload(PutPayload("t", "p", "tab\there", "v")), "payload.mutation.key");
  ExpectRejected(target->ValidatePayload(PutPayload("t", "p", std::string("nul\0", 4), "v")), "payload.mutation.key");
  ExpectRejected(target->ValidatePayload(PutPayload("t", "p", "del\x7f", "v")), "payload.mutation.key");
  ExpectRejected(target->ValidatePayload(PutPayload("t", "p", "", "v")), "payload.mutation.key");
  ExpectRejected(target->ValidatePayload(PutPayload("t", "p q", "k", "v")), "payload.mutation.partition_key");
  ExpectRejected(target->ValidatePayload(PutPayload("t\n", "p", "k", "v")), "payload.mutation.table");

  // ApplyMutation re-checks, so an entry that skipped validation is permanent, not retried.
  ApplyResult result = target->ApplyMutation(PutPayload("t", "p", "bad key", "v").mutation(), DeliveryContext{});
  EXPECT_EQ(result.outcome, ApplyOutcome::kPermanent) << result.reason;
}

TEST(MemcachedValidationTest, ValuesMustFitTheItemLimit) {
  auto target = MakeTarget();
  const uint64_t limit = 1 << 20;
  // The key "k" plus the item overhead count against the limit.
  const size_t largest = limit - 1 - MemcachedTarget::kItemOverheadBytes;
  EXPECT_TRUE(target->ValidatePayload(PutPayload("", "", "k", std::string(largest, 'v'))).ok());
  ExpectRejected(target->ValidatePayload(PutPayload("", "", "k", std::string(largest + 1, 'v'))),
                 "payload.mutation.value");
  ExpectRejected(target->ValidatePayload(PutPayload("", "", "k", std::string(largest + 1, 'v'))), "max_item_bytes");

  // A delete carries no value, so only the key matters.
  v1::Payload deletion = PutPayload("", "", "k", std::string(limit * 2, 'v'));
  deletion.mutable_mutation()->set_op(v1::Mutation::DELETE);
  EXPECT_TRUE(target->ValidatePayload(deletion).ok());

  auto small = MakeTarget("", 4096);
  ExpectRejected(small->ValidatePayload(PutPayload("", "", "k", std::string(4096, 'v'))), "payload.mutation.value");
}

TEST(MemcachedValidationTest, SetsAreCheckedPerMutationAndOpaqueIsRefused) {
  auto target = MakeTarget();
  v1::Payload set;
  *set.mutable_mutation_set()->add_mutations() = PutPayload("", "", "good", "v").mutation();
  *set.mutable_mutation_set()->add_mutations() = PutPayload("", "", "bad key", "v").mutation();
  ExpectRejected(target->ValidatePayload(set), "payload.mutation_set.mutations[1].key");

  v1::Payload opaque;
  opaque.set_opaque("bytes");
  ExpectRejected(target->ValidatePayload(opaque), "payload.opaque");
  EXPECT_EQ(target->DeliverOpaque("bytes", DeliveryContext{}).outcome, ApplyOutcome::kPermanent);
}

TEST(MemcachedValidationTest, ExpirationsBeyondThirtyDaysAreAbsolute) {
  const int64_t now = 1'700'000'000;
  EXPECT_EQ(MemcachedTarget::ExpirationFor(0, now), 0);
  EXPECT_EQ(MemcachedTarget::ExpirationFor(1, now), 1) << "rounded up, never to 'no expiry'";
  EXPECT_EQ(MemcachedTarget::ExpirationFor(1500, now), 2);
  const int64_t thirty_days = 30LL * 24 * 3600;
  EXPECT_EQ(MemcachedTarget::ExpirationFor(thirty_days * 1000, now), thirty_days);
  EXPECT_EQ(MemcachedTarget::ExpirationFor((thirty_days + 1) * 1000, now), now + thirty_days + 1);
}

TEST(MemcachedValidationTest, ParsesAndRejectsSettings) {
  auto good = MemcachedTarget::FromSettings(
      R"({"servers": ["127.0.0.1:11211", "[::1]:11212"], "timeout": "250ms", "key_prefix": "evc:",
          "max_item_bytes": 2097152.0})");
  EXPECT_TRUE(good.ok()) << good.status().ToString();

  struct Case {
    const char* json;
    const char* expected;
  };
  for (const Case& c : {Case{R"({})", "target.servers: required for target type 'memcached'"},
                        Case{R"({"servers": []})", "target.servers: must not be empty"},
                        Case{R"({"servers": "127.0.0.1:11211"})", "target.servers: must be a list"},
                        Case{R"({"servers": ["127.0.0.1:11211", "nohost"]})", "target.servers[1]: must be host:port"},
                        Case{R"({"servers": ["127.0.0.1:99999"]})", "target.servers[0]"},
                        Case{R"({"servers": ["h:1"], "key_prefix": "a b"})", "target.key_prefix"},
                        Case{R"({"servers": ["h:1"], "max_item_bytes": 10})", "target.max_item_bytes: must be in"},
                        Case{R"({"servers": ["h:1"], "max_item_bytes": "lots"})", "must be an integer"},
                        Case{R"({"servers": ["h:1"], "timeout": "1.5s"})", "target.timeout"},
                        Case{R"({"servers": ["h:1"], "server": []})", "target.server: unknown field 'server' (did you mean 'servers'?)"}}) {
    auto result = MemcachedTarget::FromSettings(c.json);
    ASSERT_FALSE(result.ok()) << c.json;
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(result.status().message().find(c.expected), std::string::npos)
        << c.json << " -> " << result.status().message();
  }
}

}  // namespace
}  // namespace wal::target
