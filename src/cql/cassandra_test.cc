// The CQL client against a real Cassandra 5.0 node (one per binary, with
// PasswordAuthenticator; see testing/cassandra_environment.h). The last test
// kills and restarts the node.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "cql/connection.h"
#include "cql/session.h"
#include "cql/testing/cassandra_environment.h"
#include "cql/value.h"

namespace wal::cql {
namespace {

using testing::CassandraEnvironment;
using namespace std::chrono_literals;

const auto* const kCassandra = ::testing::AddGlobalTestEnvironment(new CassandraEnvironment);

constexpr char kKeyspace[] = "wal_cql_test";

ConnectionOptions Superuser() {
  ConnectionOptions options;
  options.port = static_cast<uint16_t>(CassandraEnvironment::Port());
  options.credentials = Credentials{"cassandra", "cassandra"};
  options.connect_timeout = 10s;
  options.request_timeout = 20s;  // schema changes on a small machine
  return options;
}

SessionOptions SessionFor(ConnectionOptions connection) {
  SessionOptions options;
  options.contact_points = {"127.0.0.1:" + std::to_string(CassandraEnvironment::Port())};
  options.connection = std::move(connection);
  options.reconnect_delay_min = 100ms;
  options.reconnect_delay_max = 1s;
  return options;
}

QueryParameters With(std::vector<Value> values, Consistency consistency = Consistency::kOne) {
  QueryParameters parameters;
  parameters.consistency = consistency;
  parameters.values = std::move(values);
  return parameters;
}

class CqlCassandraTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto session = Session::Create(SessionFor(Superuser()));
    ASSERT_TRUE(session.ok());
    session_ = session->release();
    ASSERT_TRUE(session_->Connect().ok());
    for (const char* ddl : {
             "CREATE KEYSPACE IF NOT EXISTS wal_cql_test WITH replication = "
             "{'class': 'SimpleStrategy', 'replication_factor': 1}",
             "CREATE TABLE IF NOT EXISTS wal_cql_test.kv (k text, c text, v blob, n bigint, i int, flag boolean, "
             "ts timestamp, id uuid, PRIMARY KEY (k, c))",
             "CREATE TABLE IF NOT EXISTS wal_cql_test.hits (k text PRIMARY KEY, count counter)",
         }) {
      Result<ResultMessage> result = session_->Query(ddl, {}, 60s);
      ASSERT_TRUE(result.ok()) << ddl << ": " << result.status().ToString();
    }
  }
  static void TearDownTestSuite() {
    delete session_;
    session_ = nullptr;
  }

  static PreparedStatement MustPrepare(std::string_view query) {
    Result<PreparedStatement> statement = session_->Prepare(query);
    EXPECT_TRUE(statement.ok()) << query << ": " << statement.status().ToString();
    return statement.ok() ? *statement : PreparedStatement{};
  }

  // v of (k, c), or nullopt when the row is absent or v is null.
  static std::optional<std::string> ReadV(const std::string& k, const std::string& c) {
    Result<ResultMessage> rows = session_->Query("SELECT v FROM wal_cql_test.kv WHERE k = ? AND c = ?",
                                                 With({Value::Text(k), Value::Text(c)}));
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    if (!rows.ok() || rows->rows.rows.empty() || RowView(rows->rows, 0).IsNull(0)) return std::nullopt;
    return RowView(rows->rows, 0).Bytes(0).value();
  }

  static inline Session* session_ = nullptr;
};

TEST_F(CqlCassandraTest, OptionsReportTheServersProtocolVersionsAndCqlVersion) {
  auto connection = Connection::Open(Superuser());
  ASSERT_TRUE(connection.ok()) << connection.status().ToString();
  auto supported = (*connection)->Options();
  ASSERT_TRUE(supported.ok()) << supported.status().ToString();
  ASSERT_TRUE(supported->count("CQL_VERSION"));
  EXPECT_EQ(supported->at("CQL_VERSION").front().substr(0, 2), "3.");
  ASSERT_TRUE(supported->count("PROTOCOL_VERSIONS"));
  const auto& versions = supported->at("PROTOCOL_VERSIONS");
  EXPECT_NE(std::find(versions.begin(), versions.end(), "4/v4"), versions.end());
}

