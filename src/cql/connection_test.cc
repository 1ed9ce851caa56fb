#include "cql/connection.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "cql/testing/fake_cql_server.h"
#include "cql/testing/hex.h"
#include "cql/wire.h"

namespace wal::cql {
namespace {

using testing::FakeCqlServer;
using testing::Hex;
using testing::Str;
using namespace std::chrono_literals;

// The [long string] a QUERY or PREPARE starts with.
std::string QueryText(const Frame& request) { return std::string(WireReader(request.body).LongString()); }

// A Set_keyspace RESULT naming `text`: lets a reply say which request it answers.
std::string EchoBody(std::string_view text) { return Hex("00000003") + Str(text); }

ConnectionOptions Options(const FakeCqlServer& server) {
  ConnectionOptions options;
  options.port = static_cast<uint16_t>(server.port());
  options.connect_timeout = 2s;
  options.request_timeout = 2s;
  return options;
}

// Answers the handshake and echoes every QUERY's text at once.
void Echo(FakeCqlServer::Peer& peer, const Frame& request) {
  if (FakeCqlServer::AnswerHandshake(peer, request)) return;
  peer.Reply(request.header.stream, Opcode::kResult, EchoBody(QueryText(request)));
}

TEST(CqlConnectionTest, HandshakeThenQueryGetsItsResult) {
  FakeCqlServer server(Echo);
  auto connection = Connection::Open(Options(server));
  ASSERT_TRUE(connection.ok()) << connection.status().ToString();
  Result<ResultMessage> result = (*connection)->Query("hello", {});
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->keyspace, "hello");
  auto supported = (*connection)->Options();
  ASSERT_TRUE(supported.ok()) << supported.status().ToString();
  EXPECT_EQ(supported->at("CQL_VERSION"), std::vector<std::string>{"3.4.7"});
}

TEST(CqlConnectionTest, ResponsesInReverseOrderReachTheirOwnRequests) {
  constexpr int kRequests = 64;
  std::mutex mu;
  std::vector<std::pair<int16_t, std::string>> held;
  FakeCqlServer server([&](FakeCqlServer::Peer& peer, const Frame& request) {
    if (FakeCqlServer::AnswerHandshake(peer, request)) return;
    std::lock_guard lock(mu);
    held.emplace_back(request.header.stream, QueryText(request));
    if (held.size() == kRequests) {  // everything is in flight at once: answer last first
      for (auto it = held.rbegin(); it != held.rend(); ++it) {
        peer.Reply(it->first, Opcode::kResult, EchoBody(it->second));
      }
    }
  });
  auto connection = Connection::Open(Options(server));
  ASSERT_TRUE(connection.ok()) << connection.status().ToString();
  std::vector<std::future<Result<ResultMessage>>> results;
  for (int i = 0; i < kRequests; ++i) {
    auto promise = std::make_shared<std::promise<Result<ResultMessage>>>();
    results.push_back(promise->get_future());
    (*connection)->Send(Opcode::kQuery, EncodeQuery("q" + std::to_string(i), {}).value(), 5s,
                        [promise](Result<Frame> frame) { promise->set_value(DecodeResultFrame(frame)); });
  }
  for (int i = 0; i < kRequests; ++i) {
    Result<ResultMessage> result = results[i].get();
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->keyspace, "q" + std::to_string(i));
  }
  EXPECT_EQ(server.connections_accepted(), 1);
}

TEST(CqlConnectionTest, ManyThreadsShareOneSocket) {
  FakeCqlServer server(Echo);
  auto connection = Connection::Open(Options(server));
  ASSERT_TRUE(connection.ok());
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const std::string text = std::to_string(t) + "/" + std::to_string(i);
        Result<ResultMessage> result = (*connection)->Query(text, {});
        if (result.ok() && result->keyspace == text) ++good;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(good.load(), 1600);
  EXPECT_EQ((*connection)->in_flight(), 0u);
  EXPECT_EQ(server.connections_accepted(), 1);
}

