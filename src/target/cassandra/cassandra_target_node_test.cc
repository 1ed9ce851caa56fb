// The cassandra target against a real Cassandra 5.0 node (one per binary, with
// PasswordAuthenticator; src/cql/testing/cassandra_environment.h): directly,
// and through a real wald. The last test kills and restarts the node.
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "cql/session.h"
#include "cql/testing/cassandra_environment.h"
#include "target/cassandra/cassandra_target.h"
#include "target/cassandra/testing/superuser_session.h"
#include "wal/v1/admin.grpc.pb.h"
#include "wal/v1/wal.grpc.pb.h"
#include "wald_process.h"

namespace wal::target {
namespace {

using cql::testing::CassandraEnvironment;
using google::protobuf::util::TimeUtil;
using std::chrono::milliseconds;
using namespace std::chrono_literals;

const auto* const kCassandra = ::testing::AddGlobalTestEnvironment(new CassandraEnvironment);

constexpr char kKeyspace[] = "wal_target_test";
constexpr char kPasswordVariable[] = "WAL_TEST_CASSANDRA_PASSWORD";

std::string ContactPoint() { return "127.0.0.1:" + std::to_string(CassandraEnvironment::Port()); }

// Settings JSON (without "type") for the test keyspace, as the superuser.
std::string Settings(const std::string& extra = "", const std::string& keyspace = kKeyspace) {
  return R"({"contact_points": [")" + ContactPoint() + R"("], "keyspace": ")" + keyspace +
         R"(", "username": "cassandra", "password_env": ")" + kPasswordVariable +
         R"(", "consistency": "ONE", "request_timeout": "20s", "connect_timeout": "10s")" + extra + "}";
}

std::unique_ptr<CassandraTarget> MakeTarget(const std::string& extra = "", const std::string& keyspace = kKeyspace) {
  auto created = CassandraTarget::FromSettings(Settings(extra, keyspace));
  EXPECT_TRUE(created.ok()) << created.status().ToString();
  return created.ok() ? std::move(created).value() : nullptr;
}

v1::Mutation Put(const std::string& table, const std::string& partition, const std::string& key,
                 const std::string& value) {
  v1::Mutation mutation;
  mutation.set_op(v1::Mutation::PUT);
  mutation.set_table(table);
  mutation.set_partition_key(partition);
  mutation.set_key(key);
  mutation.set_value(value);
  return mutation;
}

v1::Mutation Delete(const std::string& table, const std::string& partition, const std::string& key) {
  v1::Mutation mutation = Put(table, partition, key, "");
  mutation.set_op(v1::Mutation::DELETE);
  return mutation;
}

DeliveryContext WrittenAt(int64_t micros) {
  DeliveryContext context;
  context.write_time_micros = micros;
  return context;
}

std::optional<std::string> ValueOf(CassandraTarget& target, const std::string& table, const std::string& partition,
                                   const std::string& key) {
  auto value = target.Get(table, partition, key);
  EXPECT_TRUE(value.ok()) << value.status().ToString();
  return value.ok() ? *value : std::nullopt;
}

bool Eventually(const std::function<bool()>& condition, milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return condition();
}

// The rows a CQL query returns, one JSON object a line, read with the Python
// cassandra-driver (an independent client).
std::string ReadWithPythonDriver(const std::string& query) {
  const std::string python = CassandraEnvironment::PythonWithDriver();
  if (python.empty()) return "(no python driver: cassandra.sh pydriver failed)";
  const std::string command = python + " " + CassandraEnvironment::ReadRowsScript() + " " +
                              std::to_string(CassandraEnvironment::Port()) + " cassandra cassandra \"" + query + "\"";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return "(popen failed)";
  std::string output;
  char buffer[512];
  while (std::fgets(buffer, sizeof(buffer), pipe) != nullptr) output += buffer;
  if (::pclose(pipe) != 0) return "(read_rows.py failed) " + output;
  return output;
}

