// The namespace schema: saving and parsing round trips, how YAML and JSON
// documents decode, and the operations fields (access tokens and limits).
#include "config/namespace_config.h"

#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "config/config_test_support.h"
#include "queue/kafka/kafka_config.h"
#include "queue/local/local_config.h"
#include "queue/sqs/sqs_config.h"
#include "sets/postgres/postgres_config.h"
#include "target/redis/redis_config.h"

namespace wal::config {
namespace {

using namespace testing;
using std::chrono::milliseconds;

// ---------------------------------------------------------------------------
// Round trips

class RoundTripTest : public ::testing::TestWithParam<std::tuple<std::string_view, Format>> {};

TEST_P(RoundTripTest, SaveThenParseGivesTheSameConfig) {
  auto [backend, format] = GetParam();
  NamespaceConfig original = FullyPopulated(backend);
  ASSERT_TRUE(ValidateNamespace(original).ok()) << ValidateNamespace(original).message();

  std::string text = SaveNamespace(original, format);
  auto parsed = ParseNamespace(text, format, "roundtrip");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message() << "\n" << text;
  EXPECT_EQ(parsed.value(), original) << text;
  // Saving is deterministic, so a second trip gives identical text.
  EXPECT_EQ(SaveNamespace(parsed.value(), format), text);
}

INSTANTIATE_TEST_SUITE_P(AllBackendsAndFormats, RoundTripTest,
                         ::testing::Combine(::testing::Values("local", "kafka", "sqs"),
                                            ::testing::Values(Format::kYaml, Format::kJson)));

TEST(RoundTrip, EveryTargetTypeSurvivesYaml) {
  const char* targets[] = {
      R"({"type":"sqlite","path":"./data/kv.db","busy_timeout":"1s"})",
      R"({"type":"memcached","servers":["127.0.0.1:11211","[::1]:11212"]})",
      R"({"type":"redis","address":"127.0.0.1:6379","db":2})",
      R"({"type":"postgres","dsn":"host=127.0.0.1 dbname=kv","table":"items"})",
      R"({"type":"kafka","bootstrap_servers":"127.0.0.1:9092","topic":"out","permanent_errors":[]})",
      R"({"type":"http","url":"http://127.0.0.1:1/hook","headers":{"Authorization":"Bearer 1"}})",
      R"({"type":"replication","regions":{"us-east-1":{"servers":["127.0.0.1:11211"]},)"
      R"("eu-west-1":{"servers":["127.0.0.1:11213"]}},"local_region":"us-east-1","skip_local_region":true})",
      R"({"type":"none"})",
  };
  for (const char* target : targets) {
    NamespaceConfig original = FullyPopulated("local");
    original.target = Target(target);
    for (Format format : {Format::kYaml, Format::kJson}) {
      std::string text = SaveNamespace(original, format);
      auto parsed = ParseNamespace(text, format, "t");
      ASSERT_TRUE(parsed.ok()) << target << ": " << parsed.status().message();
      EXPECT_EQ(parsed.value(), original) << target << "\n" << text;
      EXPECT_EQ(SaveNamespace(parsed.value(), format), text) << target;
    }
  }
}

TEST(RoundTrip, NamedTargetsAndDurableStorageSurviveBothFormats) {
  NamespaceConfig original = FullyPopulated("kafka");
  original.targets["cache"] = Target(R"({"type":"redis","address":"127.0.0.1:6379","timeout":"500ms","db":2})");
  original.targets["search"] =
      Target(R"({"type":"postgres","dsn":"host=127.0.0.1 dbname=kv","create_tables":false,"schema":"s"})");
  auto& storage = original.durable_storage.settings.Mutable<sets::PostgresSetStoreConfig>();
  storage.dsn = "host=127.0.0.1 dbname=wal";
  storage.table = "kv_sets";
  original.durable_storage.chunk_bytes = 65536;
  original.durable_storage.max_set_bytes = 32ull << 20;
  original.durable_storage.max_mutations = 500;
  for (Format format : {Format::kYaml, Format::kJson}) {
    auto parsed = ParseNamespace(SaveNamespace(original, format), format, "t");
    ASSERT_TRUE(parsed.ok()) << parsed.status().message();
    EXPECT_EQ(parsed.value(), original);
  }
  // YAML scalars under a named target are typed by the target's schema, like `target`.
  auto typed = ParseNamespace("name: n\ntargets: {cache: {type: redis, address: 127.0.0.1:6379, db: 3}}\n",
                              Format::kYaml, "t");
  ASSERT_TRUE(typed.ok()) << typed.status().message();
  const auto* redis = typed->targets.at("cache").settings.As<target::RedisTargetConfig>();
  ASSERT_NE(redis, nullptr);
  EXPECT_EQ(redis->db, 3);
  EXPECT_EQ(FormatHostPort(redis->address), "127.0.0.1:6379");
  EXPECT_EQ(typed->durable_storage, DurableStorageConfig{}) << "defaults: local, 1 MiB chunks";
  EXPECT_EQ(typed->durable_storage.type(), "local");
}

TEST(RoundTrip, NamespaceToJsonIsTheJsonSaverAndNamespaceFromJsonReadsIt) {
  NamespaceConfig original = FullyPopulated("kafka");
  std::string json = NamespaceToJson(original);
  EXPECT_EQ(json, SaveNamespace(original, Format::kJson));
  auto parsed = NamespaceFromJson(json, "admin");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed.value(), original);
}

// ---------------------------------------------------------------------------
// Decoding details

TEST(Parse, MinimalDocumentGetsDefaults) {
  auto parsed = ParseNamespace("name: orders\n", Format::kYaml, "orders.yaml");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  NamespaceConfig expected;
  expected.name = "orders";
  expected.dlq.name = "orders-dlq";
  EXPECT_EQ(parsed.value(), expected);
}

TEST(Parse, YamlScalarsAreTypedByTheSchema) {
  // Quoted and unquoted numbers and bools, durations as text or milliseconds.
  const char* yaml = R"(
name: "123"
backend: {type: local, local: {segment_bytes: "1048576", preallocate: "false"}}
delay: {default: 1500, jitter: "30s", max_delay: 0}
backoff: {initial: 1s, multiplier: 2, max: 1m}
max_retries: "7"
flags: {wal_enabled: TRUE, dlq_enabled: false}
)";
  auto parsed = ParseNamespace(yaml, Format::kYaml, "typed.yaml");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->name, "123");
  const auto& local = parsed->backend.settings.Get<queue::local::LocalBackendConfig>();
  EXPECT_EQ(local.segment_bytes, 1048576u);
  EXPECT_FALSE(local.preallocate);
  EXPECT_EQ(parsed->delay.default_delay, milliseconds(1500));
  EXPECT_EQ(parsed->delay.jitter, milliseconds(30'000));
  EXPECT_EQ(parsed->backoff.multiplier, 2.0);
  EXPECT_EQ(parsed->max_retries, 7);
  EXPECT_TRUE(parsed->flags.wal_enabled);
}

TEST(Parse, TargetSettingsAreTypedByTheirModule) {
  // Quoted and unquoted YAML scalars alike: the redis schema says what each is.
  const char* yaml = R"(
name: kv
target: {type: redis, address: "127.0.0.1:6379", db: "2", timeout: 250, password: 12345}
)";
  auto parsed = ParseNamespace(yaml, Format::kYaml, "kv.yaml");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->target.type(), "redis");
  const auto* redis = parsed->target.settings.As<target::RedisTargetConfig>();
  ASSERT_NE(redis, nullptr);
  EXPECT_EQ(redis->db, 2);
  EXPECT_EQ(redis->timeout, milliseconds(250));
  EXPECT_EQ(redis->password, "12345");
}