TEST_F(CqlCassandraTest, PreparedPutThenSelectRoundTripsEveryCommonType) {
  PreparedStatement put = MustPrepare(
      "INSERT INTO wal_cql_test.kv (k, c, v, n, i, flag, ts, id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  EXPECT_EQ(put.metadata.bind_markers.size(), 8u);
  EXPECT_EQ(put.metadata.partition_key_indexes, std::vector<uint16_t>{0});
  const Uuid id = ParseUuid("123e4567-e89b-12d3-a456-426614174000").value();
  const std::string blob("\x00\x01\xfe\xff", 4);
  Result<ResultMessage> written = session_->Execute(
      put, With({Value::Text("types"), Value::Text("é"), Value::Blob(blob), Value::BigInt(-(1ll << 40)),
                 Value::Int(-7), Value::Boolean(true), Value::Timestamp(1700000000123), Value::FromUuid(id)},
                Consistency::kLocalQuorum));
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(written->kind, ResultKind::kVoid);

  PreparedStatement get = MustPrepare("SELECT k, c, v, n, i, flag, ts, id FROM wal_cql_test.kv WHERE k = ?");
  EXPECT_EQ(get.result_metadata.columns.size(), 8u);
  Result<ResultMessage> read = session_->Execute(get, With({Value::Text("types")}));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->kind, ResultKind::kRows);
  ASSERT_EQ(read->rows.rows.size(), 1u);
  const Rows& rows = read->rows;
  RowView row(rows, 0);
  EXPECT_EQ(row.Text(0).value(), "types");
  EXPECT_EQ(row.Text(1).value(), "é");
  EXPECT_EQ(row.Bytes(2).value(), blob);
  EXPECT_EQ(row.BigInt(3).value(), -(1ll << 40));
  EXPECT_EQ(row.Int(4).value(), -7);
  EXPECT_TRUE(row.Boolean(5).value());
  EXPECT_EQ(row.TimestampMillis(6).value(), 1700000000123);
  EXPECT_EQ(row.GetUuid(7).value(), id);
  EXPECT_EQ(rows.metadata.columns[2].type.id, TypeId::kBlob);
  EXPECT_EQ(rows.metadata.columns[0].keyspace, kKeyspace);
  EXPECT_EQ(row.Text(3).status().code(), StatusCode::kInvalidArgument);  // bigint is not text
}

TEST_F(CqlCassandraTest, CountersAndTimeuuids) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(session_->Query("UPDATE wal_cql_test.hits SET count = count + 2 WHERE k = 'c'").ok());
  }
  Result<ResultMessage> rows = session_->Query("SELECT count, now() AS t FROM wal_cql_test.hits WHERE k = 'c'");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->rows.rows.size(), 1u);
  RowView row(rows->rows, 0);
  EXPECT_EQ(row.BigInt(0).value(), 6);
  EXPECT_EQ(rows->rows.metadata.columns[1].type.id, TypeId::kTimeuuid);
  EXPECT_EQ(row.GetUuid(1).value()[6] >> 4, 1);  // a version-1 UUID
}

