// The redis and memcached targets against real servers: a test environment
// starts redis-server and memcached on free loopback ports through
// scripts/test-servers/ and stops them when the binary ends.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <thread>
#include <vector>

#include "target/memcached/memcached_target.h"
#include "target/redis/redis_target.h"

namespace wal::target {
namespace {

namespace fs = std::filesystem;

int FreeLoopbackPort() {
  int probe = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(probe, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  ::getsockname(probe, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(probe);
  return ntohs(address.sin_port);
}

// One server started through its script ("redis" or "memcached").
class TestServer {
 public:
  TestServer(std::string kind, fs::path directory) : kind_(std::move(kind)), directory_(std::move(directory)) {}

  bool Start() { return Run("start"); }
  bool Stop() { return Run("stop"); }
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  bool Run(const std::string& command) const {
    std::string line = "bash '" WAL_SOURCE_DIR "/scripts/test-servers/" + kind_ + ".sh' " + command + " '" +
                       directory_.string() + "' " + std::to_string(port_);
    return std::system(line.c_str()) == 0;
  }

  std::string kind_;
  fs::path directory_;
  int port_ = FreeLoopbackPort();
};

class ServersEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    directory_ = fs::temp_directory_path() / ("wal_target_servers_" + std::to_string(::getpid()));
    fs::create_directories(directory_);
    redis = std::make_unique<TestServer>("redis", directory_);
    memcached = std::make_unique<TestServer>("memcached", directory_);
    ASSERT_TRUE(redis->Start()) << "could not start redis-server";
    ASSERT_TRUE(memcached->Start()) << "could not start memcached";
  }
  void TearDown() override {
    if (redis) {
      EXPECT_TRUE(redis->Stop());
    }
    if (memcached) {
      EXPECT_TRUE(memcached->Stop());
    }
    fs::remove_all(directory_);
  }

  std::unique_ptr<TestServer> redis;
  std::unique_ptr<TestServer> memcached;

 private:
  fs::path directory_;
};

ServersEnvironment* environment = nullptr;

v1::Mutation Put(std::string key, std::string value, int64_t ttl_seconds = 0) {
  v1::Mutation mutation;
  mutation.set_op(v1::Mutation::PUT);
  mutation.set_table("t");
  mutation.set_partition_key("p");
  mutation.set_key(std::move(key));
  mutation.set_value(std::move(value));
  if (ttl_seconds > 0) mutation.mutable_ttl()->set_seconds(ttl_seconds);
  return mutation;
}

v1::Mutation Delete(std::string key) {
  v1::Mutation mutation = Put(std::move(key), "");
  mutation.set_op(v1::Mutation::DELETE);
  return mutation;
}

// What the shared scenarios need from either target.
struct Subject {
  Target* target;
  std::function<Result<std::optional<std::string>>(const std::string& key)> get;
  TestServer* server;
};

std::optional<std::string> MustGet(const Subject& subject, const std::string& key) {
  auto value = subject.get(key);
  EXPECT_TRUE(value.ok()) << value.status().ToString();
  return value.ok() ? value.value() : std::nullopt;
}

void SetGetDeleteAndTtlExpiry(const Subject& subject, const std::string& prefix) {
  const DeliveryContext context{"ns", 1, 1, "", ""};
  ASSERT_TRUE(subject.target->Probe().ok());
  ASSERT_TRUE(subject.target->ApplyMutation(Put(prefix + "kept", "v1"), context).ok());
  ApplyResult put = subject.target->ApplyMutation(Put(prefix + "short", "v2", /*ttl_seconds=*/1), context);
  ASSERT_TRUE(put.ok()) << put.reason;
  EXPECT_EQ(MustGet(subject, prefix + "kept"), "v1");
  EXPECT_EQ(MustGet(subject, prefix + "short"), "v2");

  // Overwrite is a plain set.
  ASSERT_TRUE(subject.target->ApplyMutation(Put(prefix + "kept", "v1b"), context).ok());
  EXPECT_EQ(MustGet(subject, prefix + "kept"), "v1b");

  std::this_thread::sleep_for(std::chrono::milliseconds(2200));
  EXPECT_EQ(MustGet(subject, prefix + "short"), std::nullopt) << "the 1 s TTL expired";
  EXPECT_EQ(MustGet(subject, prefix + "kept"), "v1b");

  ASSERT_TRUE(subject.target->ApplyMutation(Delete(prefix + "kept"), context).ok());
  EXPECT_EQ(MustGet(subject, prefix + "kept"), std::nullopt);
  ApplyResult again = subject.target->ApplyMutation(Delete(prefix + "kept"), context);
  EXPECT_TRUE(again.ok()) << "deleting a missing key succeeds: " << again.reason;
}

void StopAndRestartServer(const Subject& subject, const std::string& prefix) {
  const DeliveryContext context{"ns", 1, 1, "", ""};
  // Warm the pool so that idle connections exist when the server goes away.
  ASSERT_TRUE(subject.target->ApplyMutation(Put(prefix + "before", "x"), context).ok());

  ASSERT_TRUE(subject.server->Stop());
  ApplyResult down = subject.target->ApplyMutation(Put(prefix + "during", "x"), context);
  EXPECT_EQ(down.outcome, ApplyOutcome::kRetryable) << down.reason;
  EXPECT_NE(down.reason.find(std::to_string(subject.server->port())), std::string::npos)
      << "the reason names the server: " << down.reason;
  EXPECT_EQ(subject.target->ApplyMutation(Delete(prefix + "during"), context).outcome, ApplyOutcome::kRetryable);
  Status probe = subject.target->Probe();
  EXPECT_EQ(probe.code(), StatusCode::kUnavailable) << probe.ToString();

  ASSERT_TRUE(subject.server->Start());
  // The first attempt after the restart already works: stale pooled
  // connections are replaced instead of failing the entry again.
  ApplyResult up = subject.target->ApplyMutation(Put(prefix + "after", "y"), context);
  EXPECT_TRUE(up.ok()) << up.reason;
  EXPECT_EQ(MustGet(subject, prefix + "after"), "y");
  EXPECT_TRUE(subject.target->Probe().ok());
}

void ConcurrentWriters(const Subject& subject, const std::string& prefix) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 150;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string key = prefix + std::to_string(t) + "-" + std::to_string(i);
        ApplyResult result = subject.target->ApplyMutation(Put(key, "v" + key), DeliveryContext{"ns", 1, 1, "", ""});
        if (!result.ok()) {
          ADD_FAILURE() << result.reason;
          ++failures;
        }
        if (i % 5 == 0) {
          if (!subject.target->ApplyMutation(Delete(key), DeliveryContext{"ns", 1, 1, "", ""}).ok()) ++failures;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  ASSERT_EQ(failures.load(), 0);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      std::string key = prefix + std::to_string(t) + "-" + std::to_string(i);
      auto expected = i % 5 == 0 ? std::nullopt : std::optional<std::string>("v" + key);
      ASSERT_EQ(MustGet(subject, key), expected) << key;
    }
  }
}

class RedisTargetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto created = RedisTarget::FromSettings(R"({"address": ")" + environment->redis->address() +
                                             R"(", "timeout": "500ms", "key_prefix": "wal-test:", "db": 3})");
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    target_ = std::move(created).value();
    subject_ = Subject{target_.get(),
                       [this](const std::string& key) { return target_->Get("t", "p", key); },
                       environment->redis.get()};
  }

  std::unique_ptr<RedisTarget> target_;
  Subject subject_;
};

TEST_F(RedisTargetTest, SetGetDeleteAndTtlExpiry) { SetGetDeleteAndTtlExpiry(subject_, "basic-"); }
TEST_F(RedisTargetTest, StopAndRestartServer) { StopAndRestartServer(subject_, "restart-"); }
TEST_F(RedisTargetTest, ConcurrentWriters) { ConcurrentWriters(subject_, "load-"); }

TEST_F(RedisTargetTest, KeysUseThePrefixAndLayout) {
  ASSERT_TRUE(target_->ApplyMutation(Put("layout", "v"), DeliveryContext{}).ok());
  auto plain = RedisTarget::FromSettings(R"({"address": ")" + environment->redis->address() + R"(", "db": 3})");
  ASSERT_TRUE(plain.ok());
  // [key_prefix][table:][partition_key:]key, read back without a prefix.
  auto value = plain.value()->Get("", "", "wal-test:t:p:layout");
  ASSERT_TRUE(value.ok()) << value.status().ToString();
  EXPECT_EQ(value.value(), "v");
}

