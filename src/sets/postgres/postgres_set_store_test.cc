// Against a real PostgreSQL started by scripts/test-servers/postgres.sh on a
// free port: the postgres target (upsert, delete, TTL, create vs validate
// tables, error classes) and the postgres set storage (chunks, progress,
// states, listing).
#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <random>

#include "common/testing/postgres_environment.h"
#include "sets/postgres/postgres_set_store.h"
#include "target/postgres/pg_client.h"
#include "target/postgres/postgres_target.h"

namespace wal {
namespace {

using Postgres = ::wal::testing::PostgresEnvironment;
const auto* const kPostgres = ::testing::AddGlobalTestEnvironment(new Postgres);

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

std::unique_ptr<target::PostgresTarget> MakeTarget(const std::string& extra = "") {
  auto created = target::PostgresTarget::FromSettings(R"({"dsn": ")" + Postgres::Dsn() + R"(")" + extra + "}");
  EXPECT_TRUE(created.ok()) << created.status().ToString();
  return created.ok() ? std::move(created).value() : nullptr;
}

TEST(PostgresTargetTest, UpsertDeleteAndTtl) {
  auto target = MakeTarget();
  ASSERT_TRUE(target->Probe().ok());
  target::DeliveryContext context;
  std::string binary_key("k\0\xff", 3);
  std::string binary_value("\0\x01\x02value\xfe", 9);
  ASSERT_TRUE(target->ApplyMutation(Put("items", "p1", binary_key, binary_value), context).ok());
  ASSERT_TRUE(target->ApplyMutation(Put("items", "p1", binary_key, binary_value), context).ok()) << "idempotent";
  EXPECT_EQ(target->Get("items", "p1", binary_key).value(), binary_value);
  ASSERT_TRUE(target->ApplyMutation(Put("items", "p1", binary_key, "second"), context).ok());
  EXPECT_EQ(target->Get("items", "p1", binary_key).value(), "second");
  EXPECT_EQ(target->Get("items", "p2", binary_key).value(), std::nullopt) << "keyed by partition too";

  v1::Mutation erase = Put("items", "p1", binary_key, "");
  erase.set_op(v1::Mutation::DELETE);
  ASSERT_TRUE(target->ApplyMutation(erase, context).ok());
  ASSERT_TRUE(target->ApplyMutation(erase, context).ok()) << "deleting a missing row succeeds";
  EXPECT_EQ(target->Get("items", "p1", binary_key).value(), std::nullopt);

  v1::Mutation expiring = Put("", "p", "soon", "gone");  // default table "kv"
  expiring.mutable_ttl()->set_nanos(50'000'000);
  ASSERT_TRUE(target->ApplyMutation(expiring, context).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  EXPECT_EQ(target->Get("", "p", "soon").value(), std::nullopt);
}

TEST(PostgresTargetTest, CreateTablesFalseValidatesAndFailsPermanently) {
  auto strict = MakeTarget(R"(, "create_tables": false)");
  auto result = strict->ApplyMutation(Put("absent_table", "p", "k", "v"), {});
  EXPECT_EQ(result.outcome, target::ApplyOutcome::kPermanent);
  EXPECT_NE(result.reason.find("does not exist and create_tables is false"), std::string::npos) << result.reason;

  pg::PgPool pool(Postgres::Dsn(), std::chrono::seconds(5));
  ASSERT_FALSE(pool.Exec("CREATE TABLE wrong_shape (partition_key TEXT, sort_key TEXT, value BYTEA,"
                         " expires_at TIMESTAMPTZ, PRIMARY KEY (partition_key, sort_key))")
                   .error);
  result = strict->ApplyMutation(Put("wrong_shape", "p", "k", "v"), {});
  EXPECT_EQ(result.outcome, target::ApplyOutcome::kPermanent);
  EXPECT_NE(result.reason.find("sort_key is text, expected bytea"), std::string::npos) << result.reason;

  // A table made by the creating target passes validation.
  ASSERT_TRUE(MakeTarget()->ApplyMutation(Put("made", "p", "k", "v"), {}).ok());
  EXPECT_TRUE(strict->ApplyMutation(Put("made", "p", "k2", "v2"), {}).ok());
}

TEST(PostgresTargetTest, ErrorsAreClassified) {
  auto unreachable = target::PostgresTarget::FromSettings(
      R"({"dsn": "host=127.0.0.1 port=1 dbname=wal user=wal password=hunter2", "timeout": "1s"})");
  ASSERT_TRUE(unreachable.ok());
  auto result = (*unreachable)->ApplyMutation(Put("t", "p", "k", "v"), {});
  EXPECT_EQ(result.outcome, target::ApplyOutcome::kRetryable);
  EXPECT_EQ(result.reason.find("hunter2"), std::string::npos) << "no password in messages: " << result.reason;
  EXPECT_FALSE((*unreachable)->Probe().ok());

  EXPECT_TRUE(pg::PgPool::IsRetryableSqlState("40001"));
  EXPECT_TRUE(pg::PgPool::IsRetryableSqlState("40P01"));
  EXPECT_TRUE(pg::PgPool::IsRetryableSqlState("57P01"));
  EXPECT_FALSE(pg::PgPool::IsRetryableSqlState("23505"));
  EXPECT_FALSE(pg::PgPool::IsRetryableSqlState("42601"));
  EXPECT_EQ(pg::PgPool::RedactDsn("postgres://wal:secret@host/db"), "postgres://wal:***@host/db");

  auto target = MakeTarget();
  EXPECT_FALSE(target->ValidatePayload([] {
    v1::Payload payload;
    *payload.mutable_mutation() = Put("bad-name", "p", "k", "v");
    return payload;
  }()).ok());
  EXPECT_EQ(target->DeliverOpaque("x", {}).outcome, target::ApplyOutcome::kPermanent);
}

TEST(PostgresSetStoreTest, StoresChunksProgressAndStates) {
  sets::PostgresSetStore::Options options;
  options.dsn = Postgres::Dsn();
  options.namespace_name = "orders";
  auto opened = sets::PostgresSetStore::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto& store = **opened;

  std::string big(3 << 20, '\0');
  std::mt19937 random(3);
  for (char& c : big) c = static_cast<char>(random());
  std::vector<std::string> chunks = {big.substr(0, 1 << 20), big.substr(1 << 20, 1 << 20), big.substr(2 << 20)};
  auto persist = [&](const std::string& id, std::vector<std::string> pieces) {
    std::promise<sets::PersistOutcome> promise;
    store.Persist(id, std::move(pieces), [&](sets::PersistOutcome outcome) { promise.set_value(std::move(outcome)); });
    return promise.get_future().get();
  };
  auto first = persist("set-a", chunks);
  ASSERT_TRUE(first.status.ok()) << first.status.ToString();
  auto second = persist("set-b", {"small"});
  ASSERT_TRUE(second.status.ok());
  EXPECT_LT(first.order, second.order);
  EXPECT_FALSE(persist("set-a", {"again"}).status.ok()) << "a set id is stored once";

  auto loaded = store.Load("set-a");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->serialized.size(), big.size());
  EXPECT_TRUE(loaded->serialized == big) << "reassembled byte for byte";
  EXPECT_EQ(loaded->applied_through, 0u);

  ASSERT_TRUE(store.RecordProgress("set-a", 2).ok());
  ASSERT_TRUE(store.RecordProgress("set-a", 1).ok());
  EXPECT_EQ(store.Load("set-a")->applied_through, 2u) << "progress never goes back";
  ASSERT_TRUE(store.SetState("set-b", sets::SetState::kDead).ok());
  auto live = store.ListLive();
  ASSERT_TRUE(live.ok());
  ASSERT_EQ(live->size(), 2u);

  ASSERT_TRUE(store.SetState("set-a", sets::SetState::kDone).ok());
  EXPECT_EQ(store.Load("set-a").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store.Load("set-b")->state, sets::SetState::kDead);

  // Another namespace's sets are separate.
  options.namespace_name = "other";
  auto other = sets::PostgresSetStore::Open(options);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ((*other)->Load("set-b").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE((*other)->ListLive()->empty());
}

}  // namespace
}  // namespace wal