TEST(Parse, ReferenceStyleAliases) {
  const char* kafka = R"(
name: evcache-foobar
backend:
  type: KAFKA
  kafka:
    bootstrap_servers: 127.0.0.1:9092
    wal-kafka-topics: [evcache_foobar]
    wal-kafka-dlq-topics: []
)";
  auto parsed = ParseNamespace(kafka, Format::kYaml, "evcache-foobar.yaml");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->backend.type(), "kafka");
  const auto& kafka_settings = parsed->backend.settings.Get<queue::kafka::KafkaBackendConfig>();
  EXPECT_EQ(kafka_settings.topics, std::vector<std::string>{"evcache_foobar"});
  EXPECT_TRUE(kafka_settings.dlq_topics.empty());
  EXPECT_EQ(kafka_settings.consumer_group, "wal-evcache-foobar");

  const char* sqs = R"(
name: deletes
backend:
  type: sqs
  sqs:
    wal-queue: [deletes-queue]
    wal-dlq-queue: deletes-dlq
    queue.poll-interval.secs: 10
    queue.max-messages-per-poll: 10
)";
  parsed = ParseNamespace(sqs, Format::kYaml, "deletes.yaml");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  const auto& sqs_settings = parsed->backend.settings.Get<queue::sqs::SqsBackendConfig>();
  EXPECT_EQ(sqs_settings.queue, "deletes-queue");
  EXPECT_EQ(sqs_settings.dlq_queue, "deletes-dlq");
  EXPECT_EQ(sqs_settings.poll_interval, milliseconds(10'000));
  EXPECT_EQ(sqs_settings.max_messages_per_poll, 10);
  // The saver writes canonical names only.
  EXPECT_EQ(SaveNamespace(parsed.value(), Format::kYaml).find("wal-queue"), std::string::npos);
}

TEST(Parse, ProtobufStructStyleNumbersAreAccepted) {
  // google.protobuf.Struct carries every number as a double.
  auto parsed = NamespaceFromJson(R"({"name":"n","max_retries":5.0,"max_payload_bytes":1024.0})", "admin");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->max_retries, 5);
}

