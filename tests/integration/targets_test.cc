// Delivery through a real wald to real stores: SQLite (embedded), and Redis and
// memcached servers that the test starts on loopback.
#include <arpa/inet.h>
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "target/sqlite/sqlite_target.h"
#include "wal/v1/admin.grpc.pb.h"
#include "wal/v1/wal.grpc.pb.h"
#include "wald_process.h"

namespace wal::testing {
namespace {

using google::protobuf::util::TimeUtil;
using std::chrono::milliseconds;

// A store server started through scripts/test-servers/<kind>.sh and stopped at the end.
class StoreServer {
 public:
  StoreServer(std::string kind, std::string dir) : kind_(std::move(kind)), dir_(std::move(dir)), port_(FreePort()) {}
  ~StoreServer() { Stop(); }
  void Start() {
    auto started = RunCommand({"/bin/bash", Script(), "start", dir_, std::to_string(port_)});
    ASSERT_EQ(started.exit_code, 0) << started.output;
  }
  void Stop() { RunCommand({"/bin/bash", Script(), "stop", dir_, std::to_string(port_)}); }
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  std::string Script() const { return std::string(WAL_SOURCE_DIR) + "/scripts/test-servers/" + kind_ + ".sh"; }
  std::string kind_;
  std::string dir_;
  int port_;
};

// Sends one text-protocol command to a server on loopback and returns the reply.
std::string TextCommand(int port, const std::string& command) {
  int fd = ConnectLoopback(port);
  if (fd < 0) return "";
  (void)::write(fd, command.data(), command.size());
  timeval timeout{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  std::string reply;
  char buffer[4096];
  ssize_t n = ::read(fd, buffer, sizeof(buffer));
  if (n > 0) reply.assign(buffer, static_cast<size_t>(n));
  ::close(fd);
  return reply;
}

std::string MemcachedGet(int port, const std::string& key) {
  std::string reply = TextCommand(port, "get " + key + "\r\n");
  // VALUE <key> <flags> <bytes>\r\n<data>\r\nEND\r\n
  if (reply.rfind("VALUE", 0) != 0) return "";
  auto start = reply.find("\r\n") + 2;
  return reply.substr(start, reply.find("\r\nEND") - start);
}

std::string RedisGet(int port, const std::string& key) {
  std::string reply = TextCommand(port, "*2\r\n$3\r\nGET\r\n$" + std::to_string(key.size()) + "\r\n" + key + "\r\n");
  if (reply.rfind("$-1", 0) == 0 || reply.empty() || reply[0] != '$') return "";
  auto start = reply.find("\r\n") + 2;
  return reply.substr(start, reply.find("\r\n", start) - start);
}

bool Eventually(const std::function<bool()>& condition, milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(milliseconds(50));
  }
  return condition();
}

class TargetsTest : public ::testing::Test {
 protected:
  void SetUp() override { wald_ = std::make_unique<WaldProcess>(dir_.path()); }
  void Start() {
    wald_->Start();
    stub_ = v1::WriteAheadLog::NewStub(wald_->Channel());
  }

  grpc::Status Mutate(const std::string& name, v1::Mutation::Operation op, const std::string& key,
                      const std::string& value, int64_t delay_ms, int64_t ttl_ms, v1::WriteToLogResponse* response,
                      const std::string& table = "") {
    v1::WriteToLogRequest request;
    request.set_namespace_(name);
    auto* mutation = request.mutable_payload()->mutable_mutation();
    mutation->set_op(op);
    mutation->set_key(key);
    mutation->set_value(value);
    mutation->set_table(table);
    if (ttl_ms > 0) *mutation->mutable_ttl() = TimeUtil::MillisecondsToDuration(ttl_ms);
    if (delay_ms > 0) *request.mutable_lifecycle()->mutable_delay() = TimeUtil::MillisecondsToDuration(delay_ms);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return stub_->WriteToLog(&context, request, response);
  }

