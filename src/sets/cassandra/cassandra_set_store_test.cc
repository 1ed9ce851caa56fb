// The Cassandra set store against a real Cassandra 5.0 node (one per binary,
// with PasswordAuthenticator; src/cql/testing/cassandra_environment.h): the
// same contract as the other stores (set_store.h), and what it does without a
// read-before-write (monotonic progress, deletes that stay deleted).
#include <gtest/gtest.h>

#include <cstdlib>
#include <future>

#include "config/config.h"
#include "cql/testing/cassandra_environment.h"
#include "modules/builtin_modules.h"
#include "sets/cassandra/cassandra_set_store.h"
#include "target/cassandra/testing/superuser_session.h"

namespace wal::sets {
namespace {

using cql::testing::CassandraEnvironment;
using namespace std::chrono_literals;

const auto* const kCassandra = ::testing::AddGlobalTestEnvironment(new CassandraEnvironment);

constexpr char kKeyspace[] = "wal_sets_test";

std::string ContactPoint() { return "127.0.0.1:" + std::to_string(CassandraEnvironment::Port()); }

class CassandraSetStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ::setenv("WAL_TEST_CASSANDRA_PASSWORD", "cassandra", 1);
    ASSERT_NE(cassandra::testing::SuperuserSessionWithKeyspace(kKeyspace), nullptr);
  }

  // The store as the module builds it from a namespace's durable_storage block.
  static std::unique_ptr<SetStore> OpenStore(const std::string& namespace_name) {
    const std::string yaml = "name: " + namespace_name +
                             "\ndurable_storage: {type: cassandra, contact_points: [\"" + ContactPoint() +
                             "\"], keyspace: " + kKeyspace +
                             ", username: cassandra, password_env: WAL_TEST_CASSANDRA_PASSWORD, consistency: ONE,"
                             " request_timeout: 20s, chunk_bytes: 4096}\n";
    auto config = config::ParseNamespace(yaml, config::Format::kYaml, "test.yaml", modules::BuiltinModules().catalog());
    EXPECT_TRUE(config.ok()) << config.status().ToString();
    if (!config.ok()) return nullptr;
    auto store = modules::BuiltinModules().Open(config->durable_storage, SetStoreContext{namespace_name, nullptr, ""});
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  static PersistOutcome PersistAndWait(SetStore& store, const std::string& set_id, std::vector<std::string> chunks) {
    std::promise<PersistOutcome> done;
    store.Persist(set_id, std::move(chunks), [&done](PersistOutcome outcome) { done.set_value(std::move(outcome)); });
    return done.get_future().get();
  }
};

TEST_F(CassandraSetStoreTest, PersistLoadProgressStatesAndListing) {
  auto store = OpenStore("round_trip");
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->type(), "cassandra");
  EXPECT_EQ(store->Load("never").status().code(), StatusCode::kNotFound);

  // Eleven chunks: more than one page of them.
  std::vector<std::string> chunks;
  std::string whole;
  for (int i = 0; i < 11; ++i) {
    chunks.push_back(std::string(4096, static_cast<char>('a' + i)) + std::string("\0\xff", 2));
    whole += chunks.back();
  }
  PersistOutcome first = PersistAndWait(*store, "set-1", chunks);
  ASSERT_TRUE(first.status.ok()) << first.status.ToString();
  PersistOutcome second = PersistAndWait(*store, "set-2", {"small"});
  ASSERT_TRUE(second.status.ok()) << second.status.ToString();
  EXPECT_GT(second.order, first.order) << "orders increase with every set accepted";

  auto loaded = store->Load("set-1");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->serialized, whole);
  EXPECT_EQ(loaded->order, first.order);
  EXPECT_EQ(loaded->applied_through, 0u);
  EXPECT_EQ(loaded->state, SetState::kPending);

  ASSERT_TRUE(store->RecordProgress("set-1", 5).ok());
  ASSERT_TRUE(store->RecordProgress("set-1", 3).ok()) << "a late, smaller count";
  EXPECT_EQ(store->Load("set-1")->applied_through, 5u) << "progress never goes back";
  ASSERT_TRUE(store->SetState("set-2", SetState::kDead).ok());

  // Another instance (a fresh store, nothing cached) sees the same.
  auto other = OpenStore("round_trip");
  EXPECT_EQ(other->Load("set-1")->applied_through, 5u);
  ASSERT_TRUE(other->RecordProgress("set-1", 7).ok());
  EXPECT_EQ(store->Load("set-1")->applied_through, 7u);
  auto live = other->ListLive();
  ASSERT_TRUE(live.ok()) << live.status().ToString();
  ASSERT_EQ(live->size(), 2u);
  for (const LiveSet& set : *live) {
    EXPECT_EQ(set.state, set.set_id == "set-2" ? SetState::kDead : SetState::kPending) << set.set_id;
  }
  EXPECT_TRUE(OpenStore("another_namespace")->ListLive()->empty()) << "rows are keyed by namespace";

  ASSERT_TRUE(store->SetState("set-1", SetState::kDone).ok());
  EXPECT_EQ(store->Load("set-1").status().code(), StatusCode::kNotFound);
  // A consumer that still had the set open records progress after it was
  // finished: the set does not come back.
  ASSERT_TRUE(other->RecordProgress("set-1", 9).ok());
  ASSERT_TRUE(other->SetState("set-1", SetState::kDead).ok());
  EXPECT_EQ(other->Load("set-1").status().code(), StatusCode::kNotFound);
  store->DiscardAsync("set-2");
  ASSERT_TRUE(store->Close().ok()) << "waits for the discard";
  live = other->ListLive();
  ASSERT_TRUE(live.ok());
  EXPECT_TRUE(live->empty()) << live->size() << " left, first " << (live->empty() ? "" : live->front().set_id);
}

TEST_F(CassandraSetStoreTest, AnUnknownKeyspaceFailsPersistWithTheServersMessage) {
  CassandraSetStore::Options options;
  options.settings.connection.contact_points = {ContactPoint()};
  options.settings.connection.keyspace = "no_such_keyspace";
  options.settings.connection.username = "cassandra";
  options.settings.connection.password_env = "WAL_TEST_CASSANDRA_PASSWORD";
  options.namespace_name = "nowhere";
  auto store = CassandraSetStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  PersistOutcome outcome = PersistAndWait(**store, "set", {"x"});
  ASSERT_FALSE(outcome.status.ok());
  EXPECT_NE(outcome.status.message().find("no_such_keyspace"), std::string::npos) << outcome.status.message();
  EXPECT_TRUE((*store)->Close().ok());
}

}  // namespace
}  // namespace wal::sets
