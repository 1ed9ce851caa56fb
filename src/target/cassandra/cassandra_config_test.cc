// The cassandra target without a server: its settings as the namespace parser
// reads them (refusals name the key; secrets never saved), the table mapping,
// the write-time checks, and the session options built from the settings.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "config/config.h"
#include "modules/builtin_modules.h"
#include "target/cassandra/cassandra_target.h"

namespace wal::target {
namespace {

Result<config::TargetConfig> Decode(const std::string& json) {
  return config::TargetFromJson(json, "target", modules::BuiltinModules().catalog());
}

std::string ErrorOf(const std::string& json) {
  auto decoded = Decode(json);
  return decoded.ok() ? std::string("(accepted)") : decoded.status().message();
}

const CassandraTargetConfig& SettingsOf(const config::TargetConfig& config) {
  return config.settings.Get<CassandraTargetConfig>();
}

constexpr char kMinimal[] = R"({"type": "cassandra", "contact_points": ["127.0.0.1:9042"], "keyspace": "kv")";

TEST(CassandraTargetConfigTest, DefaultsAreLocalQuorumTheKvTableAndCreatedTables) {
  auto decoded = Decode(std::string(kMinimal) + "}");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const CassandraTargetConfig& settings = SettingsOf(*decoded);
  EXPECT_EQ(settings.connection.consistency, cql::Consistency::kLocalQuorum);
  EXPECT_EQ(settings.connection.request_timeout, std::chrono::milliseconds(5000));
  EXPECT_TRUE(settings.create_tables);
  const CassandraTableMapping mapping = settings.MappingFor("");
  EXPECT_EQ(mapping.table, "kv");
  EXPECT_EQ(mapping.partition_key_column, "partition_key");
  EXPECT_EQ(mapping.clustering_key_column, "sort_key");
  EXPECT_EQ(mapping.value_column, "value");
}

TEST(CassandraTargetConfigTest, RefusalsNameTheKey) {
  const std::pair<std::string, std::string> cases[] = {
      {R"({"type": "cassandra", "keyspace": "kv"})", "target.contact_points: required"},
      {R"({"type": "cassandra", "contact_points": [], "keyspace": "kv"})", "target.contact_points: must not be empty"},
      {R"({"type": "cassandra", "contact_points": ["a b"], "keyspace": "kv"})", "target.contact_points[0]: must be host"},
      {R"({"type": "cassandra", "contact_points": ["h:0"], "keyspace": "kv"})", "target.contact_points[0]: must be host"},
      {R"({"type": "cassandra", "contact_points": ["h"]})", "target.keyspace: required"},
      {R"({"type": "cassandra", "contact_points": ["h"], "keyspace": "no-dash"})", "target.keyspace: must match"},
      {std::string(kMinimal) + R"(, "keyspce": "x"})", "target.keyspce: unknown field 'keyspce' (did you mean 'keyspace'?)"},
      {std::string(kMinimal) + R"(, "consistency": "SERIAL"})", "target.consistency: must be one of"},
      {std::string(kMinimal) + R"(, "request_timeout": "0s"})", "target.request_timeout"},
      {std::string(kMinimal) + R"(, "username": "u"})", "target.username: needs password_env or password_file"},
      {std::string(kMinimal) + R"(, "password_env": "P"})", "target.password_env: is set but username is empty"},
      {std::string(kMinimal) + R"(, "username": "u", "password_env": "P", "password_file": "f"})",
       "target.password_file: set password_env or password_file, not both"},
      {std::string(kMinimal) + R"(, "tls": {"ca_file": "ca.pem"}})", "target.tls.enabled: must be true"},
      {std::string(kMinimal) + R"(, "tls": {"enabled": true, "cert_file": "c.pem"}})", "target.tls.key_file"},
      {std::string(kMinimal) + R"(, "tls": {"enabled": true, "ca": "x"}})", "target.tls.ca: unknown field"},
      {std::string(kMinimal) + R"(, "table": "my-table"})", "target.table: must match"},
      {std::string(kMinimal) + R"(, "value_column": "sort_key"})", "must differ"},
      {std::string(kMinimal) + R"(, "tables": ["a"]})", "target.tables: must be a mapping"},
      {std::string(kMinimal) + R"(, "tables": {"orders": {"tabel": "x"}}})",
       "target.tables.orders.tabel: unknown field 'tabel' (did you mean 'table'?)"},
      {std::string(kMinimal) + R"(, "tables": {"orders": {"value_column": "bad name"}}})",
       "target.tables.orders.value_column: must match"},
  };
  for (const auto& [json, expected] : cases) {
    EXPECT_NE(ErrorOf(json).find(expected), std::string::npos) << json << "\n  got: " << ErrorOf(json);
  }
}

TEST(CassandraTargetConfigTest, SavedSettingsRoundTripAndHoldNoPassword) {
  const std::string json = std::string(kMinimal) +
                           R"(, "consistency": "quorum", "username": "app", "password_env": "WAL_TEST_CASS_PASSWORD",
      "tls": {"enabled": true, "ca_file": "/etc/ca.pem"},
      "tables": {"orders": {"table": "orders_by_customer", "partition_key_column": "customer",
                            "clustering_key_column": "order_id", "value_column": "body"}, "profiles": {}}})";
  ::setenv("WAL_TEST_CASS_PASSWORD", "s3cret-value", 1);
  auto decoded = Decode(json);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  config::Json saved = config::Json::object();
  decoded->settings.Write(saved);
  const std::string text = config::DumpJson(saved);
  EXPECT_EQ(text.find("s3cret"), std::string::npos) << text;
  EXPECT_NE(text.find("WAL_TEST_CASS_PASSWORD"), std::string::npos) << text;
  EXPECT_NE(text.find("\"QUORUM\""), std::string::npos) << text;
  saved["type"] = "cassandra";
  auto again = Decode(config::DumpJson(saved));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->settings == decoded->settings);

  const CassandraTargetConfig& settings = SettingsOf(*decoded);
  EXPECT_EQ(settings.MappingFor("orders").table, "orders_by_customer");
  EXPECT_EQ(settings.MappingFor("orders").clustering_key_column, "order_id");
  EXPECT_EQ(settings.MappingFor("profiles").table, "profiles") << "an empty entry keeps the name";
  EXPECT_EQ(settings.MappingFor("carts").table, "carts") << "unmapped tables are used as named";
  EXPECT_EQ(settings.MappingFor("carts").value_column, "value");
}