TEST(CqlConnectionTest, TimeoutFailsTheRequestAndItsLateAnswerIsNotMisdelivered) {
  std::mutex mu;
  std::optional<int16_t> slow_stream;
  FakeCqlServer::Peer* slow_peer = nullptr;
  FakeCqlServer server([&](FakeCqlServer::Peer& peer, const Frame& request) {
    if (FakeCqlServer::AnswerHandshake(peer, request)) return;
    if (QueryText(request) == "slow") {
      std::lock_guard lock(mu);
      slow_stream = request.header.stream;
      slow_peer = &peer;
      return;  // answered later, by the test
    }
    peer.Reply(request.header.stream, Opcode::kResult, EchoBody(QueryText(request)));
  });
  ConnectionOptions options = Options(server);
  options.max_in_flight = 8;
  auto connection = Connection::Open(options);
  ASSERT_TRUE(connection.ok());
  Result<ResultMessage> slow = (*connection)->Query("slow", {}, 100ms);
  EXPECT_EQ(slow.status().code(), StatusCode::kDeadlineExceeded) << slow.status().ToString();
  EXPECT_TRUE(IsRetryable(slow.status()));
  // While the slow stream is still reserved, other requests use other ids.
  for (int i = 0; i < 20; ++i) {
    Result<ResultMessage> result = (*connection)->Query("q" + std::to_string(i), {});
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->keyspace, "q" + std::to_string(i));
  }
  {
    std::lock_guard lock(mu);
    ASSERT_TRUE(slow_stream.has_value());
    slow_peer->Reply(*slow_stream, Opcode::kResult, EchoBody("late"));
  }
  for (int i = 0; i < 20; ++i) {
    Result<ResultMessage> result = (*connection)->Query("after" + std::to_string(i), {});
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->keyspace, "after" + std::to_string(i));  // never "late"
  }
  EXPECT_TRUE((*connection)->alive());
}