std::string Hex(const std::string& bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

class CassandraTargetNodeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ::setenv(kPasswordVariable, "cassandra", 1);
    admin_ = cassandra::testing::SuperuserSessionWithKeyspace(kKeyspace).release();
    ASSERT_NE(admin_, nullptr);
  }
  static void TearDownTestSuite() {
    delete admin_;
    admin_ = nullptr;
  }

  static Status Cql(const std::string& query) {
    Result<cql::ResultMessage> result = admin_->Query(query, {}, 60s);
    return result.ok() ? Status::Ok() : result.status();
  }

  // A wald with one namespace `kv` on the local backend; `target` and `extra` are YAML.
  void StartWald(const std::string& target, const std::string& extra = "") {
    wald_ = std::make_unique<testing::WaldProcess>(dir_.path() + "/wald");
    wald_->WriteNamespaceFile("kv", "name: kv\nbackend: {type: local}\ntarget: " + target +
                                        "\nbackoff: {initial: 100ms, multiplier: 2.0, max: 1s, jitter: none}\n"
                                        "max_retries: 1000\nconsumer: {concurrency: 4, poll_interval: 20ms}\n" + extra);
    wald_->Start();
    stub_ = v1::WriteAheadLog::NewStub(wald_->Channel());
    admin_stub_ = v1::Admin::NewStub(wald_->Channel());
  }
  void TearDown() override {
    if (wald_) wald_->Kill();
  }

  // The target YAML for the test keyspace (flow style).
  static std::string TargetYaml(const std::string& extra = "", const std::string& keyspace = kKeyspace,
                                const std::string& request_timeout = "20s") {
    return "{type: cassandra, contact_points: [\"" + ContactPoint() + "\"], keyspace: " + keyspace +
           ", username: cassandra, password_env: " + kPasswordVariable + ", consistency: ONE, request_timeout: " +
           request_timeout + ", connect_timeout: 5s" + extra + "}";
  }

  v1::WriteToLogResponse Write(v1::Payload payload) {
    v1::WriteToLogRequest request;
    request.set_namespace_("kv");
    *request.mutable_payload() = std::move(payload);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 30s);
    v1::WriteToLogResponse response;
    grpc::Status status = stub_->WriteToLog(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }
  static v1::Payload One(v1::Mutation mutation) {
    v1::Payload payload;
    *payload.mutable_mutation() = std::move(mutation);
    return payload;
  }

  v1::NamespaceStatus NamespaceStatus() {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    v1::GetStatusRequest request;
    request.set_namespace_("kv");
    v1::GetStatusResponse response;
    EXPECT_TRUE(admin_stub_->GetStatus(&context, request, &response).ok());
    return response.namespaces_size() > 0 ? response.namespaces(0) : v1::NamespaceStatus();
  }

  static inline cql::Session* admin_ = nullptr;
  testing::TempDir dir_;
  std::unique_ptr<testing::WaldProcess> wald_;
  std::unique_ptr<v1::WriteAheadLog::Stub> stub_;
  std::unique_ptr<v1::Admin::Stub> admin_stub_;
};

TEST_F(CassandraTargetNodeTest, PutDeleteAndTtlRoundTrip) {
  auto target = MakeTarget();
  ASSERT_NE(target, nullptr);
  ASSERT_TRUE(target->Probe().ok());
  const std::string binary_key("k\0\xff", 3);
  const std::string binary_value("\0\x01value\xfe", 8);
  int64_t now = 1'700'000'000'000'000;
  ApplyResult put = target->ApplyMutation(Put("items", "p1", binary_key, binary_value), WrittenAt(now));
  ASSERT_TRUE(put.ok()) << put.reason;
  EXPECT_TRUE(target->ApplyMutation(Put("items", "p1", binary_key, binary_value), WrittenAt(now)).ok())
      << "a duplicate is harmless";
  EXPECT_EQ(ValueOf(*target, "items", "p1", binary_key), binary_value);
  EXPECT_EQ(ValueOf(*target, "items", "p2", binary_key), std::nullopt) << "keyed by partition too";

  ASSERT_TRUE(target->ApplyMutation(Delete("items", "p1", binary_key), WrittenAt(now + 1)).ok());
  EXPECT_TRUE(target->ApplyMutation(Delete("items", "p1", binary_key), WrittenAt(now + 1)).ok())
      << "deleting a missing row succeeds";
  EXPECT_EQ(ValueOf(*target, "items", "p1", binary_key), std::nullopt);

  // TTLs are whole seconds in Cassandra, rounded up: 3600.2s is 3601s. No write
  // time: this process's clock stamps it.
  v1::Mutation lasting = Put("", "p", "hour", "v");
  *lasting.mutable_ttl() = TimeUtil::MillisecondsToDuration(3'600'200);
  ASSERT_TRUE(target->ApplyMutation(lasting, DeliveryContext{}).ok());
  const std::string ttl = ReadWithPythonDriver(std::string("SELECT TTL(value) AS t FROM ") + kKeyspace +
                                               ".kv WHERE partition_key = 'p' AND sort_key = 0x686f7572");
  const int remaining = ttl.rfind("{\"t\": ", 0) == 0 ? std::atoi(ttl.c_str() + 6) : -1;
  EXPECT_TRUE(remaining > 3500 && remaining <= 3601) << ttl;

  v1::Mutation expiring = Put("", "p", "soon", "gone");
  *expiring.mutable_ttl() = TimeUtil::MillisecondsToDuration(1200);
  ASSERT_TRUE(target->ApplyMutation(expiring, DeliveryContext{}).ok());
  EXPECT_TRUE(Eventually([&] { return !ValueOf(*target, "", "p", "soon").has_value(); }, 10s));
  EXPECT_EQ(ValueOf(*target, "", "p", "hour"), "v");
}