TEST_F(CqlCassandraTest, BatchesOfPreparedIdsAndQueryStringsApplyEveryStatement) {
  PreparedStatement put = MustPrepare("INSERT INTO wal_cql_test.kv (k, c, v) VALUES (?, ?, ?)");
  BatchRequest unlogged;
  unlogged.type = BatchType::kUnlogged;  // one partition: the cheap kind
  for (int i = 0; i < 5; ++i) {
    unlogged.statements.push_back(
        {true, put.id, {Value::Text("batch"), Value::Text("c" + std::to_string(i)), Value::Blob("v")}});
  }
  unlogged.statements.push_back({false, "DELETE FROM wal_cql_test.kv WHERE k = 'batch' AND c = 'c4'", {}});
  Result<ResultMessage> result = session_->Batch(unlogged);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  Result<ResultMessage> rows = session_->Query("SELECT c FROM wal_cql_test.kv WHERE k = 'batch'");
  ASSERT_TRUE(rows.ok());
  // One timestamp for the whole batch, and at equal timestamps a tombstone beats a live cell.
  EXPECT_EQ(rows->rows.rows.size(), 4u);

  BatchRequest logged;  // across partitions
  logged.type = BatchType::kLogged;
  logged.statements.push_back({true, put.id, {Value::Text("logged-a"), Value::Text("x"), Value::Blob("1")}});
  logged.statements.push_back({true, put.id, {Value::Text("logged-b"), Value::Text("x"), Value::Blob("2")}});
  ASSERT_TRUE(session_->Batch(logged).ok());
  EXPECT_EQ(ReadV("logged-a", "x"), std::optional<std::string>("1"));
  EXPECT_EQ(ReadV("logged-b", "x"), std::optional<std::string>("2"));
}

TEST_F(CqlCassandraTest, UsingTimestampMakesTheNewestWriteWinWhateverTheOrder) {
  PreparedStatement put = MustPrepare("INSERT INTO wal_cql_test.kv (k, c, v) VALUES (?, ?, ?) USING TIMESTAMP ?");
  PreparedStatement remove = MustPrepare("DELETE FROM wal_cql_test.kv USING TIMESTAMP ? WHERE k = ? AND c = ?");
  ASSERT_TRUE(session_->Execute(put, With({Value::Text("lww"), Value::Text("a"), Value::Blob("new"),
                                           Value::BigInt(2'000'000)})).ok());
  // A replayed older write and an older delete arrive late: neither changes the row.
  ASSERT_TRUE(session_->Execute(put, With({Value::Text("lww"), Value::Text("a"), Value::Blob("old"),
                                           Value::BigInt(1'000'000)})).ok());
  ASSERT_TRUE(session_->Execute(remove, With({Value::BigInt(1'500'000), Value::Text("lww"), Value::Text("a")})).ok());
  EXPECT_EQ(ReadV("lww", "a"), std::optional<std::string>("new"));
  // A newer delete does remove it, and an older put cannot bring it back.
  ASSERT_TRUE(session_->Execute(remove, With({Value::BigInt(3'000'000), Value::Text("lww"), Value::Text("a")})).ok());
  ASSERT_TRUE(session_->Execute(put, With({Value::Text("lww"), Value::Text("a"), Value::Blob("older"),
                                           Value::BigInt(2'500'000)})).ok());
  EXPECT_EQ(ReadV("lww", "a"), std::nullopt);
  // The protocol-level default timestamp obeys the same rule.
  QueryParameters stamped = With({Value::Text("lww"), Value::Text("b"), Value::Blob("v1")});
  stamped.default_timestamp = 10;
  PreparedStatement plain = MustPrepare("INSERT INTO wal_cql_test.kv (k, c, v) VALUES (?, ?, ?)");
  ASSERT_TRUE(session_->Execute(plain, stamped).ok());
  stamped.values[2] = Value::Blob("v0");
  stamped.default_timestamp = 5;
  ASSERT_TRUE(session_->Execute(plain, stamped).ok());
  EXPECT_EQ(ReadV("lww", "b"), std::optional<std::string>("v1"));
}

