// The server config: parsing, round trips, and the fields it refuses,
// including the operations settings (TLS, auth, sharding, config store).
#include "config/server_config.h"

#include <gtest/gtest.h>

#include <utility>

namespace wal::config {
namespace {

using std::chrono::milliseconds;

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

// JSON can spell any control character as an escape; saved as YAML, each must
// come back as itself. A raw CR in a plain scalar, which the YAML writer used
// to emit, is a line break to a YAML reader and is refused on reload.
TEST(ServerConfigTest, ControlCharactersFromJsonSurviveASaveAsYaml) {
  for (const char* json : {R"({"data_dir": "/var/lib/wal\rdata"})", R"({"data_dir": "a\rb\n\tc\u0001d"})"}) {
    auto parsed = ParseServerConfig(json, Format::kJson, "in.json");
    ASSERT_TRUE(parsed.ok()) << parsed.status().message();
    const std::string yaml = SaveServerConfig(*parsed, Format::kYaml);
    auto again = ParseServerConfig(yaml, Format::kYaml, "saved.yaml");
    ASSERT_TRUE(again.ok()) << json << ": " << again.status().message() << "\n" << yaml;
    EXPECT_EQ(again->data_dir, parsed->data_dir) << yaml;
  }
}

// YAML's \_ (U+00A0, no-break space) and \N (U+0085, next line) are decoded
// by yaml-cpp to the lone bytes 0xA0 and 0x85: they are read as the characters,
// and saved so that they read back the same, in both formats.
TEST(ServerConfigTest, ANoBreakSpaceFromAYamlEscapeSurvivesASave) {
  auto parsed = ParseServerConfig(R"({!"data_dir":"97okkkv\_di\_dié\_\N"})", Format::kYaml, "in.yaml");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->data_dir, "97okkkv\u00a0di\u00a0di\u00e9\u00a0\u0085");
  for (Format format : {Format::kYaml, Format::kJson}) {
    const std::string saved = SaveServerConfig(*parsed, format);
    auto again = ParseServerConfig(saved, format, "saved");
    ASSERT_TRUE(again.ok()) << again.status().message() << "\n" << saved;
    EXPECT_EQ(*again, *parsed) << saved;
  }
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

// ---------------------------------------------------------------------------
// Operations fields: TLS, auth, sharding and config-store settings.

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
