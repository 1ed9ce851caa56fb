#include "target/sqlite/sqlite_target.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <thread>
#include <vector>

namespace wal::target {
namespace {

namespace fs = std::filesystem;

class SqliteTargetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = fs::temp_directory_path() /
                 ("wal_sqlite_target_" + std::to_string(::getpid()) + "_" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(directory_);
  }
  void TearDown() override { fs::remove_all(directory_); }

  std::unique_ptr<SqliteTarget> MakeTarget(std::string table_prefix = "") {
    SqliteTarget::Options options;
    options.path = (directory_ / "nested" / "dirs" / "kv.db").string();
    options.table_prefix = std::move(table_prefix);
    options.now_millis = [this] { return now_millis_.load(); };
    auto target = SqliteTarget::Create(std::move(options));
    EXPECT_TRUE(target.ok()) << target.status().ToString();
    return std::move(target).value();
  }

  static v1::Mutation Put(std::string table, std::string partition_key, std::string key, std::string value,
                          int64_t ttl_ms = 0) {
    v1::Mutation mutation;
    mutation.set_op(v1::Mutation::PUT);
    mutation.set_table(std::move(table));
    mutation.set_partition_key(std::move(partition_key));
    mutation.set_key(std::move(key));
    mutation.set_value(std::move(value));
    if (ttl_ms > 0) {
      mutation.mutable_ttl()->set_seconds(ttl_ms / 1000);
      mutation.mutable_ttl()->set_nanos(static_cast<int32_t>(ttl_ms % 1000) * 1'000'000);
    }
    return mutation;
  }

  static v1::Mutation Delete(std::string table, std::string partition_key, std::string key) {
    v1::Mutation mutation;
    mutation.set_op(v1::Mutation::DELETE);
    mutation.set_table(std::move(table));
    mutation.set_partition_key(std::move(partition_key));
    mutation.set_key(std::move(key));
    return mutation;
  }

  static std::optional<std::string> MustGet(SqliteTarget& target, std::string_view table, std::string_view partition,
                                            std::string_view key) {
    auto value = target.Get(table, partition, key);
    EXPECT_TRUE(value.ok()) << value.status().ToString();
    return value.ok() ? value.value() : std::nullopt;
  }

