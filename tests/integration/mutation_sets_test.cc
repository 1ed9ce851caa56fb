// Mutation sets end to end (docs/mutation-sets.md): a real wald on the
// embedded log applying sets to a real PostgreSQL, Redis and SQLite, started
// on free loopback ports through scripts/test-servers/.
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "target/postgres/postgres_target.h"
#include "target/redis/redis_target.h"
#include "target/sqlite/sqlite_target.h"
#include "wal/v1/admin.grpc.pb.h"
#include "wal/v1/wal.grpc.pb.h"
#include "wald_process.h"

namespace wal::testing {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

std::string Script(const std::string& name) { return std::string(WAL_SOURCE_DIR) + "/scripts/test-servers/" + name; }

// One PostgreSQL for the whole binary (it takes seconds to start).
class Servers : public ::testing::Environment {
 public:
  void SetUp() override {
    dir = std::make_unique<TempDir>();
    pg_port = FreePort();
    auto started = RunCommand({"/bin/bash", Script("postgres.sh"), "start", dir->path(), std::to_string(pg_port)});
    ASSERT_EQ(started.exit_code, 0) << started.output;
  }
  void TearDown() override {
    RunCommand({"/bin/bash", Script("postgres.sh"), "stop", dir->path(), std::to_string(pg_port)});
    dir.reset();
  }
  static std::string Dsn() { return "host=127.0.0.1 port=" + std::to_string(pg_port) + " dbname=wal user=wal"; }
  static inline std::unique_ptr<TempDir> dir;
  static inline int pg_port = 0;
};
const auto* const kServers = ::testing::AddGlobalTestEnvironment(new Servers);

v1::Mutation Put(uint64_t sequence, const std::string& target, const std::string& table, const std::string& partition,
                 const std::string& key, const std::string& value) {
  v1::Mutation mutation;
  mutation.set_op(v1::Mutation::PUT);
  mutation.set_sequence(sequence);
  mutation.set_target(target);
  mutation.set_table(table);
  mutation.set_partition_key(partition);
  mutation.set_key(key);
  mutation.set_value(value);
  return mutation;
}

class MutationSetsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    redis_port_ = FreePort();
    schema_ = "t" + std::to_string(std::random_device{}() % 1000000);
  }
  void TearDown() override {
    if (wald_) wald_->Kill();
    if (redis_started_) RunCommand({"/bin/bash", Script("redis.sh"), "stop", dir_.path(), std::to_string(redis_port_)});
  }

  void StartRedis() {
    auto started = RunCommand({"/bin/bash", Script("redis.sh"), "start", dir_.path(), std::to_string(redis_port_)});
    ASSERT_EQ(started.exit_code, 0) << started.output;
    redis_started_ = true;
  }
  void StopRedis() { RunCommand({"/bin/bash", Script("redis.sh"), "stop", dir_.path(), std::to_string(redis_port_)}); }

  // Default target postgres (its own schema per test), `cache` = redis, `local` = sqlite.
  std::string NamespaceYaml(const std::string& storage = "{type: local}", const std::string& extra = "") {
    return "name: kv\n"
           "backend: {type: local}\n"
           "target: {type: postgres, dsn: \"" + Servers::Dsn() + "\", schema: " + schema_ + ", table: items}\n"
           "targets:\n"
           "  cache: {type: redis, address: \"127.0.0.1:" + std::to_string(redis_port_) + "\", timeout: 500ms}\n"
           "  local: {type: sqlite, path: \"" + dir_.path() + "/local.db\"}\n"
           "durable_storage: " + storage + "\n"
           "backoff: {initial: 100ms, multiplier: 2.0, max: 400ms, jitter: none}\n"
           "max_retries: 1000\n"
           "consumer: {concurrency: 4, poll_interval: 20ms}\n" + extra;
  }

  void StartWald(const std::string& yaml) {
    wald_ = std::make_unique<WaldProcess>(dir_.path() + "/wald");
    wald_->WriteNamespaceFile("kv", yaml);
    wald_->Start();
    Connect();
  }
  void Connect() {
    stub_ = v1::WriteAheadLog::NewStub(wald_->Channel());
    admin_ = v1::Admin::NewStub(wald_->Channel());
  }

  grpc::Status Write(const std::vector<v1::Mutation>& mutations, v1::WriteToLogResponse* response,
                     v1::WriteAheadLog::Stub* stub = nullptr) {
    v1::WriteToLogRequest request;
    request.set_namespace_("kv");
    request.mutable_payload()->mutable_mutation_set();  // an empty set is still a set
    for (const auto& mutation : mutations) *request.mutable_payload()->mutable_mutation_set()->add_mutations() = mutation;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return (stub != nullptr ? stub : stub_.get())->WriteToLog(&context, request, response);
  }
  void WriteDurably(const std::vector<v1::Mutation>& mutations, v1::WriteAheadLog::Stub* stub = nullptr) {
    v1::WriteToLogResponse response;
    grpc::Status status = Write(mutations, &response, stub);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_EQ(response.durable(), v1::TRUE) << response.message();
  }

  v1::NamespaceStatus Status() {
    grpc::ClientContext context;
    v1::GetStatusRequest request;
    request.set_namespace_("kv");
    v1::GetStatusResponse response;
    EXPECT_TRUE(admin_->GetStatus(&context, request, &response).ok());
    return response.namespaces_size() > 0 ? response.namespaces(0) : v1::NamespaceStatus();
  }
  bool WaitDrained(milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    v1::NamespaceStatus last;
    while (Clock::now() < deadline) {
      last = Status();
      if (last.pending() == 0) return true;
      std::this_thread::sleep_for(milliseconds(50));
    }
    std::cout << "last status: " << last.ShortDebugString() << "\n";
    return false;
  }

  std::unique_ptr<target::PostgresTarget> Postgres() {
    auto created = target::PostgresTarget::FromSettings(R"({"dsn": ")" + Servers::Dsn() + R"(", "schema": ")" +
                                                        schema_ + R"(", "create_tables": false})");
    EXPECT_TRUE(created.ok());
    return std::move(created).value();
  }
  std::optional<std::string> PgValue(const std::string& table, const std::string& partition, const std::string& key) {
    auto value = Postgres()->Get(table, partition, key);
    EXPECT_TRUE(value.ok()) << value.status().ToString();
    return value.ok() ? *value : std::nullopt;
  }
  std::optional<std::string> RedisValue(const std::string& table, const std::string& partition, const std::string& key) {
    auto redis = target::RedisTarget::FromSettings(R"({"address": "127.0.0.1:)" + std::to_string(redis_port_) + R"("})");
    auto value = (*redis)->Get(table, partition, key);
    EXPECT_TRUE(value.ok()) << value.status().ToString();
    return value.ok() ? *value : std::nullopt;
  }
  std::optional<std::string> SqliteValue(const std::string& table, const std::string& partition, const std::string& key) {
    auto sqlite = target::SqliteTarget::FromSettings(R"({"path": ")" + dir_.path() + R"(/local.db"})");
    auto value = (*sqlite)->Get(table, partition, key);
    return value.ok() ? *value : std::nullopt;
  }

  TempDir dir_;
  int redis_port_ = 0;
  bool redis_started_ = false;
  std::string schema_;
  std::unique_ptr<WaldProcess> wald_;
  std::unique_ptr<v1::WriteAheadLog::Stub> stub_;
  std::unique_ptr<v1::Admin::Stub> admin_;
};