TEST_F(CqlCassandraTest, UsingTtlExpiresTheRow) {
  PreparedStatement put = MustPrepare("INSERT INTO wal_cql_test.kv (k, c, v) VALUES (?, ?, ?) USING TTL ?");
  ASSERT_TRUE(session_->Execute(put, With({Value::Text("ttl"), Value::Text("short"), Value::Blob("x"),
                                           Value::Int(1)})).ok());
  ASSERT_TRUE(session_->Execute(put, With({Value::Text("ttl"), Value::Text("long"), Value::Blob("y"),
                                           Value::Int(3600)})).ok());
  Result<ResultMessage> ttl = session_->Query("SELECT TTL(v) FROM wal_cql_test.kv WHERE k = 'ttl' AND c = 'long'");
  ASSERT_TRUE(ttl.ok()) << ttl.status().ToString();
  ASSERT_EQ(ttl->rows.rows.size(), 1u);
  const int32_t left = RowView(ttl->rows, 0).Int(0).value();
  EXPECT_GT(left, 3500);
  EXPECT_LE(left, 3600);
  // Expiry is second-granular: poll, bounded, for the short row to go.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (ReadV("ttl", "short") && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(100ms);
  EXPECT_EQ(ReadV("ttl", "short"), std::nullopt);
  EXPECT_EQ(ReadV("ttl", "long"), std::optional<std::string>("y"));
}

