// The namespace schema, parsed through the built-in modules' catalog, so the
// config users write (backends, targets, set stores included) is tested whole.
#include "config/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <cctype>
#include <random>
#include <set>
#include <string>

#include <unistd.h>

#include "modules/builtin_modules.h"
#include "queue/kafka/kafka_config.h"
#include "queue/local/local_config.h"
#include "queue/sqs/sqs_config.h"
#include "sets/postgres/postgres_config.h"
#include "target/redis/redis_config.h"

namespace wal::config {
namespace {

using std::chrono::milliseconds;

const ModuleCatalog& Modules() { return modules::BuiltinModules().catalog(); }

Result<NamespaceConfig> ParseNamespace(std::string_view text, Format format, std::string_view source) {
  return config::ParseNamespace(text, format, source, Modules());
}
Result<NamespaceConfig> NamespaceFromJson(std::string_view text, std::string_view source) {
  return config::NamespaceFromJson(text, source, Modules());
}
DirectoryLoad LoadNamespaceDirectory(FileSystem* file_system, const std::string& directory) {
  return config::LoadNamespaceDirectory(file_system, directory, Modules());
}
Result<NamespaceConfig> LoadNamespaceFile(FileSystem* file_system, const std::string& path) {
  return config::LoadNamespaceFile(file_system, path, Modules());
}

// A target block ({"type": ..., settings}) decoded as a namespace file's would be.
TargetConfig Target(std::string_view json) {
  auto decoded = TargetFromJson(json, "target", Modules());
  EXPECT_TRUE(decoded.ok()) << json << ": " << decoded.status().message();
  return decoded.ok() ? decoded.value() : TargetConfig{};
}

NamespaceConfig FullyPopulated(std::string_view backend) {
  NamespaceConfig config;
  config.name = "orders.v2_delayed-1";
  if (backend == "local") {
    auto& local = config.backend.settings.Mutable<queue::local::LocalBackendConfig>();
    local.segment_bytes = 8u << 20;
    local.preallocate = false;
  } else if (backend == "kafka") {
    auto& kafka = config.backend.settings.Mutable<queue::kafka::KafkaBackendConfig>();
    kafka.bootstrap_servers = "127.0.0.1:9092,127.0.0.2:9092";
    kafka.topics = {"orders", "orders-2"};
    kafka.dlq_topics = {"orders-dlq"};
    kafka.consumer_group = "custom-group";
    kafka.delay_tiers = {milliseconds(1000), milliseconds(10'000), milliseconds(60'000), milliseconds(3'600'000)};
    kafka.properties = {{"acks", "all"}, {"enable.idempotence", "true"}, {"linger.ms", "5"}};
  } else if (backend == "sqs") {
    auto& sqs = config.backend.settings.Mutable<queue::sqs::SqsBackendConfig>();
    sqs.queue = "orders-queue";
    sqs.dlq_queue = "orders-queue-dlq";
    sqs.region = "eu-west-1";
    sqs.endpoint = "http://127.0.0.1:9324";
    sqs.poll_interval = milliseconds(2500);
    sqs.max_messages_per_poll = 7;
    sqs.max_delay_hop = milliseconds(60'000);
  }
  config.dlq.name = "orders-dead";
  config.delay.default_delay = milliseconds(1500);
  config.delay.jitter = milliseconds(30'000);
  config.delay.jitter_model = JitterModel::kEqual;
  config.delay.max_delay = milliseconds(7 * 86'400'000LL);
  config.backoff.initial = milliseconds(250);
  config.backoff.multiplier = 1.7;
  config.backoff.max = milliseconds(90'000);
  config.backoff.jitter = JitterModel::kNone;
  config.max_retries = 42;
  config.target = Target(R"({"type":"http","url":"https://example.com/apply",)"
                         R"("headers":{"X-Token":"true","X-Count":"8080","X-Empty":""},"timeout":"5s","method":"put"})");
  config.flags.wal_enabled = false;
  config.flags.dlq_enabled = false;
  config.consumer.concurrency = 16;
  config.consumer.poll_interval = milliseconds(50);
  config.consumer.max_entries_per_poll = 500;
  config.max_payload_bytes = 1 << 20;
  config.idempotency_window_seconds = 7200;
  return config;
}

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
// Invalid documents: each yields its own message naming file, field and reason.

struct InvalidCase {
  const char* label;
  Format format;
  const char* text;
  const char* expected_message;  // exact, including the "orders.yaml: " prefix
};

class InvalidNamespaceTest : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidNamespaceTest, FailsWithItsOwnMessage) {
  const InvalidCase& test_case = GetParam();
  auto parsed = ParseNamespace(test_case.text, test_case.format, "orders.yaml");
  ASSERT_FALSE(parsed.ok()) << test_case.label;
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(parsed.status().message(), test_case.expected_message) << test_case.label;
}

const InvalidCase kInvalidCases[] = {
    {"bad name", Format::kYaml, "name: Orders!\n",
     "orders.yaml: name: must match [a-z0-9][a-z0-9_.-]{0,127}, got 'Orders!'"},
    {"missing name", Format::kYaml, "max_retries: 3\n", "orders.yaml: name: required"},
    {"unknown field", Format::kYaml, "name: orders\nbackof: {initial: 1s}\n",
     "orders.yaml: backof: unknown field 'backof' (did you mean 'backoff'?)"},
    {"nested unknown field", Format::kYaml, "name: orders\nbackoff: {multplier: 2}\n",
     "orders.yaml: backoff.multplier: unknown field 'multplier' (did you mean 'multiplier'?)"},
    {"negative delay", Format::kYaml, "name: orders\ndelay: {default: -5s}\n",
     "orders.yaml: delay.default: must be >= 0s, got -5s"},
    {"multiplier below one", Format::kYaml, "name: orders\nbackoff: {multiplier: 0.5}\n",
     "orders.yaml: backoff.multiplier: must be >= 1.0, got 0.5"},
    {"max below initial", Format::kYaml, "name: orders\nbackoff: {initial: 10s, max: 5s}\n",
     "orders.yaml: backoff.max: must be >= backoff.initial (10s), got 5s"},
    {"max_retries out of range", Format::kYaml, "name: orders\nmax_retries: 1001\n",
     "orders.yaml: max_retries: must be in 0..1000, got 1001"},
    {"unknown backend", Format::kYaml, "name: orders\nbackend: {type: rabbitmq}\n",
     "orders.yaml: backend.type: must be one of local, kafka or sqs, got \"rabbitmq\""},
    {"kafka without topics", Format::kYaml,
     "name: orders\nbackend: {type: kafka, kafka: {bootstrap_servers: '127.0.0.1:9092'}}\n",
     "orders.yaml: backend.kafka.topics: at least one topic is required for backend type 'kafka'"},
    {"kafka without bootstrap servers", Format::kYaml, "name: orders\nbackend: {type: kafka, kafka: {topics: [t]}}\n",
     "orders.yaml: backend.kafka.bootstrap_servers: required for backend type 'kafka'"},
    {"sqs too many messages per poll", Format::kYaml,
     "name: orders\nbackend: {type: sqs, sqs: {queue: q, max_messages_per_poll: 11}}\n",
     "orders.yaml: backend.sqs.max_messages_per_poll: must be in 1..10, got 11"},
    {"sqs without queue", Format::kYaml, "name: orders\nbackend: {type: sqs}\n",
     "orders.yaml: backend.sqs.queue: required for backend type 'sqs'"},
    {"sqs delay hop too long", Format::kYaml,
     "name: orders\nbackend: {type: sqs, sqs: {queue: q, max_delay_hop: 16m}}\n",
     "orders.yaml: backend.sqs.max_delay_hop: must be in 1s..15m, got 16m"},
    {"block for another backend", Format::kYaml,
     "name: orders\nbackend: {type: local, kafka: {topics: [t]}}\n",
     "orders.yaml: backend.kafka: is set but backend.type is 'local'"},
    {"alias and canonical both set", Format::kYaml,
     "name: orders\nbackend: {type: kafka, kafka: {bootstrap_servers: 'h:1', topics: [a], wal-kafka-topics: [b]}}\n",
     "orders.yaml: backend.kafka.wal-kafka-topics: is an alias of 'topics'; set only one of them"},
    {"unknown target type", Format::kYaml, "name: orders\ntarget: {type: dynamodb}\n",
     "orders.yaml: target.type: must be one of sqlite, memcached, redis, postgres, kafka, http, replication, cassandra, "
     "none or evc-replication, got \"dynamodb\""},
    {"sqlite without path", Format::kYaml, "name: orders\ntarget: {type: sqlite}\n",
     "orders.yaml: target.path: required for target type 'sqlite'"},
    {"memcached bad server", Format::kYaml, "name: orders\ntarget: {type: memcached, servers: [localhost]}\n",
     "orders.yaml: target.servers[0]: must be host:port, got 'localhost'"},
    {"redis without address", Format::kYaml, "name: orders\ntarget: {type: redis}\n",
     "orders.yaml: target.address: required for target type 'redis'"},
    {"postgres without dsn", Format::kYaml, "name: orders\ntarget: {type: postgres}\n",
     "orders.yaml: target.dsn: required for target type 'postgres'"},
    {"kafka target without topic", Format::kYaml,
     "name: orders\ntarget: {type: kafka, bootstrap_servers: 'h:9092'}\n",
     "orders.yaml: target.topic: required for target type 'kafka'"},
    {"http bad url", Format::kYaml, "name: orders\ntarget: {type: http, url: ftp://example.com}\n",
     "orders.yaml: target.url: must start with http:// or https://, got 'ftp://example.com'"},
    {"replication without regions", Format::kYaml, "name: orders\ntarget: {type: replication}\n",
     "orders.yaml: target.regions: required for target type 'replication'"},
    {"replication unknown local region", Format::kYaml,
     "name: orders\ntarget: {type: replication, regions: {us-east-1: {servers: ['h:1']}}, local_region: mars}\n",
     "orders.yaml: target.local_region: must name one of target.regions, got 'mars'"},
    {"bad duration string", Format::kYaml, "name: orders\nbackoff: {initial: 10parsecs}\n",
     "orders.yaml: backoff.initial: invalid duration \"10parsecs\": expected an integer with a unit (ms, s, m, h, d)"
     " such as \"250ms\" or \"10s\", or an integer number of milliseconds"},
    {"wrong type", Format::kYaml, "name: orders\nmax_retries: lots\n",
     "orders.yaml: max_retries: must be an integer, got \"lots\""},
    {"wrong type for bool", Format::kYaml, "name: orders\nflags: {wal_enabled: maybe}\n",
     "orders.yaml: flags.wal_enabled: must be true or false, got \"maybe\""},
    {"mapping expected", Format::kYaml, "name: orders\nbackoff: [1, 2]\n",
     "orders.yaml: backoff: must be a mapping of fields, got [\"1\",\"2\"]"},
    {"consumer concurrency", Format::kYaml, "name: orders\nconsumer: {concurrency: 257}\n",
     "orders.yaml: consumer.concurrency: must be in 1..256, got 257"},
    {"payload too large", Format::kYaml, "name: orders\nmax_payload_bytes: 67108865\n",
     "orders.yaml: max_payload_bytes: must be in 1..67108864, got 67108865"},
    {"idempotency window fraction", Format::kYaml, "name: orders\nidempotency_window: 1500ms\n",
     "orders.yaml: idempotency_window: must be a whole number of seconds, got 1500ms"},
    {"duplicate key", Format::kYaml, "name: orders\nmax_retries: 1\nmax_retries: 2\n",
     "orders.yaml: line 3, column 1: max_retries: duplicate key 'max_retries'"},
    {"malformed YAML", Format::kYaml, "name: orders\nbackoff: {initial: 1s\n",
     "orders.yaml: line 3, column 1: invalid YAML: end of map flow not found"},
    {"document not a mapping", Format::kYaml, "- a\n- b\n",
     "orders.yaml: (document): must be a mapping of fields, got [\"a\",\"b\"]"},
    {"malformed JSON", Format::kJson, "{\"name\": \"orders\",}",
     "orders.yaml: invalid JSON: parse error at line 1, column 19: syntax error while parsing object key - unexpected "
     "'}'; expected string literal"},
    {"JSON wrong type", Format::kJson, R"({"name": "orders", "dlq": {"name": 5}})",
     "orders.yaml: dlq.name: must be a string, got 5"},
    {"JSON negative integer for unsigned", Format::kJson, R"({"name": "orders", "max_payload_bytes": -1})",
     "orders.yaml: max_payload_bytes: must be in 0..18446744073709551615, got -1"},
    // Mutation sets: named targets and durable storage.
    {"named target without type", Format::kYaml, "name: orders\ntargets: {cache: {address: 127.0.0.1:6379}}\n",
     "orders.yaml: targets.cache.type: required when target settings are given"},
    {"named target bad settings", Format::kYaml, "name: orders\ntargets: {cache: {type: redis, address: nowhere}}\n",
     "orders.yaml: targets.cache.address: must be host:port, got 'nowhere'"},
    {"named target bad name", Format::kYaml, "name: orders\ntargets: {Cache!: {type: redis, address: 127.0.0.1:6379}}\n",
     "orders.yaml: targets.Cache!: target names must match [a-z0-9][a-z0-9_-]{0,63}"},
    {"named target none", Format::kYaml, "name: orders\ntargets: {x: {type: none}}\n",
     "orders.yaml: targets.x.type: must name a target type, not 'none'"},
    {"durable storage type", Format::kYaml, "name: orders\ndurable_storage: {type: kv}\n",
     "orders.yaml: durable_storage.type: must be one of local, postgres or cassandra, got \"kv\""},
    {"durable storage postgres without dsn", Format::kYaml, "name: orders\ndurable_storage: {type: postgres}\n",
     "orders.yaml: durable_storage.dsn: required for durable_storage type 'postgres'"},
    {"durable storage dsn on local", Format::kYaml, "name: orders\ndurable_storage: {dsn: host=x}\n",
     "orders.yaml: durable_storage.dsn: is set but durable_storage.type is 'local'"},
    {"durable storage chunk", Format::kYaml, "name: orders\ndurable_storage: {chunk_bytes: 100}\n",
     "orders.yaml: durable_storage.chunk_bytes: must be in 4096..16777216, got 100"},
    {"durable storage set size", Format::kYaml, "name: orders\ndurable_storage: {max_set_bytes: 268435457}\n",
     "orders.yaml: durable_storage.max_set_bytes: must be in 1024..268435456, got 268435457"},
    {"durable storage mutations", Format::kYaml, "name: orders\ndurable_storage: {max_mutations: 0}\n",
     "orders.yaml: durable_storage.max_mutations: must be in 1..100000, got 0"},
    {"durable storage table", Format::kYaml,
     "name: orders\ndurable_storage: {type: postgres, dsn: host=x, table: \"drop table\"}\n",
     "orders.yaml: durable_storage.table: must match [A-Za-z_][A-Za-z0-9_]{0,47}, got 'drop table'"},
    {"durable storage unknown field", Format::kYaml, "name: orders\ndurable_storage: {shard: a}\n",
     "orders.yaml: durable_storage.shard: unknown field 'shard'"},
};

INSTANTIATE_TEST_SUITE_P(Cases, InvalidNamespaceTest, ::testing::ValuesIn(kInvalidCases),
                         [](const ::testing::TestParamInfo<InvalidCase>& info) {
                           std::string name = info.param.label;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

// A typo in a target's settings is refused when the namespace is parsed (and
// so when it is applied), naming the key, for every target type, both as the
// namespace's target and as a named target.
TEST(InvalidNamespace, EveryTargetTypeRefusesAnUnknownKey) {
  struct Case {
    const char* target;    // a valid target block, as YAML flow
    const char* typo;      // an extra key: value
    const char* reason;    // what the error says about the key
  };
  const Case cases[] = {
      {"{type: sqlite, path: ./kv.db}", "tiemout: 5s", "unknown field 'tiemout'"},
      {"{type: sqlite, path: ./kv.db}", "busy_timout: 5s", "unknown field 'busy_timout' (did you mean 'busy_timeout'?)"},
      {"{type: memcached, servers: ['h:1']}", "tiemout: 5s", "unknown field 'tiemout' (did you mean 'timeout'?)"},
      {"{type: redis, address: 'h:1'}", "passwd: x", "unknown field 'passwd' (did you mean 'password'?)"},
      {"{type: redis, address: 'h:1'}", "key_prefx: a", "unknown field 'key_prefx' (did you mean 'key_prefix'?)"},
      {"{type: postgres, dsn: host=x}", "schemma: s", "unknown field 'schemma' (did you mean 'schema'?)"},
      {"{type: kafka, bootstrap_servers: 'h:1', topic: t}", "tpoic: t", "unknown field 'tpoic' (did you mean 'topic'?)"},
      {"{type: http, url: 'http://h/'}", "header: {}", "unknown field 'header' (did you mean 'headers'?)"},
      {"{type: replication, regions: {a: {servers: ['h:1']}}}", "replicas: 3", "unknown field 'replicas'"},
      {"{type: evc-replication, regions: {a: {servers: ['h:1']}}}", "skip_local: true",
       "unknown field 'skip_local'"},
      // A key of another target type says so ("@" is the block's path).
      {"{type: sqlite, path: ./kv.db}", "servers: ['h:1']", "is set but @type is 'sqlite'"},
  };
  for (const Case& c : cases) {
    std::string block(c.target);
    block.insert(block.size() - 1, ", " + std::string(c.typo));
    const std::string key(c.typo, std::string_view(c.typo).find(':'));
    for (const auto& [yaml, path] : {std::pair{"name: orders\ntarget: " + block + "\n", std::string("target.")},
                                     std::pair{"name: orders\ntargets: {x: " + block + "}\n", std::string("targets.x.")}}) {
      auto parsed = ParseNamespace(yaml, Format::kYaml, "orders.yaml");
      ASSERT_FALSE(parsed.ok()) << yaml;
      EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << yaml;
      std::string reason = c.reason;
      if (size_t at = reason.find('@'); at != std::string::npos) reason.replace(at, 1, path);
      EXPECT_EQ(parsed.status().message(), "orders.yaml: " + path + key + ": " + reason) << yaml;
    }
    // Without the typo the block is fine.
    auto clean = ParseNamespace("name: orders\ntarget: " + std::string(c.target) + "\n", Format::kYaml, "orders.yaml");
    EXPECT_TRUE(clean.ok()) << c.target << ": " << clean.status().message();
  }
  // The admin API's JSON path refuses it the same way.
  auto json = NamespaceFromJson(R"({"name": "orders", "target": {"type": "sqlite", "path": "kv.db", "tiemout": "5s"}})",
                                "config");
  ASSERT_FALSE(json.ok());
  EXPECT_EQ(json.status().message(), "config: target.tiemout: unknown field 'tiemout'");
}

TEST(InvalidNamespace, TypeNamesSuggestNearMisses) {
  const std::pair<const char*, const char*> cases[] = {
      {"name: orders\ntarget: {type: sqlit, path: x}\n",
       "orders.yaml: target.type: must be one of sqlite, memcached, redis, postgres, kafka, http, replication, cassandra, "
       "none or evc-replication, got \"sqlit\" (did you mean 'sqlite'?)"},
      {"name: orders\nbackend: {type: Kafak}\n",
       "orders.yaml: backend.type: must be one of local, kafka or sqs, got \"Kafak\" (did you mean 'kafka'?)"},
      {"name: orders\ndurable_storage: {type: postgress}\n",
       "orders.yaml: durable_storage.type: must be one of local, postgres or cassandra, got \"postgress\" (did you mean 'postgres'?)"},
  };
  for (const auto& [text, message] : cases) {
    auto parsed = ParseNamespace(text, Format::kYaml, "orders.yaml");
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.status().message(), message);
  }
}

TEST(InvalidNamespace, EveryCaseHasADistinctMessage) {
  std::set<std::string> messages;
  for (const InvalidCase& test_case : kInvalidCases) {
    EXPECT_TRUE(messages.insert(test_case.expected_message).second) << test_case.label;
  }
}

TEST(InvalidNamespace, NoSourceMeansNoPrefix) {
  auto parsed = ParseNamespace("name: orders\nmax_retries: -1\n", Format::kYaml, "");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message(), "max_retries: must be in 0..1000, got -1");
}

TEST(InvalidNamespace, InvalidUtf8IsAnErrorNotAThrow) {
  auto parsed = ParseNamespace("name: orders\nmax_retries: \"\xff\xfe\"\n", Format::kYaml, "orders.yaml");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message(), "orders.yaml: invalid YAML: the text is not valid UTF-8");
  // Free-form settings too: JSON (the admin API, a saved config) cannot carry
  // such bytes, so a config that loaded would not survive a save and reload.
  auto target = ParseNamespace("name: orders\ntarget: {type: sqlite, path: \"a\xff" "b\"}\n", Format::kYaml, "t");
  ASSERT_FALSE(target.ok());
  EXPECT_EQ(target.status().message(), "t: invalid YAML: the text is not valid UTF-8");
}

// yaml-cpp's writer turns noncharacters into U+FFFD, so such a config would
// change on its first save; it is refused at load, in YAML and JSON alike.
TEST(InvalidNamespace, NoncharactersAreRefusedSoASaveKeepsTheConfig) {
  auto server = ParseServerConfig("data_dir: \"/var/x\xef\xbf\xbe\"\n", Format::kYaml, "server.yaml");
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().message(),
            "server.yaml: data_dir: holds U+FFFE, a Unicode noncharacter, which config text may not contain");
  auto escaped = ParseServerConfig("data_dir: \"\\ufdd0\"\n", Format::kYaml, "s");
  ASSERT_FALSE(escaped.ok());
  EXPECT_NE(escaped.status().message().find("U+FDD0"), std::string::npos) << escaped.status().message();
  auto json = ParseServerConfig("{\"region\": \"\\uffff\"}", Format::kJson, "s");
  ASSERT_FALSE(json.ok());
  EXPECT_NE(json.status().message().find("region: holds U+FFFF"), std::string::npos) << json.status().message();
  auto target = ParseNamespace("name: orders\ntarget: {type: sqlite, path: a.db, \"k\xef\xb7\x90\": 1}\n",
                               Format::kYaml, "t");
  ASSERT_FALSE(target.ok());
  EXPECT_NE(target.status().message().find("U+FDD0"), std::string::npos) << target.status().message();
  // U+FFFD itself, and every other character, still loads and survives a save.
  auto fine = ParseServerConfig("data_dir: \"/var/\xef\xbf\xbd\xef\xb7\xb0\"\n", Format::kYaml, "s");
  ASSERT_TRUE(fine.ok()) << fine.status().ToString();
  auto reloaded = ParseServerConfig(SaveServerConfig(*fine, Format::kYaml), Format::kYaml, "saved");
  ASSERT_TRUE(reloaded.ok());
  EXPECT_EQ(*reloaded, *fine);
}

// Random bytes must produce errors, never crashes or exceptions.
TEST(InvalidNamespace, GarbageNeverThrows) {
  std::mt19937 random(12345);
  const std::string alphabet = "{}[]:,-\"'#&*!|>%@` \n\tabc019.";
  for (int round = 0; round < 500; ++round) {
    std::string text;
    int length = static_cast<int>(random() % 64);
    for (int i = 0; i < length; ++i) text += alphabet[random() % alphabet.size()];
    for (Format format : {Format::kYaml, Format::kJson}) {
      auto parsed = ParseNamespace(text, format, "garbage");
      if (!parsed.ok()) {
        EXPECT_FALSE(parsed.status().message().empty());
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Server config

TEST(ServerConfigTest, ParsesAndRoundTrips) {
  const char* yaml = R"(
data_dir: /var/lib/wal
namespaces_dir: /etc/wal/namespaces
grpc_listen: 0.0.0.0:7400
http_listen: ""
role: consumer
max_request_bytes: 1048576
log_level: debug
)";
  auto parsed = ParseServerConfig(yaml, Format::kYaml, "server.yaml");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->data_dir, "/var/lib/wal");
  EXPECT_EQ(parsed->grpc_listen, "0.0.0.0:7400");
  EXPECT_EQ(parsed->http_listen, "");
  EXPECT_EQ(parsed->role, "consumer");
  EXPECT_EQ(parsed->max_request_bytes, 1048576u);
  for (Format format : {Format::kYaml, Format::kJson}) {
    auto again = ParseServerConfig(SaveServerConfig(parsed.value(), format), format, "again");
    ASSERT_TRUE(again.ok()) << again.status().message();
    EXPECT_EQ(again.value(), parsed.value());
  }
  EXPECT_EQ(ParseServerConfig("{}", Format::kJson, "empty.json").value(), ServerConfig());
}

TEST(ServerConfigTest, RejectsBadFields) {
  const std::pair<const char*, const char*> cases[] = {
      {"role: leader\n", "server.yaml: role: must be one of producer, consumer or both, got 'leader'"},
      {"log_level: loud\n", "server.yaml: log_level: must be one of trace, debug, info, warn or error, got 'loud'"},
      {"grpc_listen: localhost\n", "server.yaml: grpc_listen: must be host:port, got 'localhost'"},
      {"data_dri: x\n", "server.yaml: data_dri: unknown field 'data_dri' (did you mean 'data_dir'?)"},
      {"max_request_bytes: 10\n", "server.yaml: max_request_bytes: must be in 1024..1073741824, got 10"},
  };
  for (const auto& [text, message] : cases) {
    auto parsed = ParseServerConfig(text, Format::kYaml, "server.yaml");
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.status().message(), message);
  }
}

TEST(FormatFromPathTest, ByExtension) {
  EXPECT_EQ(FormatFromPath("a/b.yaml").value(), Format::kYaml);
  EXPECT_EQ(FormatFromPath("b.yml").value(), Format::kYaml);
  EXPECT_EQ(FormatFromPath("b.json").value(), Format::kJson);
  EXPECT_FALSE(FormatFromPath("b.yaml.tmp").ok());
  EXPECT_FALSE(FormatFromPath("yaml").ok());
}

// ---------------------------------------------------------------------------
// Files and directories

class NamespaceFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = std::filesystem::temp_directory_path() /
                 ("wal_config_test_" + std::to_string(::getpid()) + "_" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(directory_);
    std::filesystem::create_directories(directory_);
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  void Write(const std::string& file_name, const std::string& contents) {
    ASSERT_TRUE(file_system_->WriteFileAtomically(Path(file_name), contents).ok());
  }
  std::string Path(const std::string& file_name) const { return JoinPath(directory_.string(), file_name); }
  std::string Dir() const { return directory_.string(); }

  FileSystem* file_system_ = DefaultFileSystem();
  std::filesystem::path directory_;
};

TEST_F(NamespaceFilesTest, OneBadFileDoesNotStopTheOthers) {
  Write("alpha.yaml", "name: alpha\n");
  Write("beta.json", R"({"name": "beta", "max_retries": 3})");
  Write("gamma.yml", "name: gamma\nmax_retries: lots\n");
  Write("delta.yaml", "name: not-delta\n");
  Write("notes.txt", "not a namespace");
  Write("epsilon.yaml.tmp", "half written");
  Write(".hidden.yaml", "name: hidden\n");

  DirectoryLoad load = LoadNamespaceDirectory(file_system_, Dir());
  ASSERT_EQ(load.namespaces.size(), 2u);
  EXPECT_EQ(load.namespaces[0].name, "alpha");
  EXPECT_EQ(load.namespaces[1].name, "beta");
  EXPECT_EQ(load.namespaces[1].max_retries, 3);
  ASSERT_EQ(load.errors.size(), 2u);
  EXPECT_EQ(load.errors[0].message(), Path("delta.yaml") + ": name: 'not-delta' does not match the file name "
                                                          "'delta.yaml' (a namespace file must be named <name>.yaml)");
  EXPECT_EQ(load.errors[1].message(), Path("gamma.yml") + ": max_retries: must be an integer, got \"lots\"");
}

TEST_F(NamespaceFilesTest, SecondFileWithTheSameNameIsAnError) {
  Write("alpha.json", R"({"name": "alpha"})");
  Write("alpha.yaml", "name: alpha\n");
  DirectoryLoad load = LoadNamespaceDirectory(file_system_, Dir());
  ASSERT_EQ(load.namespaces.size(), 1u);
  ASSERT_EQ(load.errors.size(), 1u);
  EXPECT_EQ(load.errors[0].code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(load.errors[0].message(),
            Path("alpha.yaml") + ": name: namespace 'alpha' is already defined by " + Path("alpha.json"));
}

TEST_F(NamespaceFilesTest, MissingDirectoryIsAnError) {
  DirectoryLoad load = LoadNamespaceDirectory(file_system_, Path("absent"));
  EXPECT_TRUE(load.namespaces.empty());
  ASSERT_EQ(load.errors.size(), 1u);
  EXPECT_EQ(load.errors[0].code(), StatusCode::kNotFound);
}

TEST_F(NamespaceFilesTest, SaveReplacesStaleFilesAndLoadsBack) {
  Write("orders.json", R"({"name": "orders"})");
  Write("orders.yml", "name: orders\n");
  NamespaceConfig config = FullyPopulated("sqs");
  config.name = "orders";
  ASSERT_TRUE(SaveNamespaceFile(file_system_, Dir(), config).ok());
  EXPECT_TRUE(file_system_->Exists(Path("orders.yaml")));
  EXPECT_FALSE(file_system_->Exists(Path("orders.json")));
  EXPECT_FALSE(file_system_->Exists(Path("orders.yml")));

  DirectoryLoad load = LoadNamespaceDirectory(file_system_, Dir());
  ASSERT_TRUE(load.errors.empty()) << load.errors[0].message();
  ASSERT_EQ(load.namespaces.size(), 1u);
  EXPECT_EQ(load.namespaces[0], config);

  auto loaded = LoadNamespaceFile(file_system_, Path("orders.yaml"));
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded.value(), config);
}

TEST_F(NamespaceFilesTest, SaveCreatesTheDirectoryAndRefusesInvalidConfigs) {
  NamespaceConfig config = FullyPopulated("local");
  config.name = "fresh";
  ASSERT_TRUE(SaveNamespaceFile(file_system_, Path("nested/dir"), config).ok());
  EXPECT_TRUE(file_system_->Exists(Path("nested/dir/fresh.yaml")));

  config.name = "broken";
  config.max_retries = -1;
  Status status = SaveNamespaceFile(file_system_, Dir(), config);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(file_system_->Exists(Path("broken.yaml")));
}

TEST_F(NamespaceFilesTest, DeleteRemovesWhicheverFileExists) {
  Write("alpha.yaml", "name: alpha\n");
  Write("beta.json", R"({"name": "beta"})");
  EXPECT_TRUE(DeleteNamespaceFile(file_system_, Dir(), "alpha").ok());
  EXPECT_TRUE(DeleteNamespaceFile(file_system_, Dir(), "beta").ok());
  EXPECT_FALSE(file_system_->Exists(Path("alpha.yaml")));
  EXPECT_FALSE(file_system_->Exists(Path("beta.json")));
  EXPECT_EQ(DeleteNamespaceFile(file_system_, Dir(), "alpha").code(), StatusCode::kNotFound);
  EXPECT_EQ(DeleteNamespaceFile(file_system_, Dir(), "../etc").code(), StatusCode::kInvalidArgument);
}

TEST_F(NamespaceFilesTest, ServerConfigFile) {
  Write("server.yaml", "data_dir: ./elsewhere\nrole: producer\n");
  auto loaded = LoadServerConfigFile(file_system_, Path("server.yaml"));
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(loaded->data_dir, "./elsewhere");
  EXPECT_EQ(loaded->role, "producer");
  EXPECT_EQ(LoadServerConfigFile(file_system_, Path("absent.yaml")).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace wal::config

// ---------------------------------------------------------------------------
// Operations fields: access tokens, limits and the server's TLS,
// auth, sharding and config-store settings.

namespace wal::config {
namespace {

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

TEST(OperationsConfig, ServerOperationsFieldsRoundTrip) {
  const char* yaml = R"(
log_format: json
shard_map: /etc/wal/shards.yaml
shard: shard-a
tls: {cert_file: /etc/wal/server.crt, key_file: /etc/wal/server.key, client_ca_file: /etc/wal/ca.crt}
auth: {tokens_file: /etc/wal/tokens.yaml}
config_store: {type: directory, poll_interval: 500ms}
)";
  auto parsed = ParseServerConfig(yaml, Format::kYaml, "server.yaml");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->log_format, "json");
  EXPECT_EQ(parsed->shard, "shard-a");
  EXPECT_EQ(parsed->tls.client_ca_file, "/etc/wal/ca.crt");
  EXPECT_EQ(parsed->auth.tokens_file, "/etc/wal/tokens.yaml");
  EXPECT_EQ(parsed->config_store.poll_interval, milliseconds(500));
  auto postgres = ParseServerConfig(
      "shard: shard-a\nconfig_store: {type: postgres, dsn: \"host=pg dbname=wal\", table: control_ns}\n",
      Format::kYaml, "server.yaml");
  ASSERT_TRUE(postgres.ok()) << postgres.status().message();
  EXPECT_EQ(postgres->config_store.dsn, "host=pg dbname=wal");
  EXPECT_EQ(postgres->config_store.table, "control_ns");
  for (Format format : {Format::kYaml, Format::kJson}) {
    auto again = ParseServerConfig(SaveServerConfig(postgres.value(), format), format, "again");
    ASSERT_TRUE(again.ok()) << again.status().message();
    EXPECT_EQ(again.value(), postgres.value());
  }
  for (Format format : {Format::kYaml, Format::kJson}) {
    auto again = ParseServerConfig(SaveServerConfig(parsed.value(), format), format, "again");
    ASSERT_TRUE(again.ok()) << again.status().message();
    EXPECT_EQ(again.value(), parsed.value());
  }
  const std::pair<const char*, const char*> cases[] = {
      {"shard: a\n",
       "server.yaml: shard_map: is required with shard (a shard map file), unless config_store.type is postgres (the "
       "map is then kept in the config store)"},
      {"shard_map: /etc/wal/shards.yaml\n",
       "server.yaml: shard: is required with shard_map: it names this instance's shard in the map"},
      {"tls: {cert_file: x}\n", "server.yaml: tls.key_file: tls.cert_file and tls.key_file must be set together"},
      {"tls: {client_ca_file: x}\n",
       "server.yaml: tls.client_ca_file: needs tls.cert_file and tls.key_file (mTLS is TLS plus client certificates)"},
      {"log_format: xml\n", "server.yaml: log_format: must be one of text or json, got 'xml'"},
      {"config_store: {type: etcd}\n",
       "server.yaml: config_store.type: must be one of directory or postgres, got 'etcd'"},
      {"config_store: {type: postgres}\n",
       "server.yaml: config_store.dsn: is required when config_store.type is postgres"},
      {"config_store: {dsn: host=pg}\n",
       "server.yaml: config_store.dsn: is only used when config_store.type is postgres"},
      {"config_store: {type: postgres, dsn: host=pg, table: \"wal; drop\"}\n",
       "server.yaml: config_store.table: must match [A-Za-z_][A-Za-z0-9_]{0,47}, got 'wal; drop'"},
  };
  for (const auto& [text, message] : cases) {
    auto bad = ParseServerConfig(text, Format::kYaml, "server.yaml");
    ASSERT_FALSE(bad.ok()) << text;
    EXPECT_EQ(bad.status().message(), message);
  }
}

}  // namespace
}  // namespace wal::config