TEST(CqlConnectionTest, TimedOutRequestsHoldingHalfTheIdsResetTheConnection) {
  FakeCqlServer server([](FakeCqlServer::Peer& peer, const Frame& request) {
    FakeCqlServer::AnswerHandshake(peer, request);  // and never answers a query
  });
  ConnectionOptions options = Options(server);
  options.max_in_flight = 2;
  auto connection = Connection::Open(options);
  ASSERT_TRUE(connection.ok());
  EXPECT_EQ((*connection)->Query("x", {}, 50ms).status().code(), StatusCode::kDeadlineExceeded);
  for (int i = 0; i < 100 && (*connection)->alive(); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_FALSE((*connection)->alive());
  EXPECT_EQ((*connection)->Query("y", {}).status().code(), StatusCode::kUnavailable);
}

TEST(CqlConnectionTest, ResetByThePeerFailsOutstandingRequestsRetryably) {
  std::atomic<int> held{0};
  FakeCqlServer server([&](FakeCqlServer::Peer& peer, const Frame& request) {
    if (FakeCqlServer::AnswerHandshake(peer, request)) return;
    if (++held == 3) peer.Close();  // three requests in flight, then the node dies
  });
  auto connection = Connection::Open(Options(server));
  ASSERT_TRUE(connection.ok());
  std::vector<std::future<Result<Frame>>> results;
  for (int i = 0; i < 3; ++i) {
    auto promise = std::make_shared<std::promise<Result<Frame>>>();
    results.push_back(promise->get_future());
    (*connection)->Send(Opcode::kQuery, EncodeQuery("q", {}).value(), 5s,
                        [promise](Result<Frame> frame) { promise->set_value(std::move(frame)); });
  }
  for (auto& result : results) {
    Result<Frame> frame = result.get();
    EXPECT_EQ(frame.status().code(), StatusCode::kUnavailable) << frame.status().ToString();
  }
  EXPECT_FALSE((*connection)->alive());
  Result<ResultMessage> after = (*connection)->Query("q", {});
  EXPECT_EQ(after.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(IsRetryable(after.status()));
}

TEST(CqlConnectionTest, NoFreeStreamIdIsResourceExhaustedOnTheCallingThread) {
  FakeCqlServer server([](FakeCqlServer::Peer& peer, const Frame& request) {
    FakeCqlServer::AnswerHandshake(peer, request);
  });
  ConnectionOptions options = Options(server);
  options.max_in_flight = 2;
  auto connection = Connection::Open(options);
  ASSERT_TRUE(connection.ok());
  std::atomic<int> failed_by_timeout{0};
  for (int i = 0; i < 2; ++i) {
    (*connection)->Send(Opcode::kQuery, EncodeQuery("q", {}).value(), 10s,
                        [&](Result<Frame> frame) { failed_by_timeout += !frame.ok(); });
  }
  const auto caller = std::this_thread::get_id();
  std::thread::id ran_on;
  Status third;
  (*connection)->Send(Opcode::kQuery, EncodeQuery("q", {}).value(), 10s, [&](Result<Frame> frame) {
    ran_on = std::this_thread::get_id();
    third = frame.status();
  });
  EXPECT_EQ(third.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(ran_on, caller);
  (*connection)->Close();  // fails the two outstanding ones
  EXPECT_EQ(failed_by_timeout.load(), 2);
}

TEST(CqlConnectionTest, GarbageFromTheServerBreaksTheConnection) {
  FakeCqlServer server([](FakeCqlServer::Peer& peer, const Frame& request) {
    if (FakeCqlServer::AnswerHandshake(peer, request)) return;
    peer.SendRaw("HTTP/1.1 400 Bad Request\r\n\r\n");
  });
  auto connection = Connection::Open(Options(server));
  ASSERT_TRUE(connection.ok());
  Result<ResultMessage> result = (*connection)->Query("q", {});
  EXPECT_EQ(result.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(result.status().message().find("direction"), std::string::npos) << result.status().ToString();
  EXPECT_FALSE((*connection)->alive());
}

TEST(CqlConnectionTest, AResponseOnAStreamWithoutARequestBreaksTheConnection) {
  FakeCqlServer server([](FakeCqlServer::Peer& peer, const Frame& request) {
    if (FakeCqlServer::AnswerHandshake(peer, request)) return;
    peer.Reply(static_cast<int16_t>(request.header.stream + 100), Opcode::kResult, testing::VoidResultBody());
  });
  auto connection = Connection::Open(Options(server));
  ASSERT_TRUE(connection.ok());
  EXPECT_EQ((*connection)->Query("q", {}).status().code(), StatusCode::kUnavailable);
}

TEST(CqlConnectionTest, ServerEventsOnStreamMinusOneAreIgnored) {
  FakeCqlServer server([](FakeCqlServer::Peer& peer, const Frame& request) {
    if (FakeCqlServer::AnswerHandshake(peer, request)) return;
    peer.Reply(-1, Opcode::kEvent, Str("SCHEMA_CHANGE") + Str("CREATED") + Str("KEYSPACE") + Str("ks"));
    peer.Reply(request.header.stream, Opcode::kResult, EchoBody("ok"));
  });
  auto connection = Connection::Open(Options(server));
  ASSERT_TRUE(connection.ok());
  Result<ResultMessage> result = (*connection)->Query("q", {});
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->keyspace, "ok");
}

TEST(CqlConnectionTest, AnErrorResponseBecomesATypedStatus) {
  FakeCqlServer server([](FakeCqlServer::Peer& peer, const Frame& request) {
    if (FakeCqlServer::AnswerHandshake(peer, request)) return;
    peer.Reply(request.header.stream, Opcode::kError,
               Hex("00002200") + Str("Keyspace 'nope' does not exist"));
  });
  auto connection = Connection::Open(Options(server));
  ASSERT_TRUE(connection.ok());
  Result<ResultMessage> result = (*connection)->Query("SELECT * FROM nope.t", {});
  EXPECT_EQ(result.status().code(), StatusCode::kNotFound);
  EXPECT_NE(result.status().message().find("Keyspace 'nope' does not exist"), std::string::npos);
  EXPECT_TRUE((*connection)->alive());  // an ERROR is an answer, not a broken connection
}

// STARTUP -> AUTHENTICATE; AUTH_RESPONSE with "\0wal\0secret" -> AUTH_SUCCESS, else Bad credentials.
void PasswordServer(FakeCqlServer::Peer& peer, const Frame& request) {
  if (request.header.opcode == Opcode::kStartup) {
    peer.Reply(request.header.stream, Opcode::kAuthenticate, Str("org.apache.cassandra.auth.PasswordAuthenticator"));
  } else if (request.header.opcode == Opcode::kAuthResponse) {
    std::optional<std::string_view> token = WireReader(request.body).Bytes();
    if (token && *token == std::string_view("\0wal\0secret", 11)) {
      peer.Reply(request.header.stream, Opcode::kAuthSuccess, Hex("ffffffff"));
    } else {
      peer.Reply(request.header.stream, Opcode::kError,
                 Hex("00000100") + Str("Provided username wal and/or password are incorrect"));
    }
  } else {
    Echo(peer, request);
  }
}

TEST(CqlConnectionTest, SaslPlainAuthenticationWithGoodBadAndMissingCredentials) {
  FakeCqlServer server(PasswordServer);
  ConnectionOptions options = Options(server);
  options.credentials = Credentials{"wal", "secret"};
  auto good = Connection::Open(options);
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_TRUE((*good)->Query("q", {}).ok());

  options.credentials = Credentials{"wal", "wrong"};
  auto bad = Connection::Open(options);
  EXPECT_EQ(bad.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(bad.status().message().find("password are incorrect"), std::string::npos) << bad.status().ToString();
  EXPECT_EQ(bad.status().message().find("wrong"), std::string::npos);  // the password is never echoed

  options.credentials.reset();
  auto none = Connection::Open(options);
  EXPECT_EQ(none.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(none.status().message().find("PasswordAuthenticator"), std::string::npos);
}

TEST(CqlConnectionTest, ConfiguredKeyspaceIsUsedAtConnect) {
  std::mutex mu;
  std::vector<std::string> queries;
  FakeCqlServer server([&](FakeCqlServer::Peer& peer, const Frame& request) {
    if (FakeCqlServer::AnswerHandshake(peer, request)) return;
    std::lock_guard lock(mu);
    queries.push_back(QueryText(request));
    peer.Reply(request.header.stream, Opcode::kResult, EchoBody("wal"));
  });
  ConnectionOptions options = Options(server);
  options.keyspace = "wal_ks";
  ASSERT_TRUE(Connection::Open(options).ok());
  std::lock_guard lock(mu);
  EXPECT_EQ(queries, std::vector<std::string>{"USE \"wal_ks\""});
  options.keyspace = "x; DROP";
  EXPECT_EQ(Connection::Open(options).status().code(), StatusCode::kInvalidArgument);
}

TEST(CqlConnectionTest, ConnectToAPortNobodyListensOnIsUnavailable) {
  int port;
  {
    FakeCqlServer server(Echo);
    port = server.port();
  }
  ConnectionOptions options;
  options.port = static_cast<uint16_t>(port);
  auto connection = Connection::Open(options);
  EXPECT_EQ(connection.status().code(), StatusCode::kUnavailable) << connection.status().ToString();
}

TEST(CqlConnectionTest, ClosingFromACallbackDoesNotDeadlock) {
  FakeCqlServer server(Echo);
  auto connection = Connection::Open(Options(server));
  ASSERT_TRUE(connection.ok());
  std::shared_ptr<Connection> owned = *connection;
  connection = Status(StatusCode::kInternal, "moved");
  std::promise<void> done;
  Connection* raw = owned.get();
  auto holder = std::make_shared<std::shared_ptr<Connection>>(std::move(owned));
  raw->Send(Opcode::kQuery, EncodeQuery("q", {}).value(), 2s, [holder, &done](Result<Frame>) {
    holder->reset();  // the last reference goes away on the I/O thread
    done.set_value();
  });
  holder.reset();
  EXPECT_EQ(done.get_future().wait_for(5s), std::future_status::ready);
}

}  // namespace
}  // namespace wal::cql