TEST_F(CqlCassandraTest, AnUnknownKeyspaceOrTableIsPermanentWithTheServersMessage) {
  Result<ResultMessage> keyspace = session_->Query("SELECT * FROM no_such_keyspace.t");
  EXPECT_EQ(keyspace.status().code(), StatusCode::kNotFound) << keyspace.status().ToString();
  EXPECT_FALSE(IsRetryable(keyspace.status()));
  EXPECT_NE(keyspace.status().message().find("no_such_keyspace"), std::string::npos) << keyspace.status().ToString();
  Result<PreparedStatement> table = session_->Prepare("INSERT INTO wal_cql_test.no_such_table (k) VALUES (?)");
  EXPECT_EQ(table.status().code(), StatusCode::kNotFound) << table.status().ToString();
  EXPECT_NE(table.status().message().find("no_such_table"), std::string::npos);
  ConnectionOptions options = Superuser();
  options.keyspace = "no_such_keyspace";
  Result<std::shared_ptr<Connection>> connection = Connection::Open(options);
  EXPECT_EQ(connection.status().code(), StatusCode::kNotFound) << connection.status().ToString();
  Result<ResultMessage> syntax = session_->Query("SELEKT 1");
  EXPECT_EQ(syntax.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(syntax.status().message().find("Syntax_error"), std::string::npos) << syntax.status().ToString();
}

TEST_F(CqlCassandraTest, PasswordAuthenticatorAcceptsGoodCredentialsOnlyAndRolesAreEnforced) {
  ConnectionOptions bad = Superuser();
  bad.credentials = Credentials{"cassandra", "not-the-password"};
  Result<std::shared_ptr<Connection>> refused = Connection::Open(bad);
  EXPECT_EQ(refused.status().code(), StatusCode::kUnauthenticated) << refused.status().ToString();
  EXPECT_FALSE(IsRetryable(refused.status()));
  EXPECT_NE(refused.status().message().find("incorrect"), std::string::npos) << refused.status().ToString();
  EXPECT_EQ(refused.status().message().find("not-the-password"), std::string::npos);

  ConnectionOptions anonymous = Superuser();
  anonymous.credentials.reset();
  EXPECT_EQ(Connection::Open(anonymous).status().code(), StatusCode::kUnauthenticated);

  ASSERT_TRUE(session_->Query("CREATE ROLE IF NOT EXISTS wal_reader WITH PASSWORD = 'reader-pw' AND LOGIN = true").ok());
  ASSERT_TRUE(session_->Query("GRANT SELECT ON KEYSPACE wal_cql_test TO wal_reader").ok());
  ConnectionOptions reader = Superuser();
  reader.credentials = Credentials{"wal_reader", "reader-pw"};
  auto connection = Connection::Open(reader);
  ASSERT_TRUE(connection.ok()) << connection.status().ToString();
  EXPECT_TRUE((*connection)->Query("SELECT * FROM wal_cql_test.kv LIMIT 1", {}).ok());
  Result<ResultMessage> write = (*connection)->Query("INSERT INTO wal_cql_test.kv (k, c) VALUES ('r', 'r')", {});
  EXPECT_EQ(write.status().code(), StatusCode::kPermissionDenied) << write.status().ToString();
  EXPECT_NE(write.status().message().find("Unauthorized"), std::string::npos);
  EXPECT_FALSE(IsRetryable(write.status()));
}

TEST_F(CqlCassandraTest, TlsVerifiesTheNodesCertificate) {
  ConnectionOptions tls = Superuser();
  tls.tls.enabled = true;
  tls.tls.ca_file = CassandraEnvironment::CertFile();
  auto connection = Connection::Open(tls);
  ASSERT_TRUE(connection.ok()) << connection.status().ToString();
  Result<ResultMessage> rows = (*connection)->Query("SELECT release_version FROM system.local", {});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(RowView(rows->rows, 0).Text(0).value().substr(0, 2), "5.");

  ConnectionOptions wrong_name = tls;
  wrong_name.tls.server_name = "db.example.com";  // the certificate names 127.0.0.1 and localhost
  Result<std::shared_ptr<Connection>> refused = Connection::Open(wrong_name);
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(refused.status().message().find("certificate verification failed"), std::string::npos)
      << refused.status().ToString();

  ConnectionOptions untrusted = tls;
  untrusted.tls.ca_file.clear();  // the system's CAs do not know a self-signed node
  EXPECT_NE(Connection::Open(untrusted).status().message().find("certificate verification failed"),
            std::string::npos);
}

TEST_F(CqlCassandraTest, ThousandsOfRequestsInFlightOnOneConnection) {
  auto connection = Connection::Open(Superuser());
  ASSERT_TRUE(connection.ok());
  Result<ResultMessage> prepared =
      (*connection)->Prepare("INSERT INTO wal_cql_test.kv (k, c, n) VALUES ('inflight', ?, ?)");
  ASSERT_TRUE(prepared.ok()) << prepared.status().ToString();
  constexpr int kRequests = 3000;
  constexpr size_t kWindow = 400;  // in flight at once: far more than one, within what a small node absorbs
  std::atomic<int> done{0}, good{0};
  std::mutex mu;
  std::vector<std::string> errors;
  size_t peak = 0;
  std::promise<void> all_done;
  for (int i = 0; i < kRequests; ++i) {
    while ((*connection)->in_flight() >= kWindow) std::this_thread::sleep_for(1ms);
    std::string body =
        EncodeExecute(prepared->prepared.id, With({Value::Text("c" + std::to_string(i)), Value::BigInt(i)})).value();
    (*connection)->Send(Opcode::kExecute, std::move(body), 30s, [&](Result<Frame> frame) {
      Result<ResultMessage> result = DecodeResultFrame(frame);
      if (result.ok()) {
        ++good;
      } else {
        std::lock_guard lock(mu);
        errors.push_back(result.status().ToString());
      }
      if (++done == kRequests) all_done.set_value();
    });
    peak = std::max(peak, (*connection)->in_flight());
  }
  ASSERT_EQ(all_done.get_future().wait_for(120s), std::future_status::ready);
  EXPECT_EQ(good.load(), kRequests) << errors.size() << " failed, the first: " << (errors.empty() ? "" : errors[0]);
  EXPECT_GT(peak, 100u) << "requests were not multiplexed";
  Result<ResultMessage> count = session_->Query("SELECT count(*) FROM wal_cql_test.kv WHERE k = 'inflight'");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(RowView(count->rows, 0).BigInt(0).value(), kRequests);
}

TEST_F(CqlCassandraTest, AnIndependentClientReadsBackWhatWeWrote) {
  const std::string python = CassandraEnvironment::PythonWithDriver();
  ASSERT_FALSE(python.empty()) << "cassandra.sh pydriver could not make the venv (pip and PyPI needed)";
  PreparedStatement put = MustPrepare("INSERT INTO wal_cql_test.kv (k, c, v, n, flag) VALUES (?, ?, ?, ?, ?)");
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(session_->Execute(put, With({Value::Text("pyread"), Value::Text("c" + std::to_string(i)),
                                             Value::Blob(std::string(1, static_cast<char>(0xa0 + i))),
                                             Value::BigInt(1000 + i), Value::Boolean(i % 2 == 0)},
                                            Consistency::kLocalQuorum)).ok());
  }
  const std::string command = python + " " + CassandraEnvironment::ReadRowsScript() + " " +
                              std::to_string(CassandraEnvironment::Port()) +
                              " cassandra cassandra \"SELECT c, v, n, flag FROM wal_cql_test.kv WHERE k = 'pyread'\"";
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[512];
  while (std::fgets(buffer, sizeof(buffer), pipe) != nullptr) output += buffer;
  ASSERT_EQ(::pclose(pipe), 0) << output;
  EXPECT_EQ(output,
            "{\"c\": \"c0\", \"flag\": true, \"n\": 1000, \"v\": \"a0\"}\n"
            "{\"c\": \"c1\", \"flag\": false, \"n\": 1001, \"v\": \"a1\"}\n"
            "{\"c\": \"c2\", \"flag\": true, \"n\": 1002, \"v\": \"a2\"}\n");
}

