#include "cql/session.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>

#include "cql/testing/fake_cql_server.h"
#include "cql/testing/hex.h"
#include "cql/wire.h"

namespace wal::cql {
namespace {

using testing::FakeCqlServer;
using testing::Hex;
using testing::Str;
using namespace std::chrono_literals;

// A node that knows prepared statements until it "restarts" (Forget()), and
// answers EXECUTE and BATCH of unknown ids with UNPREPARED, as Cassandra does.
class PreparingNode {
 public:
  PreparingNode()
      : server_([this](FakeCqlServer::Peer& peer, const Frame& request) { Handle(peer, request); }) {}

  int port() const { return server_.port(); }
  FakeCqlServer& server() { return server_; }
  int prepares() const { return prepares_.load(); }
  int queries() const { return queries_.load(); }
  void Forget() {
    std::lock_guard lock(mu_);
    known_.clear();
  }

 private:
  void Handle(FakeCqlServer::Peer& peer, const Frame& request) {
    if (FakeCqlServer::AnswerHandshake(peer, request)) return;
    WireReader reader(request.body);
    switch (request.header.opcode) {
      case Opcode::kPrepare: {
        ++prepares_;
        std::string id = "id:" + std::string(reader.LongString());
        {
          std::lock_guard lock(mu_);
          known_.insert(id);
        }
        peer.Reply(request.header.stream, Opcode::kResult, testing::PreparedResultBody(id));
        return;
      }
      case Opcode::kExecute:
        return AnswerFor(peer, request, std::string(reader.ShortBytes()));
      case Opcode::kBatch: {
        reader.Byte();   // type
        reader.Short();  // n: the tests send one prepared statement
        reader.Byte();   // kind 1
        return AnswerFor(peer, request, std::string(reader.ShortBytes()));
      }
      default:
        ++queries_;
        peer.Reply(request.header.stream, Opcode::kResult, testing::VoidResultBody());
    }
  }

  void AnswerFor(FakeCqlServer::Peer& peer, const Frame& request, const std::string& id) {
    bool known;
    {
      std::lock_guard lock(mu_);
      known = known_.count(id) > 0;
    }
    if (known) {
      peer.Reply(request.header.stream, Opcode::kResult, testing::VoidResultBody());
    } else {
      peer.Reply(request.header.stream, Opcode::kError, Hex("00002500") + Str("Prepared query with ID not found") +
                                                            Str(id));  // [short bytes] has [string]'s layout
    }
  }