TEST_F(CassandraTargetNodeTest, AReplayedOlderWriteNeverOverwritesANewerOne) {
  auto target = MakeTarget();
  const int64_t t = 1'700'000'100'000'000;
  ASSERT_TRUE(target->ApplyMutation(Put("lww", "p", "k", "new"), WrittenAt(t + 10)).ok());
  // An older entry delivered late (a retry, a redrive, a duplicate): no change.
  ASSERT_TRUE(target->ApplyMutation(Put("lww", "p", "k", "old"), WrittenAt(t)).ok());
  ASSERT_TRUE(target->ApplyMutation(Delete("lww", "p", "k"), WrittenAt(t + 5)).ok());
  EXPECT_EQ(ValueOf(*target, "lww", "p", "k"), "new");
  // A newer delete wins, and an older put cannot bring the row back.
  ASSERT_TRUE(target->ApplyMutation(Delete("lww", "p", "k"), WrittenAt(t + 20)).ok());
  ASSERT_TRUE(target->ApplyMutation(Put("lww", "p", "k", "older"), WrittenAt(t + 15)).ok());
  EXPECT_EQ(ValueOf(*target, "lww", "p", "k"), std::nullopt);

  // The independent client sees the write time we stamped.
  ASSERT_TRUE(target->ApplyMutation(Put("lww", "p", "k2", "v"), WrittenAt(t + 30)).ok());
  EXPECT_EQ(ReadWithPythonDriver(std::string("SELECT WRITETIME(value) AS w, value FROM ") + kKeyspace +
                                 ".lww WHERE partition_key = 'p' AND sort_key = 0x6b32"),
            "{\"value\": \"" + Hex("v") + "\", \"w\": " + std::to_string(t + 30) + "}\n");
}

TEST_F(CassandraTargetNodeTest, MappedTablesAndExistingTablesWithCreateTablesFalse) {
  ASSERT_TRUE(Cql(std::string("CREATE TABLE IF NOT EXISTS ") + kKeyspace +
                  ".orders_by_customer (customer text, order_id blob, body blob, PRIMARY KEY (customer, order_id))")
                  .ok());
  ASSERT_TRUE(Cql(std::string("CREATE TABLE IF NOT EXISTS ") + kKeyspace +
                  ".wrong_types (partition_key text, sort_key int, value blob, PRIMARY KEY (partition_key, sort_key))")
                  .ok());
  auto strict = MakeTarget(R"(, "create_tables": false, "tables": {"orders": {"table": "orders_by_customer",
      "partition_key_column": "customer", "clustering_key_column": "order_id", "value_column": "body"}})");
  ASSERT_TRUE(strict->ApplyMutation(Put("orders", "alice", "o-1", "2 widgets"), WrittenAt(1)).ok());
  EXPECT_EQ(ReadWithPythonDriver(std::string("SELECT customer, order_id, body FROM ") + kKeyspace +
                                 ".orders_by_customer WHERE customer = 'alice'"),
            "{\"body\": \"" + Hex("2 widgets") + "\", \"customer\": \"alice\", \"order_id\": \"" + Hex("o-1") + "\"}\n");

  ApplyResult absent = strict->ApplyMutation(Put("absent_table", "p", "k", "v"), WrittenAt(1));
  EXPECT_EQ(absent.outcome, ApplyOutcome::kPermanent) << absent.reason;
  EXPECT_NE(absent.reason.find("absent_table"), std::string::npos) << absent.reason;
  ApplyResult wrong = strict->ApplyMutation(Put("wrong_types", "p", "k", "v"), WrittenAt(1));
  EXPECT_EQ(wrong.outcome, ApplyOutcome::kPermanent) << wrong.reason;
  EXPECT_NE(wrong.reason.find("column sort_key is int, a type wal cannot write"), std::string::npos) << wrong.reason;
}