TEST_F(RedisTargetTest, ServerErrorRepliesAreClassified) {
  EXPECT_TRUE(RedisTarget::IsRetryableErrorReply("LOADING Redis is loading the dataset in memory"));
  EXPECT_TRUE(RedisTarget::IsRetryableErrorReply("BUSY Redis is busy running a script"));
  EXPECT_TRUE(RedisTarget::IsRetryableErrorReply("READONLY You can't write against a read only replica."));
  EXPECT_FALSE(RedisTarget::IsRetryableErrorReply("WRONGTYPE Operation against a key holding the wrong kind"));
  EXPECT_FALSE(RedisTarget::IsRetryableErrorReply("ERR syntax error"));

  // A bad password is an environment problem the operator fixes: retryable.
  auto wrong_password = RedisTarget::FromSettings(R"({"address": ")" + environment->redis->address() +
                                                  R"(", "password": "not-the-password"})");
  ASSERT_TRUE(wrong_password.ok());
  ApplyResult result = wrong_password.value()->ApplyMutation(Put("k", "v"), DeliveryContext{});
  EXPECT_EQ(result.outcome, ApplyOutcome::kRetryable) << result.reason;
  EXPECT_EQ(result.reason.find("not-the-password"), std::string::npos) << "never echo the password";
  EXPECT_EQ(wrong_password.value()->Probe().code(), StatusCode::kUnavailable);
}

class MemcachedTargetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto created = MemcachedTarget::FromSettings(R"({"servers": [")" + environment->memcached->address() +
                                                 R"("], "timeout": "500ms", "key_prefix": "wal-test:"})");
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    target_ = std::move(created).value();
    subject_ = Subject{target_.get(),
                       [this](const std::string& key) { return target_->Get("t", "p", key); },
                       environment->memcached.get()};
  }

  std::unique_ptr<MemcachedTarget> target_;
  Subject subject_;
};

TEST_F(MemcachedTargetTest, SetGetDeleteAndTtlExpiry) { SetGetDeleteAndTtlExpiry(subject_, "basic-"); }
TEST_F(MemcachedTargetTest, StopAndRestartServer) { StopAndRestartServer(subject_, "restart-"); }
TEST_F(MemcachedTargetTest, ConcurrentWriters) { ConcurrentWriters(subject_, "load-"); }

TEST_F(MemcachedTargetTest, TheItemLimitMatchesTheServer) {
  // The largest value validation accepts is one the real server (-I 1m) stores.
  v1::Mutation largest = Put("big", "");
  const size_t key_bytes = std::string("wal-test:t:p:big").size();
  largest.set_value(std::string((1 << 20) - key_bytes - MemcachedTarget::kItemOverheadBytes, 'v'));
  v1::Payload payload;
  *payload.mutable_mutation() = largest;
  ASSERT_TRUE(target_->ValidatePayload(payload).ok());
  ApplyResult stored = target_->ApplyMutation(largest, DeliveryContext{});
  ASSERT_TRUE(stored.ok()) << stored.reason;
  EXPECT_EQ(MustGet(subject_, "big")->size(), largest.value().size());

  // One byte more is refused up front...
  largest.mutable_value()->push_back('v');
  *payload.mutable_mutation() = largest;
  Status refused = target_->ValidatePayload(payload);
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("payload.mutation.value"), std::string::npos) << refused.message();
  // ...and a value the server itself refuses (skipping our check via a
  // target that believes the limit is larger) is a permanent failure.
  auto lenient = MemcachedTarget::FromSettings(R"({"servers": [")" + environment->memcached->address() +
                                               R"("], "max_item_bytes": 4194304})");
  ASSERT_TRUE(lenient.ok());
  ApplyResult too_big = lenient.value()->ApplyMutation(Put("huge", std::string(2 << 20, 'v')), DeliveryContext{});
  EXPECT_EQ(too_big.outcome, ApplyOutcome::kPermanent) << too_big.reason;
  // And the connection it used is not left in a bad state for the next call.
  EXPECT_TRUE(lenient.value()->ApplyMutation(Put("small", "v"), DeliveryContext{}).ok());
}

}  // namespace
}  // namespace wal::target

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  wal::target::environment = new wal::target::ServersEnvironment();
  ::testing::AddGlobalTestEnvironment(wal::target::environment);  // gtest owns it
  return RUN_ALL_TESTS();
}