TEST(Parse, ValidateNamespaceChecksInMemoryConfigs) {
  NamespaceConfig config = FullyPopulated("local");
  config.consumer.concurrency = 0;
  Status status = ValidateNamespace(config);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "consumer.concurrency: must be in 1..256, got 0");
}

// ---------------------------------------------------------------------------
// Operations fields: access tokens and limits.

TEST(OperationsConfig, AccessAndLimitsRoundTrip) {
  NamespaceConfig config = FullyPopulated("local");
  config.access.tokens = {{"producer", std::string(64, 'a'), {"write"}}, {"ops", std::string(64, '0'), {"read", "admin"}}};
  config.limits = {250.5, 500, 100000};
  for (Format format : {Format::kYaml, Format::kJson}) {
    std::string text = SaveNamespace(config, format);
    auto parsed = ParseNamespace(text, format, "ops");
    ASSERT_TRUE(parsed.ok()) << parsed.status().message() << "\n" << text;
    EXPECT_EQ(parsed.value(), config) << text;
  }
  // Unset, they are not written at all.
  std::string plain = SaveNamespace(FullyPopulated("local"), Format::kYaml);
  EXPECT_EQ(plain.find("access"), std::string::npos);
  EXPECT_EQ(plain.find("limits"), std::string::npos);
}

TEST(OperationsConfig, BadAccessAndLimitsAreNamed) {
  const std::pair<const char*, const char*> cases[] = {
      {"name: a\naccess: {tokens: [{name: t, sha256: secret-token, scopes: [write]}]}\n",
       "ns.yaml: access.tokens[0].sha256: must be 64 lowercase hex digits (the SHA-256 of the token, not the token)"},
      {"name: a\naccess: {tokens: [{name: t, sha256: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, scopes: [fly]}]}\n",
       "ns.yaml: access.tokens[0].scopes[0]: must be one of write, read or admin, got 'fly'"},
      {"name: a\nlimits: {writes_per_second: -1}\n",
       "ns.yaml: limits.writes_per_second: must be in 0..1000000000 (0 = unlimited)"},
      {"name: a\nlimits: {max_backlgo: 3}\n",
       "ns.yaml: limits.max_backlgo: unknown field 'max_backlgo' (did you mean 'max_backlog'?)"},
  };
  for (const auto& [text, message] : cases) {
    auto parsed = ParseNamespace(text, Format::kYaml, "ns.yaml");
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.status().message(), message);
    // The secret-looking value is never echoed back.
    EXPECT_EQ(parsed.status().message().find("secret-token"), std::string::npos);
  }
}

}  // namespace
}  // namespace wal::config