TEST_F(CassandraTargetNodeTest, GoodCredentialsWorkAndBadOnesArePermanent) {
  ASSERT_TRUE(Cql("CREATE ROLE IF NOT EXISTS wal_writer WITH PASSWORD = 'right' AND LOGIN = true").ok());
  ASSERT_TRUE(Cql(std::string("GRANT MODIFY ON KEYSPACE ") + kKeyspace + " TO wal_writer").ok());
  ASSERT_TRUE(Cql(std::string("GRANT SELECT ON KEYSPACE ") + kKeyspace + " TO wal_writer").ok());
  ASSERT_TRUE(MakeTarget()->ApplyMutation(Put("grants", "p", "k", "v0"), WrittenAt(1)).ok());  // makes the table

  const std::string file = dir_.path() + "/password";
  std::ofstream(file) << "right\n";
  auto writer = CassandraTarget::FromSettings(
      R"({"contact_points": [")" + ContactPoint() + R"("], "keyspace": ")" + kKeyspace +
      R"(", "username": "wal_writer", "password_file": ")" + file +
      R"(", "consistency": "ONE", "create_tables": false, "request_timeout": "20s"})");
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  ASSERT_TRUE((*writer)->Probe().ok());
  ApplyResult granted = (*writer)->ApplyMutation(Put("grants", "p", "k", "v1"), WrittenAt(2));
  EXPECT_TRUE(granted.ok()) << granted.reason;

  // No CREATE permission: making a new table is refused, permanently, with the server's reason.
  auto creator = CassandraTarget::FromSettings(
      R"({"contact_points": [")" + ContactPoint() + R"("], "keyspace": ")" + kKeyspace +
      R"(", "username": "wal_writer", "password_file": ")" + file + R"(", "consistency": "ONE"})");
  ApplyResult unauthorized = (*creator)->ApplyMutation(Put("not_granted", "p", "k", "v"), WrittenAt(2));
  EXPECT_EQ(unauthorized.outcome, ApplyOutcome::kPermanent) << unauthorized.reason;
  EXPECT_NE(unauthorized.reason.find("CREATE"), std::string::npos) << unauthorized.reason;

  std::ofstream(file) << "wrong\n";
  auto bad = CassandraTarget::FromSettings(
      R"({"contact_points": [")" + ContactPoint() + R"("], "keyspace": ")" + kKeyspace +
      R"(", "username": "wal_writer", "password_file": ")" + file + R"(", "consistency": "ONE"})");
  ASSERT_TRUE(bad.ok());
  EXPECT_FALSE((*bad)->Probe().ok());
  ApplyResult refused = (*bad)->ApplyMutation(Put("grants", "p", "k", "v2"), WrittenAt(3));
  EXPECT_EQ(refused.outcome, ApplyOutcome::kPermanent) << refused.reason;
  EXPECT_EQ(refused.reason.find("wrong"), std::string::npos) << "the password is never in a reason";
  EXPECT_EQ(ValueOf(*MakeTarget(), "grants", "p", "k"), "v1");
}

TEST_F(CassandraTargetNodeTest, AnUnknownKeyspaceGoesToTheDlqWithTheServersMessage) {
  StartWald(TargetYaml("", "no_such_keyspace"));
  v1::WriteToLogResponse response = Write(One(Put("items", "p", "k", "v")));
  ASSERT_EQ(response.durable(), v1::TRUE) << response.message();
  ASSERT_TRUE(Eventually([&] { return NamespaceStatus().dead_letters() == 1; }, 30s))
      << NamespaceStatus().ShortDebugString();
  auto listed = wald_->Walctl({"--json", "dlq", "list", "kv"});
  EXPECT_NE(listed.output.find("permanent"), std::string::npos) << listed.output;
  EXPECT_NE(listed.output.find("no_such_keyspace"), std::string::npos) << listed.output;
  EXPECT_NE(listed.output.find("exist"), std::string::npos) << "the server's own words: " << listed.output;
}