  TempDir dir_;
  std::unique_ptr<WaldProcess> wald_;
  std::unique_ptr<v1::WriteAheadLog::Stub> stub_;
};

TEST_F(TargetsTest, DelayedDeleteOnSqliteIsAppliedWhenDue) {
  const std::string db = dir_.path() + "/kv.db";
  wald_->WriteNamespaceFile("deletes", "name: deletes\nbackend: {type: local}\ntarget: {type: sqlite, path: " + db +
                                           "}\nconsumer: {poll_interval: 20ms}\n");
  Start();
  v1::WriteToLogResponse response;
  ASSERT_TRUE(Mutate("deletes", v1::Mutation::PUT, "user:42", "profile", 0, 0, &response, "users").ok());
  ASSERT_EQ(response.durable(), v1::TRUE);
  auto reader = target::SqliteTarget::FromSettings(R"({"path":")" + db + R"("})");
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  auto value_of = [&] {
    auto got = (*reader)->Get("users", "", "user:42");
    return got.ok() && got->has_value() ? **got : std::string();
  };
  ASSERT_TRUE(Eventually([&] { return value_of() == "profile"; }, milliseconds(5000)));

  const auto written_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(Mutate("deletes", v1::Mutation::DELETE, "user:42", "", 1500, 0, &response, "users").ok());
  ASSERT_EQ(response.durable(), v1::TRUE);
  std::this_thread::sleep_for(milliseconds(1000));
  EXPECT_EQ(value_of(), "profile") << "the delete is not due yet";
  ASSERT_TRUE(Eventually([&] { return value_of().empty(); }, milliseconds(5000)));
  EXPECT_GE(std::chrono::steady_clock::now() - written_at, milliseconds(1500));
}

TEST_F(TargetsTest, RedisPutWithTtlAndDelete) {
  StoreServer redis("redis", dir_.path() + "/redis");
  redis.Start();
  wald_->WriteNamespaceFile("cache", "name: cache\nbackend: {type: local}\ntarget: {type: redis, address: " +
                                         redis.address() + "}\nconsumer: {poll_interval: 20ms}\n");
  Start();
  v1::WriteToLogResponse response;
  ASSERT_TRUE(Mutate("cache", v1::Mutation::PUT, "session", "alive", 0, 1000, &response).ok());
  ASSERT_TRUE(Mutate("cache", v1::Mutation::PUT, "keep", "me", 0, 0, &response).ok());
  ASSERT_TRUE(Eventually([&] { return RedisGet(redis.port(), "session") == "alive"; }, milliseconds(5000)));
  ASSERT_TRUE(Eventually([&] { return RedisGet(redis.port(), "session").empty(); }, milliseconds(4000)))
      << "the 1 s TTL expires";
  ASSERT_TRUE(Mutate("cache", v1::Mutation::DELETE, "keep", "", 0, 0, &response).ok());
  EXPECT_TRUE(Eventually([&] { return RedisGet(redis.port(), "keep").empty(); }, milliseconds(5000)));
}

TEST_F(TargetsTest, MemcachedSetDeleteAndItemLimit) {
  StoreServer memcached("memcached", dir_.path() + "/memcached");
  memcached.Start();
  wald_->WriteNamespaceFile("evcache", "name: evcache\nbackend: {type: local}\ntarget: {type: memcached, servers: [" +
                                           memcached.address() +
                                           "]}\nconsumer: {poll_interval: 20ms}\nmax_payload_bytes: 4194304\n");
  Start();
  v1::WriteToLogResponse response;
  ASSERT_TRUE(Mutate("evcache", v1::Mutation::PUT, "movie:1", "stranger", 0, 0, &response).ok());
  ASSERT_EQ(response.durable(), v1::TRUE);
  ASSERT_TRUE(Eventually([&] { return MemcachedGet(memcached.port(), "movie:1") == "stranger"; }, milliseconds(5000)));
  ASSERT_TRUE(Mutate("evcache", v1::Mutation::DELETE, "movie:1", "", 300, 0, &response).ok());
  ASSERT_TRUE(Eventually([&] { return MemcachedGet(memcached.port(), "movie:1").empty(); }, milliseconds(5000)));

  // Over memcached's 1 MiB item limit: refused at the door, nothing written.
  grpc::Status too_big = Mutate("evcache", v1::Mutation::PUT, "big", std::string(1536 * 1024, 'x'), 0, 0, &response);
  EXPECT_EQ(too_big.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(too_big.error_message().find("item"), std::string::npos) << too_big.error_message();
  grpc::Status bad_key = Mutate("evcache", v1::Mutation::PUT, "has space", "v", 0, 0, &response);
  EXPECT_EQ(bad_key.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad_key.error_message();
}

TEST_F(TargetsTest, RedisDownAtConfigTimeIsAWarningAndEntriesWait) {
  StoreServer redis("redis", dir_.path() + "/redis");  // not started yet
  wald_->WriteNamespaceFile("late", "name: late\nbackend: {type: local}\ntarget: {type: redis, address: " +
                                        redis.address() +
                                        "}\nbackoff: {initial: 100ms, max: 300ms}\nmax_retries: 1000\n"
                                        "consumer: {poll_interval: 20ms}\n");
  Start();
  v1::WriteToLogResponse response;
  ASSERT_TRUE(Mutate("late", v1::Mutation::PUT, "k", "waited", 0, 0, &response).ok());
  EXPECT_EQ(response.durable(), v1::TRUE);
  std::this_thread::sleep_for(milliseconds(600));
  redis.Start();
  EXPECT_TRUE(Eventually([&] { return RedisGet(redis.port(), "k") == "waited"; }, milliseconds(5000)));
}

TEST_F(TargetsTest, BadInputChangesNothing) {
  const std::string db = dir_.path() + "/kv.db";
  wald_->WriteNamespaceFile("strict", "name: strict\nbackend: {type: local}\ntarget: {type: sqlite, path: " + db + "}\n");
  Start();
  v1::WriteToLogResponse response;
  EXPECT_EQ(Mutate("strict", v1::Mutation::DELETE, "", "", 0, 0, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Mutate("strict", v1::Mutation::PUT, "k", "v", 0, 0, &response, "bad table!").error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  v1::WriteToLogRequest request;
  request.set_namespace_("strict");
  request.mutable_payload()->set_opaque("x");
  request.mutable_lifecycle()->mutable_delay()->set_seconds(-1);
  grpc::ClientContext negative_context;
  EXPECT_EQ(stub_->WriteToLog(&negative_context, request, &response).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  request.clear_lifecycle();
  request.mutable_target()->set_type("mainframe");
  grpc::ClientContext unknown_context;
  EXPECT_EQ(stub_->WriteToLog(&unknown_context, request, &response).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  auto status = wald_->Walctl({"--json", "status", "strict"});
  EXPECT_NE(status.output.find("\"log_end\":\"0\""), std::string::npos) << status.output;
}

}  // namespace
}  // namespace wal::testing
