// Namespace documents the parser refuses, each with its own message naming
// file, field and reason, and input that must fail without throwing.
#include "config/namespace_config.h"

#include <gtest/gtest.h>

#include <cctype>
#include <random>
#include <set>
#include <string>
#include <utility>

#include "config/config_test_support.h"
#include "config/server_config.h"

namespace wal::config {
namespace {

using namespace testing;

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
     "orders.yaml: backoff.initial: invalid duration \"10parsecs\": expected integers with units (ms, s, m, h, d)"
     " such as \"250ms\", \"10s\" or \"1m30s\", or an integer number of milliseconds"},
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

// An anchored collection holding an alias to itself is a cycle, and nested
// aliases expand exponentially: both are refused, never followed until the
// stack or the memory runs out.
TEST(InvalidNamespace, AliasCyclesAndAliasBombsAreRefused) {
  auto cycle = ParseNamespace("Name2: &n\n other: *n\nli]", Format::kYaml, "orders.yaml");
  ASSERT_FALSE(cycle.ok());
  EXPECT_NE(cycle.status().message().find("nested more than 64 levels deep"), std::string::npos)
      << cycle.status().message();
  std::string bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int level = 1; level <= 9; ++level) {
    const std::string previous = "*a" + std::to_string(level - 1);
    bomb += "a" + std::to_string(level) + ": &a" + std::to_string(level) + " [";
    for (int i = 0; i < 10; ++i) bomb += (i ? ", " : "") + previous;
    bomb += "]\n";
  }
  auto expanded = ParseNamespace(bomb, Format::kYaml, "orders.yaml");
  ASSERT_FALSE(expanded.ok());
  EXPECT_NE(expanded.status().message().find("more than 100000 values"), std::string::npos)
      << expanded.status().message();
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

// yaml-cpp misreads a raw NUL and the byte after it ("/\0a" loaded as
// "/\x07"), and lets other control bytes through, so what loaded was not what
// was written and did not survive a save. YAML allows none of them raw.
TEST(InvalidNamespace, RawControlCharactersAreRefusedButTheirEscapesLoad) {
  constexpr char kWithNul[] = "data_dir: /\0at\nrole: both\n";
  const std::string with_nul(kWithNul, sizeof(kWithNul) - 1);
  auto server = ParseServerConfig(with_nul, Format::kYaml, "server.yaml");
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().message(),
            "server.yaml: line 1: invalid YAML: the text holds the control character U+0000; write it as the escape "
            "\\x00 in a double-quoted string");
  auto bell = ParseNamespace("name: orders\ntarget: {type: sqlite, path: \"a\x07.db\"}\n", Format::kYaml, "t");
  ASSERT_FALSE(bell.ok());
  EXPECT_NE(bell.status().message().find("line 2: invalid YAML: the text holds the control character U+0007"),
            std::string::npos)
      << bell.status().message();
  // A lone CR, which yaml-cpp does not read as the line break YAML says it is.
  auto lone_cr = ParseServerConfig("data_dir: /x  \r # comment\nrole: both\n", Format::kYaml, "s");
  ASSERT_FALSE(lone_cr.ok());
  EXPECT_NE(lone_cr.status().message().find("carriage return"), std::string::npos) << lone_cr.status().message();
  EXPECT_TRUE(ParseServerConfig("data_dir: /x\r\nrole: both\r\n", Format::kYaml, "s").ok()) << "CRLF is fine";
  // DEL, escaped in JSON, is written raw by the YAML writer and reads back.
  auto del = ParseServerConfig("{\"data_dir\": \"/\\u007fx\"}", Format::kJson, "s");
  ASSERT_TRUE(del.ok()) << del.status().ToString();
  auto del_again = ParseServerConfig(SaveServerConfig(*del, Format::kYaml), Format::kYaml, "saved");
  ASSERT_TRUE(del_again.ok()) << del_again.status().ToString();
  EXPECT_EQ(*del_again, *del);
  // An escape of a lone surrogate is refused too (yaml-cpp refuses it itself).
  EXPECT_FALSE(ParseServerConfig("data_dir: \"/x\\ud800\"\n", Format::kYaml, "s").ok());
  // Escaped, the same characters load and survive a save in both formats.
  auto escaped = ParseServerConfig("data_dir: \"/\\x00a\\x07\\t\"\n", Format::kYaml, "s");
  ASSERT_TRUE(escaped.ok()) << escaped.status().ToString();
  EXPECT_EQ(escaped->data_dir, std::string("/\0a\x07\t", 5));
  for (Format format : {Format::kYaml, Format::kJson}) {
    auto reloaded = ParseServerConfig(SaveServerConfig(*escaped, format), format, "saved");
    ASSERT_TRUE(reloaded.ok()) << reloaded.status().ToString();
    EXPECT_EQ(*reloaded, *escaped);
  }
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

}  // namespace
}  // namespace wal::config