TEST_F(MutationSetsTest, ASetSpansThreeTablesInTwoStores) {
  StartRedis();
  for (const std::string& storage : std::vector<std::string>{"{type: local}", "{type: postgres, dsn: \"" + Servers::Dsn() + "\"}"}) {
    SCOPED_TRACE(storage);
    StartWald(NamespaceYaml(storage));
    const std::string order = "order-" + std::to_string(storage.size());
    WriteDurably({Put(3, "", "order_items", order, "line-1", "2 x widget"),
                  Put(1, "", "orders", order, "header", "total=20"),
                  Put(2, "cache", "orders", order, "header", "cached total=20"),
                  Put(4, "", "order_items", order, "line-2", "1 x gadget")});
    ASSERT_TRUE(WaitDrained(milliseconds(10000)));
    EXPECT_EQ(PgValue("orders", order, "header"), "total=20");
    EXPECT_EQ(PgValue("order_items", order, "line-1"), "2 x widget");
    EXPECT_EQ(PgValue("order_items", order, "line-2"), "1 x gadget");
    EXPECT_EQ(RedisValue("orders", order, "header"), "cached total=20");
    EXPECT_EQ(Status().dead_letters(), 0u);
    // The log holds only the marker: the values live in durable storage.
    auto read = wald_->Walctl({"--json", "log", "read", "kv"});
    EXPECT_EQ(read.output.find("widget"), std::string::npos) << read.output;
    EXPECT_NE(read.output.find("set_ref"), std::string::npos) << read.output;
    wald_->Stop();
    wald_.reset();
  }
}