TEST(CassandraTargetConfigTest, SessionOptionsReadThePasswordFromTheEnvironmentOrAFile) {
  cassandra::CassandraConnectionSettings settings;
  settings.contact_points = {"127.0.0.1"};
  settings.keyspace = "kv";
  settings.username = "app";
  settings.password_env = "WAL_TEST_CASS_UNSET_VARIABLE";
  ::unsetenv("WAL_TEST_CASS_UNSET_VARIABLE");
  auto missing = cassandra::SessionOptionsFor(settings, "target");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("target.password_env"), std::string::npos) << missing.status().message();

  ::setenv("WAL_TEST_CASS_PASSWORD", "from-env", 1);
  settings.password_env = "WAL_TEST_CASS_PASSWORD";
  auto from_env = cassandra::SessionOptionsFor(settings, "target");
  ASSERT_TRUE(from_env.ok());
  EXPECT_EQ(from_env->connection.credentials->password, "from-env");

  const std::string file = (std::filesystem::temp_directory_path() / "wal_cass_password_test").string();
  std::ofstream(file) << "from-file\n";
  settings.password_env.clear();
  settings.password_file = file;
  auto from_file = cassandra::SessionOptionsFor(settings, "target");
  ASSERT_TRUE(from_file.ok());
  EXPECT_EQ(from_file->connection.credentials->password, "from-file") << "the trailing newline is dropped";
  std::filesystem::remove(file);
  auto gone = cassandra::SessionOptionsFor(settings, "target");
  ASSERT_FALSE(gone.ok());
  EXPECT_NE(gone.status().message().find("target.password_file: cannot read"), std::string::npos);
  EXPECT_EQ(gone.status().message().find("from-file"), std::string::npos);
}

class CassandraTargetChecksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Nothing listens on port 1: building the target must not connect.
    auto created = CassandraTarget::FromSettings(
        R"({"contact_points": ["127.0.0.1:1"], "keyspace": "kv", "connect_timeout": "200ms",
            "tables": {"Orders": {"table": "orders"}}})");
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    target_ = std::move(created).value();
  }

  static v1::Payload Put(const std::string& table, const std::string& partition, const std::string& key,
                         const std::string& value) {
    v1::Payload payload;
    auto* mutation = payload.mutable_mutation();
    mutation->set_op(v1::Mutation::PUT);
    mutation->set_table(table);
    mutation->set_partition_key(partition);
    mutation->set_key(key);
    mutation->set_value(value);
    return payload;
  }

  std::unique_ptr<CassandraTarget> target_;
};

TEST_F(CassandraTargetChecksTest, WritesItCanNeverStoreAreRefusedNamingTheField) {
  EXPECT_TRUE(target_->ValidatePayload(Put("", "p", "k", "v")).ok());
  EXPECT_TRUE(target_->ValidatePayload(Put("Orders", "p", "k", "v")).ok()) << "mapped names need not be CQL names";
  const std::pair<v1::Payload, std::string> refused[] = {
      {Put("bad-table", "p", "k", "v"), "payload.mutation.table: 'bad-table' is not a Cassandra table name"},
      {Put("", "", "k", "v"), "payload.mutation.partition_key: required"},
      {Put("", std::string(70000, 'p'), "k", "v"), "payload.mutation.partition_key: longer than"},
      {Put("", "p", std::string(70000, 'k'), "v"), "payload.mutation.key: longer than"},
      {Put("", "p", "k", std::string(CassandraTarget::kMaxValueBytes + 1, 'v')), "payload.mutation.value:"},
  };
  for (const auto& [payload, expected] : refused) {
    Status status = target_->ValidatePayload(payload);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(status.message().find(expected), std::string::npos) << status.message();
  }
  v1::Payload forever = Put("", "p", "k", "v");
  forever.mutable_mutation()->mutable_ttl()->set_seconds(CassandraTarget::kMaxTtlSeconds + 1);
  EXPECT_NE(target_->ValidatePayload(forever).message().find("payload.mutation.ttl"), std::string::npos);
  v1::Payload opaque;
  opaque.set_opaque("bytes");
  EXPECT_NE(target_->ValidatePayload(opaque).message().find("takes mutations"), std::string::npos);

  v1::Payload set;
  *set.mutable_mutation_set()->add_mutations() = Put("", "p", "k", "v").mutation();
  *set.mutable_mutation_set()->add_mutations() = Put("", "", "k", "v").mutation();
  EXPECT_NE(target_->ValidatePayload(set).message().find("payload.mutation_set.mutations[1].partition_key"),
            std::string::npos);
}

TEST_F(CassandraTargetChecksTest, AnUnreachableNodeIsRetryableAndBadInputPermanent) {
  DeliveryContext context;
  context.write_time_micros = 1'700'000'000'000'000;
  ApplyResult unreachable = target_->ApplyMutation(Put("", "p", "k", "v").mutation(), context);
  EXPECT_EQ(unreachable.outcome, ApplyOutcome::kRetryable) << unreachable.reason;
  ApplyResult bad = target_->ApplyMutation(Put("", "", "k", "v").mutation(), context);
  EXPECT_EQ(bad.outcome, ApplyOutcome::kPermanent) << bad.reason;
  EXPECT_EQ(target_->DeliverOpaque("x", context).outcome, ApplyOutcome::kPermanent);
  EXPECT_FALSE(target_->Probe().ok());
}

TEST(CassandraTargetCreateTest, AMissingPasswordVariableFailsCreationNamingIt) {
  ::unsetenv("WAL_TEST_CASS_UNSET_VARIABLE");
  auto created = CassandraTarget::FromSettings(
      R"({"contact_points": ["127.0.0.1:1"], "keyspace": "kv", "username": "u",
          "password_env": "WAL_TEST_CASS_UNSET_VARIABLE"})");
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(created.status().message().find("target.password_env"), std::string::npos);
}

}  // namespace
}  // namespace wal::target