TEST_F(CassandraTargetNodeTest, AMutationSetAcrossTwoTablesIsAppliedInOrderThroughWald) {
  // Sets are kept in Cassandra too, as a Kafka-backed deployment would.
  StartWald(TargetYaml(", create_tables: false"),
            "durable_storage: {type: cassandra, contact_points: [\"" + ContactPoint() + "\"], keyspace: " + kKeyspace +
                ", username: cassandra, password_env: " + kPasswordVariable + ", consistency: ONE}\n");
  for (const char* ddl : {"CREATE TABLE IF NOT EXISTS %s.accounts (partition_key text, sort_key blob, value blob, "
                          "PRIMARY KEY (partition_key, sort_key))",
                          "CREATE TABLE IF NOT EXISTS %s.ledger (partition_key text, sort_key blob, value blob, "
                          "PRIMARY KEY (partition_key, sort_key))"}) {
    char query[512];
    std::snprintf(query, sizeof(query), ddl, kKeyspace);
    ASSERT_TRUE(Cql(query).ok());
  }
  auto set_of = [](std::vector<std::pair<uint64_t, v1::Mutation>> mutations) {
    v1::Payload payload;
    for (auto& [sequence, mutation] : mutations) {
      mutation.set_sequence(sequence);
      *payload.mutable_mutation_set()->add_mutations() = mutation;
    }
    return payload;
  };
  v1::WriteToLogResponse response = Write(set_of({{2, Put("ledger", "acct-7", "entry-1", "-20")},
                                                  {1, Put("accounts", "acct-7", "balance", "80")}}));
  ASSERT_EQ(response.durable(), v1::TRUE) << response.message();
  auto reader = MakeTarget(", \"create_tables\": false");
  ASSERT_TRUE(Eventually([&] { return ValueOf(*reader, "ledger", "acct-7", "entry-1") == "-20"; }, 30s));
  EXPECT_EQ(ValueOf(*reader, "accounts", "acct-7", "balance"), "80");

  // In order: the set stops at the mutation that cannot be applied; what came
  // before it is applied, what comes after is not.
  response = Write(set_of({{1, Put("accounts", "acct-8", "balance", "50")},
                           {2, Put("no_such_table", "acct-8", "x", "y")},
                           {3, Put("ledger", "acct-8", "entry-1", "+50")}}));
  ASSERT_EQ(response.durable(), v1::TRUE) << response.message();
  ASSERT_TRUE(Eventually([&] { return NamespaceStatus().dead_letters() == 1; }, 30s))
      << NamespaceStatus().ShortDebugString();
  EXPECT_EQ(ValueOf(*reader, "accounts", "acct-8", "balance"), "50");
  EXPECT_EQ(ValueOf(*reader, "ledger", "acct-8", "entry-1"), std::nullopt);
  EXPECT_EQ(ReadWithPythonDriver(std::string("SELECT value FROM ") + kKeyspace + ".ledger WHERE partition_key = 'acct-8'"),
            "");
}

// Last: kills the node. wald keeps every acknowledged entry and retries it
// until the node is back; then all of them are there.
TEST_F(CassandraTargetNodeTest, TheNodeKilledMidLoadLosesNothingAcknowledged) {
  StartWald(TargetYaml("", kKeyspace, "2s"));
  auto reader = MakeTarget();
  ASSERT_TRUE(reader->ApplyMutation(Put("load", "warm", "k", "v"), WrittenAt(1)).ok());  // the table exists
  constexpr int kEntries = 400;
  int acknowledged = 0;
  for (int i = 0; i < kEntries; ++i) {
    if (i == kEntries / 4) {
      ASSERT_EQ(CassandraEnvironment::Control("kill"), 0);
    }
    v1::WriteToLogResponse response = Write(One(Put("load", "p" + std::to_string(i % 7), std::to_string(i),
                                                    "value-" + std::to_string(i))));
    ASSERT_EQ(response.durable(), v1::TRUE) << response.message();
    ++acknowledged;
  }
  EXPECT_GT(NamespaceStatus().pending(), 0u) << "the node is down: entries wait";
  ASSERT_EQ(CassandraEnvironment::Control("start"), 0);
  ASSERT_TRUE(Eventually([&] { return NamespaceStatus().pending() == 0; }, 120s))
      << NamespaceStatus().ShortDebugString();
  EXPECT_EQ(NamespaceStatus().dead_letters(), 0u);
  const std::string counted = ReadWithPythonDriver(std::string("SELECT COUNT(*) AS n FROM ") + kKeyspace + ".load");
  EXPECT_EQ(counted, "{\"n\": " + std::to_string(acknowledged + 1) + "}\n");
  for (int i = 0; i < kEntries; i += 37) {
    EXPECT_EQ(ValueOf(*reader, "load", "p" + std::to_string(i % 7), std::to_string(i)), "value-" + std::to_string(i));
  }
}

}  // namespace
}  // namespace wal::target