  fs::path directory_;
  std::atomic<int64_t> now_millis_{1'700'000'000'000};
  DeliveryContext context_{"orders", 1, 1, "", ""};
};

TEST_F(SqliteTargetTest, PutOverwriteAndDelete) {
  auto target = MakeTarget();
  ASSERT_TRUE(target->Probe().ok());
  EXPECT_TRUE(fs::exists(directory_ / "nested" / "dirs" / "kv.db")) << "parent directories are created";

  ASSERT_TRUE(target->ApplyMutation(Put("orders", "p1", "k1", "v1"), context_).ok());
  EXPECT_EQ(MustGet(*target, "orders", "p1", "k1"), "v1");
  ASSERT_TRUE(target->ApplyMutation(Put("orders", "p1", "k1", "v2"), context_).ok());
  EXPECT_EQ(MustGet(*target, "orders", "p1", "k1"), "v2");
  // A repeated put (an at-least-once duplicate) is harmless.
  ASSERT_TRUE(target->ApplyMutation(Put("orders", "p1", "k1", "v2"), context_).ok());
  EXPECT_EQ(MustGet(*target, "orders", "p1", "k1"), "v2");
  // Same key in another partition is another row.
  EXPECT_EQ(MustGet(*target, "orders", "p2", "k1"), std::nullopt);

  ASSERT_TRUE(target->ApplyMutation(Delete("orders", "p1", "k1"), context_).ok());
  EXPECT_EQ(MustGet(*target, "orders", "p1", "k1"), std::nullopt);
  // Deleting a missing key (and from a table never written) succeeds.
  EXPECT_TRUE(target->ApplyMutation(Delete("orders", "p1", "k1"), context_).ok());
  EXPECT_TRUE(target->ApplyMutation(Delete("never_written", "p", "k"), context_).ok());
  EXPECT_EQ(MustGet(*target, "no_such_table", "p", "k"), std::nullopt);
}

TEST_F(SqliteTargetTest, BinaryKeysEmptyValuesAndTheDefaultTable) {
  auto target = MakeTarget();
  std::string binary_key("\0\x01\xff", 3);
  std::string binary_value("a\0b", 3);
  ASSERT_TRUE(target->ApplyMutation(Put("", "", binary_key, binary_value), context_).ok());
  EXPECT_EQ(MustGet(*target, "kv", "", binary_key), binary_value);
  EXPECT_EQ(MustGet(*target, "", "", binary_key), binary_value);

  ASSERT_TRUE(target->ApplyMutation(Put("", "p", "", ""), context_).ok());
  EXPECT_EQ(MustGet(*target, "", "p", ""), std::string());
}

TEST_F(SqliteTargetTest, TtlExpiresRowsAndExpiredRowsArePurged) {
  auto target = MakeTarget();
  ASSERT_TRUE(target->ApplyMutation(Put("sessions", "p", "short", "x", 1500), context_).ok());
  ASSERT_TRUE(target->ApplyMutation(Put("sessions", "p", "forever", "y"), context_).ok());
  now_millis_ += 1499;
  EXPECT_EQ(MustGet(*target, "sessions", "p", "short"), "x");
  now_millis_ += 1;
  EXPECT_EQ(MustGet(*target, "sessions", "p", "short"), std::nullopt) << "expires exactly at put time + ttl";
  EXPECT_EQ(MustGet(*target, "sessions", "p", "forever"), "y");

  // A put over an expired row revives it with the new TTL.
  ASSERT_TRUE(target->ApplyMutation(Put("sessions", "p", "short", "z", 1000), context_).ok());
  EXPECT_EQ(MustGet(*target, "sessions", "p", "short"), "z");

  // Rows nobody reads are swept from the file after the purge interval.
  ASSERT_TRUE(target->ApplyMutation(Put("sessions", "p", "unread", "u", 10), context_).ok());
  now_millis_ += 120'000;
  ASSERT_TRUE(target->ApplyMutation(Put("sessions", "p", "trigger", "t"), context_).ok());
  target.reset();  // close before reading the file directly

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((directory_ / "nested" / "dirs" / "kv.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM sessions WHERE expires_at IS NOT NULL", -1, &statement,
                               nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(statement), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(statement, 0), 0);
  sqlite3_finalize(statement);
  sqlite3_close(db);
}

TEST_F(SqliteTargetTest, InvalidTableNamesArePermanent) {
  auto target = MakeTarget();
  for (const std::string& bad :
       std::vector<std::string>{"1abc", "drop table;", "a-b", std::string(65, 'a'), "opaque", "naïve"}) {
    v1::Payload payload;
    *payload.mutable_mutation() = Put(bad, "p", "k", "v");
    Status status = target->ValidatePayload(payload);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(status.message().find("payload.mutation.table"), std::string::npos) << status.message();
    ApplyResult result = target->ApplyMutation(payload.mutation(), context_);
    EXPECT_EQ(result.outcome, ApplyOutcome::kPermanent) << bad;
  }
  v1::Payload good;
  *good.mutable_mutation() = Put(std::string(64, 'a'), "p", "k", "v");
  EXPECT_TRUE(target->ValidatePayload(good).ok());
  *good.mutable_mutation() = Put("_Orders_2", "p", "k", "v");
  EXPECT_TRUE(target->ValidatePayload(good).ok());

  // Sets are checked per mutation and the error names the index.
  v1::Payload set;
  *set.mutable_mutation_set()->add_mutations() = Put("ok", "p", "k", "v");
  *set.mutable_mutation_set()->add_mutations() = Put("not ok", "p", "k", "v");
  Status status = target->ValidatePayload(set);
  EXPECT_NE(status.message().find("payload.mutation_set.mutations[1].table"), std::string::npos) << status.message();

  v1::Mutation unspecified = Put("t", "p", "k", "v");
  unspecified.set_op(v1::Mutation::OPERATION_UNSPECIFIED);
  EXPECT_EQ(target->ApplyMutation(unspecified, context_).outcome, ApplyOutcome::kPermanent);
}

TEST_F(SqliteTargetTest, ATableWithAForeignSchemaIsAPermanentFailure) {
  auto target = MakeTarget();
  ASSERT_TRUE(target->Probe().ok());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((directory_ / "nested" / "dirs" / "kv.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE legacy (id INTEGER PRIMARY KEY)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  ApplyResult result = target->ApplyMutation(Put("legacy", "p", "k", "v"), context_);
  EXPECT_EQ(result.outcome, ApplyOutcome::kPermanent) << result.reason;
  EXPECT_NE(result.reason.find("sqlite"), std::string::npos);
}

TEST_F(SqliteTargetTest, OpaquePayloadsAreStoredOncePerEntry) {
  auto target = MakeTarget("ns_");
  DeliveryContext first{"orders", 42, 1, "", ""};
  ASSERT_TRUE(target->DeliverOpaque("payload-bytes", first).ok());
  DeliveryContext redelivery{"orders", 42, 2, "", ""};
  ASSERT_TRUE(target->DeliverOpaque("payload-bytes", redelivery).ok());
  EXPECT_EQ(target->GetOpaque("orders", 42).value(), "payload-bytes");
  EXPECT_EQ(target->GetOpaque("orders", 43).value(), std::nullopt);
  EXPECT_EQ(target->GetOpaque("other", 42).value(), std::nullopt) << "entry ids are per namespace";

  v1::Payload opaque;
  opaque.set_opaque("x");
  EXPECT_TRUE(target->ValidatePayload(opaque).ok());
}

TEST_F(SqliteTargetTest, ConcurrentWritersFromFourThreads) {
  auto target = MakeTarget();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 200;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string key = std::to_string(t) + "-" + std::to_string(i);
        // Interleave puts, overwrites, deletes and reads on shared and own keys.
        if (!target->ApplyMutation(Put("load", "p", key, "v" + key), context_).ok()) ++failures;
        if (!target->ApplyMutation(Put("load", "shared", "hot", key), context_).ok()) ++failures;
        if (i % 10 == 0 && !target->ApplyMutation(Delete("load", "p", key), context_).ok()) ++failures;
        if (!target->Get("load", "shared", "hot").ok()) ++failures;
        if (i % 50 == 0 && !target->DeliverOpaque("o", DeliveryContext{"ns", static_cast<uint64_t>(i), 1, "", ""}).ok()) {
          ++failures;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      std::string key = std::to_string(t) + "-" + std::to_string(i);
      auto expected = i % 10 == 0 ? std::nullopt : std::optional<std::string>("v" + key);
      ASSERT_EQ(MustGet(*target, "load", "p", key), expected) << key;
    }
  }
  EXPECT_TRUE(MustGet(*target, "load", "shared", "hot").has_value());
}

TEST_F(SqliteTargetTest, AnUnopenableFileIsRetryableAndProbeSaysUnavailable) {
  fs::create_directories(directory_);
  // A regular file where a parent directory should be: opening can never work
  // until someone fixes the disk, which is an operator's job, not the input's.
  std::FILE* blocker = std::fopen((directory_ / "blocker").c_str(), "w");
  ASSERT_NE(blocker, nullptr);
  std::fclose(blocker);
  SqliteTarget::Options options;
  options.path = (directory_ / "blocker" / "kv.db").string();
  auto target = SqliteTarget::Create(options);
  ASSERT_TRUE(target.ok()) << "creation never touches the file";
  Status probe = target.value()->Probe();
  EXPECT_EQ(probe.code(), StatusCode::kUnavailable);
  EXPECT_NE(probe.message().find("blocker"), std::string::npos) << probe.message();
  ApplyResult result = target.value()->ApplyMutation(Put("t", "p", "k", "v"), context_);
  EXPECT_EQ(result.outcome, ApplyOutcome::kRetryable) << result.reason;
}

TEST(SqliteTargetSettingsTest, ParsesAndRejectsSettings) {
  auto good = SqliteTarget::FromSettings(R"({"path": "/tmp/x/kv.db", "table_prefix": "orders_", "table": "items",
                                            "busy_timeout": "2s"})");
  EXPECT_TRUE(good.ok()) << good.status().ToString();

  struct Case {
    const char* json;
    const char* expected;
  };
  for (const Case& c : {Case{R"({})", "target.path: required for target type 'sqlite'"},
                        Case{R"({"path": ""})", "target.path: must not be empty"},
                        Case{R"({"path": 5})", "target.path: must be a string"},
                        Case{R"({"path": "a.db", "table_prefix": "bad-prefix"})", "target.table_prefix"},
                        Case{R"({"path": "a.db", "table": "9lives"})", "target.table"},
                        Case{R"({"path": "a.db", "busy_timeout": "0s"})", "target.busy_timeout: must be > 0s"},
                        Case{R"({"path": "a.db", "pth": "typo"})", "target.pth: unknown field 'pth' (did you mean 'path'?)"},
                        Case{R"([1, 2])", "settings must be a mapping"},
                        Case{R"({"path": )", "not valid JSON"}}) {
    auto result = SqliteTarget::FromSettings(c.json);
    ASSERT_FALSE(result.ok()) << c.json;
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(result.status().message().find(c.expected), std::string::npos)
        << c.json << " -> " << result.status().message();
  }
}

}  // namespace
}  // namespace wal::target
