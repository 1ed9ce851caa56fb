// Against a real PostgreSQL started by scripts/test-servers/postgres.sh on a
// free port: the postgres set storage (chunks, progress, states, listing).
#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <random>

#include "common/testing/postgres_environment.h"
#include "sets/postgres/postgres_set_store.h"

namespace wal {
namespace {

using Postgres = ::wal::testing::PostgresEnvironment;
const auto* const kPostgres = ::testing::AddGlobalTestEnvironment(new Postgres);

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