// Last: kills the node. Writes in flight fail retryably; once the node is back
// the same session reconnects (and re-prepares if it must) and every write that
// was acknowledged is there.
TEST_F(CqlCassandraTest, NodeKilledMidLoadFailsRetryablyThenTheSessionReconnects) {
  PreparedStatement put = MustPrepare("INSERT INTO wal_cql_test.kv (k, c, n) VALUES ('crash', ?, ?)");
  std::mutex mu;
  std::set<int> acknowledged;
  std::vector<Status> failures;
  std::atomic<bool> stop{false};
  std::atomic<int> next{0};
  auto load = [&] {
    while (!stop) {
      const int i = next++;
      Result<ResultMessage> result =
          session_->Execute(put, With({Value::Text(std::to_string(i)), Value::BigInt(i)}), 5s);
      if (result.ok()) {
        std::lock_guard lock(mu);
        acknowledged.insert(i);
        continue;
      }
      {
        std::lock_guard lock(mu);
        failures.push_back(result.status());
      }
      std::this_thread::sleep_for(20ms);  // a caller's retry delay
    }
  };
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) writers.emplace_back(load);
  const auto wait_for_acks = [&](size_t count) {
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < deadline) {
      {
        std::lock_guard lock(mu);
        if (acknowledged.size() >= count) return true;
      }
      std::this_thread::sleep_for(10ms);
    }
    return false;
  };
  ASSERT_TRUE(wait_for_acks(200));
  ASSERT_EQ(CassandraEnvironment::Control("kill"), 0);
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard lock(mu);
      if (failures.size() >= 8) break;
    }
    std::this_thread::sleep_for(10ms);
  }
  size_t acked_before_restart;
  {
    std::lock_guard lock(mu);
    ASSERT_GE(failures.size(), 8u) << "writes kept succeeding with the node dead";
    for (const Status& failure : failures) EXPECT_TRUE(IsRetryable(failure)) << failure.ToString();
    acked_before_restart = acknowledged.size();
  }
  ASSERT_EQ(CassandraEnvironment::Control("start"), 0);
  EXPECT_TRUE(wait_for_acks(acked_before_restart + 200)) << "the session did not reconnect";
  stop = true;
  for (auto& writer : writers) writer.join();
  EXPECT_EQ(session_->live_hosts(), 1u);

  Result<ResultMessage> rows = session_->Query("SELECT c FROM wal_cql_test.kv WHERE k = 'crash'", {}, 60s);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  std::set<int> stored;
  for (size_t r = 0; r < rows->rows.rows.size(); ++r) stored.insert(std::stoi(RowView(rows->rows, r).Text(0).value()));
  for (int i : acknowledged) EXPECT_TRUE(stored.count(i)) << "acknowledged write " << i << " is missing";
}

}  // namespace
}  // namespace wal::cql