TEST_F(MutationSetsTest, BadSetsAreRefusedAndNothingIsStored) {
  StartWald(NamespaceYaml("{type: local, max_set_bytes: 100000, max_mutations: 50}"));
  v1::WriteToLogResponse response;
  auto expect_refused = [&](const std::vector<v1::Mutation>& mutations, const std::string& words) {
    grpc::Status status = Write(mutations, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << words;
    EXPECT_NE(status.error_message().find(words), std::string::npos) << status.error_message();
  };
  expect_refused({}, "at least one mutation");
  expect_refused({Put(1, "", "t", "p", "a", "x"), Put(1, "", "t", "p", "b", "y")}, "is used twice");
  expect_refused({Put(1, "nosuch", "t", "p", "a", "x")}, "'nosuch' is not a target");
  expect_refused({Put(1, "", "t", "p", "a", std::string(200000, 'x'))}, "max_set_bytes");
  std::vector<v1::Mutation> many;
  for (int i = 0; i < 51; ++i) many.push_back(Put(i, "", "t", "p", "k" + std::to_string(i), ""));
  expect_refused(many, "max_mutations");
  expect_refused({Put(1, "", "bad-table", "p", "a", "x")}, "table");
  EXPECT_EQ(Status().log_end(), 0u) << "no marker";
  EXPECT_FALSE(std::filesystem::exists(wald_->data_dir() + "/namespaces/kv/sets")) << "no set stored";
}

TEST_F(MutationSetsTest, ATargetDownInTheMiddleOfASetStillCompletesInOrder) {
  // Redis is down when the set arrives: the first mutation lands, the second
  // waits, and the third (after it in sequence order) must not land before it.
  StartWald(NamespaceYaml());
  WriteDurably({Put(1, "", "stock", "sku-1", "count", "9"), Put(2, "cache", "stock", "sku-1", "count", "9"),
                Put(3, "local", "audit", "sku-1", "last", "decrement")});
  std::this_thread::sleep_for(milliseconds(1200));
  EXPECT_EQ(PgValue("stock", "sku-1", "count"), "9");
  EXPECT_EQ(SqliteValue("audit", "sku-1", "last"), std::nullopt) << "sequence 3 waits for sequence 2";
  EXPECT_EQ(Status().pending(), 1u);
  StartRedis();
  ASSERT_TRUE(WaitDrained(milliseconds(10000)));
  EXPECT_EQ(RedisValue("stock", "sku-1", "count"), "9");
  EXPECT_EQ(SqliteValue("audit", "sku-1", "last"), "decrement");
  EXPECT_EQ(Status().dead_letters(), 0u);
}

TEST_F(MutationSetsTest, KillNineInTheMiddleOfASetCompletesWithoutReordering) {
  StartRedis();
  StartWald(NamespaceYaml());
  // A long set to SQLite (an fsync per put): each of 10 keys is put 60 times
  // with rising values; then a second set, acknowledged after the first,
  // overwrites key 0 and must win.
  std::vector<v1::Mutation> first;
  for (int i = 0; i < 600; ++i) {
    first.push_back(Put(i, "local", "counters", "c", "key-" + std::to_string(i % 10), "v" + std::to_string(i)));
  }
  WriteDurably(first);
  WriteDurably({Put(1, "local", "counters", "c", "key-0", "second-set")});
  std::this_thread::sleep_for(milliseconds(600));
  wald_->Kill();
  const auto partial = SqliteValue("counters", "c", "key-9");
  wald_->Start();
  Connect();
  ASSERT_TRUE(WaitDrained(milliseconds(60000)));
  EXPECT_EQ(SqliteValue("counters", "c", "key-0"), "second-set") << "the later set is applied after the earlier";
  for (int key = 1; key < 10; ++key) {
    EXPECT_EQ(SqliteValue("counters", "c", "key-" + std::to_string(key)), "v" + std::to_string(590 + key));
  }
  std::cout << "key-9 at the kill: " << partial.value_or("(none)") << "\n";
  EXPECT_EQ(Status().dead_letters(), 0u);
}

TEST_F(MutationSetsTest, ATwentyMiBValueIsChunkedAndReassembledByteForByte) {
  StartWald(NamespaceYaml("{type: local, chunk_bytes: 1048576}"));
  std::string value(20 << 20, '\0');
  std::mt19937_64 random(42);
  for (size_t i = 0; i + 8 <= value.size(); i += 8) {
    uint64_t word = random();
    std::memcpy(&value[i], &word, 8);
  }
  WriteDurably({Put(1, "", "blobs", "big", "blob", value), Put(2, "", "blobs", "big", "meta", "20MiB")});
  auto read = wald_->Walctl({"--json", "log", "read", "kv"});
  EXPECT_NE(read.output.find("\"chunks\":21"), std::string::npos) << read.output.substr(0, 2000);
  ASSERT_TRUE(WaitDrained(milliseconds(30000)));
  auto stored = PgValue("blobs", "big", "blob");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->size(), value.size());
  EXPECT_TRUE(*stored == value) << "reassembled byte for byte";
}