  std::mutex mu_;
  std::set<std::string> known_;
  std::atomic<int> prepares_{0};
  std::atomic<int> queries_{0};
  FakeCqlServer server_;
};

SessionOptions OptionsFor(std::vector<int> ports) {
  SessionOptions options;
  for (int port : ports) options.contact_points.push_back("127.0.0.1:" + std::to_string(port));
  options.connection.connect_timeout = 2s;
  options.connection.request_timeout = 2s;
  options.reconnect_delay_min = 20ms;
  options.reconnect_delay_max = 100ms;
  return options;
}

int DeadPort() {
  FakeCqlServer server([](FakeCqlServer::Peer&, const Frame&) {});
  return server.port();
}

TEST(CqlSessionTest, SpreadsRequestsOverLiveNodesAndSkipsADeadOne) {
  PreparingNode a, b;
  auto session = Session::Create(OptionsFor({a.port(), DeadPort(), b.port()}));
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  for (int i = 0; i < 30; ++i) {
    Result<ResultMessage> result = (*session)->Query("INSERT");
    ASSERT_TRUE(result.ok()) << i << ": " << result.status().ToString();
  }
  EXPECT_GT(a.queries(), 0);
  EXPECT_GT(b.queries(), 0);
  EXPECT_EQ(a.queries() + b.queries(), 30);
  EXPECT_EQ((*session)->live_hosts(), 2u);
}

TEST(CqlSessionTest, EveryNodeDownIsUnavailableNamingEachAndBacksOff) {
  auto session = Session::Create(OptionsFor({DeadPort(), DeadPort()}));
  ASSERT_TRUE(session.ok());
  Result<ResultMessage> first = (*session)->Query("SELECT");
  EXPECT_EQ(first.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(IsRetryable(first.status()));
  EXPECT_NE(first.status().message().find("no Cassandra node available"), std::string::npos);
  Result<ResultMessage> second = (*session)->Query("SELECT");  // within the backoff: no new attempt
  EXPECT_NE(second.status().message().find("next attempt in"), std::string::npos) << second.status().ToString();
}

TEST(CqlSessionTest, ReconnectsAfterTheNodeDroppedItsConnections) {
  PreparingNode node;
  auto session = Session::Create(OptionsFor({node.port()}));
  ASSERT_TRUE(session.ok());
  ASSERT_TRUE((*session)->Connect().ok());
  ASSERT_TRUE((*session)->Query("one").ok());
  node.server().DropConnections();
  Status last;
  for (int i = 0; i < 200; ++i) {  // the drop is seen, then a new connection is made
    last = (*session)->Query("two").status();
    if (last.ok() && node.server().connections_accepted() == 2) break;
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(last.ok()) << last.ToString();
  EXPECT_EQ(node.server().connections_accepted(), 2);
}

TEST(CqlSessionTest, UnpreparedIsRepreparedTransparentlyForExecute) {
  PreparingNode node;
  auto session = Session::Create(OptionsFor({node.port()}));
  ASSERT_TRUE(session.ok());
  Result<PreparedStatement> statement = (*session)->Prepare("INSERT INTO t (k) VALUES (?)");
  ASSERT_TRUE(statement.ok()) << statement.status().ToString();
  EXPECT_EQ(statement->id, "id:INSERT INTO t (k) VALUES (?)");
  QueryParameters parameters;
  parameters.values = {Value::Text("k")};
  ASSERT_TRUE((*session)->Execute(*statement, parameters).ok());
  node.Forget();  // the node restarted
  Result<ResultMessage> result = (*session)->Execute(*statement, parameters);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(node.prepares(), 2);
}

TEST(CqlSessionTest, BatchesRepreparePreparedIdsFromTheSessionCache) {
  PreparingNode node;
  auto session = Session::Create(OptionsFor({node.port()}));
  ASSERT_TRUE(session.ok());
  Result<PreparedStatement> statement = (*session)->Prepare("UPDATE t SET v = ? WHERE k = ?");
  ASSERT_TRUE(statement.ok());
  node.Forget();
  BatchRequest batch;
  batch.type = BatchType::kUnlogged;
  batch.statements.push_back({true, statement->id, {Value::Text("v"), Value::Text("k")}});
  Result<ResultMessage> result = (*session)->Batch(batch);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(node.prepares(), 2);
}

TEST(CqlSessionTest, AnIdNeverPreparedByTheSessionStaysUnprepared) {
  PreparingNode node;
  auto session = Session::Create(OptionsFor({node.port()}));
  ASSERT_TRUE(session.ok());
  BatchRequest batch;
  batch.statements.push_back({true, "id:unknown", {}});
  Result<ResultMessage> result = (*session)->Batch(batch);
  EXPECT_EQ(result.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(result.status().message().find("Unprepared"), std::string::npos) << result.status().ToString();
  EXPECT_EQ(node.prepares(), 0);
}

TEST(CqlSessionTest, BadCredentialsOnEveryNodeArePermanent) {
  FakeCqlServer server([](FakeCqlServer::Peer& peer, const Frame& request) {
    if (request.header.opcode == Opcode::kStartup) {
      peer.Reply(request.header.stream, Opcode::kAuthenticate, Str("PasswordAuthenticator"));
    } else {
      peer.Reply(request.header.stream, Opcode::kError, Hex("00000100") + Str("bad credentials"));
    }
  });
  SessionOptions options = OptionsFor({server.port()});
  options.connection.credentials = Credentials{"u", "p"};
  auto session = Session::Create(options);
  ASSERT_TRUE(session.ok());
  Status status = (*session)->Connect();
  EXPECT_EQ(status.code(), StatusCode::kUnauthenticated) << status.ToString();
  EXPECT_FALSE(IsRetryable(status));
  EXPECT_EQ((*session)->Query("q").status().code(), StatusCode::kUnauthenticated);
}

TEST(CqlSessionTest, AsyncExecuteRunsItsCallbackOnce) {
  PreparingNode node;
  auto session = Session::Create(OptionsFor({node.port()}));
  ASSERT_TRUE(session.ok());
  Result<PreparedStatement> statement = (*session)->Prepare("INSERT");
  ASSERT_TRUE(statement.ok());
  std::atomic<int> calls{0}, good{0};
  for (int i = 0; i < 500; ++i) {
    (*session)->ExecuteAsync(*statement, {}, 2s, [&](Result<ResultMessage> result) {
      ++calls;
      good += result.ok();
    });
  }
  for (int i = 0; i < 500 && calls.load() < 500; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(calls.load(), 500);
  EXPECT_EQ(good.load(), 500);
}

TEST(CqlSessionTest, ContactPointsAreCheckedAtCreate) {
  auto options = [](std::vector<std::string> points) {
    SessionOptions o;
    o.contact_points = std::move(points);
    return o;
  };
  EXPECT_TRUE(Session::Create(options({"cassandra", "10.0.0.1:9043", "[::1]:9042", "::1"})).ok());
  EXPECT_FALSE(Session::Create(options({})).ok());
  EXPECT_FALSE(Session::Create(options({""})).ok());
  EXPECT_FALSE(Session::Create(options({"h:0"})).ok());
  EXPECT_FALSE(Session::Create(options({"h:70000"})).ok());
  EXPECT_FALSE(Session::Create(options({"h:x"})).ok());
  EXPECT_FALSE(Session::Create(options({"[::1"})).ok());
  EXPECT_FALSE(Session::Create(options({"h:"})).ok());
}

}  // namespace
}  // namespace wal::cql