TEST_F(MutationSetsTest, PerKeyOrderHoldsAcrossManyConcurrentSets) {
  StartRedis();
  StartWald(NamespaceYaml());
  // 6 writers, each sending 30 sets one after another. Each set puts the
  // writer's own key (so its last set must win) and a shared key, and every
  // 5th set is slow (40 SQLite puts) to tempt the 4 consumer workers into
  // overtaking it.
  constexpr int kWriters = 6;
  constexpr int kSets = 30;
  struct Acked {
    int writer;
    int index;
    Clock::time_point sent;
    Clock::time_point acknowledged;
  };
  std::mutex mutex;
  std::vector<Acked> acked;
  std::vector<std::thread> writers;
  for (int writer = 0; writer < kWriters; ++writer) {
    writers.emplace_back([&, writer] {
      auto stub = v1::WriteAheadLog::NewStub(wald_->Channel());
      for (int index = 0; index < kSets; ++index) {
        const std::string value = "w" + std::to_string(writer) + "-" + std::to_string(index);
        std::vector<v1::Mutation> set;
        if (index % 5 == 0) {
          for (int i = 0; i < 40; ++i) set.push_back(Put(i, "local", "slow", "w", "filler-" + std::to_string(i), value));
        }
        set.push_back(Put(100, "local", "own", "w", "writer-" + std::to_string(writer), value));
        set.push_back(Put(101, "cache", "shared", "all", "key-" + std::to_string(index % 3), value));
        set.push_back(Put(102, "", "shared", "all", "key-" + std::to_string(index % 3), value));
        const auto sent = Clock::now();
        v1::WriteToLogResponse response;
        grpc::ClientContext context;
        v1::WriteToLogRequest request;
        request.set_namespace_("kv");
        for (const auto& mutation : set) *request.mutable_payload()->mutable_mutation_set()->add_mutations() = mutation;
        if (!stub->WriteToLog(&context, request, &response).ok() || response.durable() != v1::TRUE) {
          ADD_FAILURE() << "write failed: " << response.message();
          return;
        }
        std::lock_guard lock(mutex);
        acked.push_back(Acked{writer, index, sent, Clock::now()});
      }
    });
  }
  for (auto& thread : writers) thread.join();
  ASSERT_EQ(acked.size(), static_cast<size_t>(kWriters * kSets));
  ASSERT_TRUE(WaitDrained(milliseconds(60000)));
  for (int writer = 0; writer < kWriters; ++writer) {
    EXPECT_EQ(SqliteValue("own", "w", "writer-" + std::to_string(writer)),
              "w" + std::to_string(writer) + "-" + std::to_string(kSets - 1))
        << "a writer's sets are applied in the order they were acknowledged";
  }
  // A shared key ends with a set that no other set writing it followed: one
  // that was not acknowledged before another writer of the key was sent.
  for (int key = 0; key < 3; ++key) {
    auto final_pg = PgValue("shared", "all", "key-" + std::to_string(key));
    auto final_redis = RedisValue("shared", "all", "key-" + std::to_string(key));
    ASSERT_TRUE(final_pg.has_value());
    EXPECT_EQ(final_pg, final_redis) << "both stores end with the same set's value";
    const Acked* winner = nullptr;
    for (const auto& set : acked) {
      if ("w" + std::to_string(set.writer) + "-" + std::to_string(set.index) == *final_pg) winner = &set;
    }
    ASSERT_NE(winner, nullptr);
    for (const auto& set : acked) {
      if (set.index % 3 != key || &set == winner) continue;
      EXPECT_FALSE(set.sent > winner->acknowledged)
          << "set w" << set.writer << "-" << set.index << " was sent after the winner was acknowledged";
    }
  }
  EXPECT_EQ(Status().dead_letters(), 0u);
}

}  // namespace
}  // namespace wal::testing
