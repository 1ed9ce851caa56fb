// The PostgreSQL namespace store against a real PostgreSQL started by
// scripts/test-servers/postgres.sh on a free loopback port: two stores stand
// for two wald instances sharing one control plane.
#include "control/postgres_namespace_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <future>

#include "common/testing/postgres_environment.h"
#include "modules/builtin_modules.h"
#include "target/postgres/pg_client.h"

namespace wal::control {
namespace {

using ::wal::testing::FreeLoopbackPort;
using Postgres = ::wal::testing::PostgresEnvironment;

const auto* const kPostgres = ::testing::AddGlobalTestEnvironment(new Postgres);

config::NamespaceConfig Named(const std::string& name, int max_retries) {
  config::NamespaceConfig config;
  config.name = name;
  config.max_retries = max_retries;
  config::FillNamespaceDefaults(&config);
  return config;
}

// Counts change notifications and lets a test wait for the next one.
struct ChangeCounter {
  std::mutex mutex;
  std::condition_variable changed;
  int count = 0;
  std::function<void()> Listener() {
    return [this] {
      std::lock_guard lock(mutex);
      ++count;
      changed.notify_all();
    };
  }
  bool WaitBeyond(int seen, std::chrono::seconds timeout) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, timeout, [&] { return count > seen; });
  }
  int Count() {
    std::lock_guard lock(mutex);
    return count;
  }
};

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A table per test: tests do not see each other's rows.
    table_ = std::string("ns_") + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : table_) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    table_ = table_.substr(0, 40);
    std::string pattern = (std::filesystem::temp_directory_path() / "wal_pg_cache_XXXXXX").string();
    cache_root_ = mkdtemp(pattern.data());
  }
  void TearDown() override { std::filesystem::remove_all(cache_root_); }

  std::unique_ptr<PostgresNamespaceStore> Open(const std::string& instance, std::string dsn = Postgres::Dsn()) {
    PostgresStoreOptions options;
    options.dsn = std::move(dsn);
    options.table = table_;
    options.cache_dir = cache_root_ + "/" + instance;
    options.instance = instance;
    options.timeout = std::chrono::milliseconds(2000);
    options.modules = &modules::BuiltinModules().catalog();
    auto opened = PostgresNamespaceStore::Open(DefaultFileSystem(), options);
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    return opened.ok() ? std::move(opened).value() : nullptr;
  }

  std::string table_;
  std::string cache_root_;
};

TEST_F(PostgresStoreTest, ASaveOnOneInstanceNotifiesAndIsReadByAnother) {
  auto first = Open("first");
  auto second = Open("second");
  ChangeCounter changes;
  second->SetChangeListener(changes.Listener());
  ASSERT_TRUE(changes.WaitBeyond(0, std::chrono::seconds(10)));  // the listener connected and caught up

  const int seen = changes.Count();
  const auto saved_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(first->Save(Named("orders", 7)).ok());
  ASSERT_TRUE(changes.WaitBeyond(seen, std::chrono::seconds(5)));
  EXPECT_LT(std::chrono::steady_clock::now() - saved_at, std::chrono::seconds(1));

  auto revisions = second->Revisions();
  ASSERT_TRUE(revisions.ok()) << revisions.status().ToString();
  ASSERT_EQ(revisions->count("orders"), 1u);
  auto loaded = second->Load("orders");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(*loaded, Named("orders", 7));

  // An update gets a new revision; an unchanged table keeps the old one.
  EXPECT_EQ(second->Revisions()->at("orders"), revisions->at("orders"));
  ASSERT_TRUE(first->Save(Named("orders", 8)).ok());
  EXPECT_NE(second->Revisions()->at("orders"), revisions->at("orders"));
  EXPECT_EQ(second->Load("orders")->max_retries, 8);

  const int before_remove = changes.Count();
  ASSERT_TRUE(first->Remove("orders").ok());
  ASSERT_TRUE(changes.WaitBeyond(before_remove, std::chrono::seconds(5)));
  EXPECT_EQ(second->Revisions()->count("orders"), 0u);
  EXPECT_EQ(second->Load("orders").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(first->Remove("orders").code(), StatusCode::kNotFound);
}

TEST_F(PostgresStoreTest, PlainSqlEditsPropagateLikeAdminCalls) {
  auto store = Open("only");
  ASSERT_TRUE(store->Save(Named("orders", 1)).ok());
  ChangeCounter changes;
  store->SetChangeListener(changes.Listener());
  ASSERT_TRUE(changes.WaitBeyond(0, std::chrono::seconds(10)));
  const std::string revision = store->Revisions()->at("orders");

  pg::PgPool operator_session(Postgres::Dsn(), std::chrono::milliseconds(2000));
  const int seen = changes.Count();
  auto updated = operator_session.Exec("UPDATE " + table_ + " SET config = 'name: orders\nmax_retries: 4\n'");
  ASSERT_TRUE(updated.ok()) << updated.error->message;
  ASSERT_TRUE(changes.WaitBeyond(seen, std::chrono::seconds(5)));
  EXPECT_NE(store->Revisions()->at("orders"), revision);
  EXPECT_EQ(store->Load("orders")->max_retries, 4);
}

TEST_F(PostgresStoreTest, ABadRowIsAnErrorAndDoesNotHideTheOthers) {
  auto store = Open("only");
  ASSERT_TRUE(store->Save(Named("good", 2)).ok());
  pg::PgPool operator_session(Postgres::Dsn(), std::chrono::milliseconds(2000));
  ASSERT_TRUE(operator_session.Exec("INSERT INTO " + table_ + " (name, config) VALUES ('bad', 'max_retries: [')").ok());
  ASSERT_TRUE(operator_session.Exec("INSERT INTO " + table_ + " (name, config) VALUES ('renamed', 'name: other')").ok());
  auto all = store->LoadAll();
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->namespaces.size(), 1u);
  EXPECT_EQ(all->namespaces.front().name, "good");
  ASSERT_EQ(all->errors.size(), 2u);
  EXPECT_NE(all->errors[0].message().find(table_ + "[bad]"), std::string::npos) << all->errors[0].message();
  EXPECT_EQ(store->Load("bad").status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(store->Load("renamed").status().message().find("does not match the row's name"), std::string::npos);

  config::NamespaceConfig invalid = Named("good", 2);
  invalid.max_retries = -5;
  EXPECT_EQ(store->Save(invalid).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Load("good")->max_retries, 2);
}

TEST_F(PostgresStoreTest, InstancesStartingTogetherCreateTheSchemaOnce) {
  std::vector<std::future<std::unique_ptr<PostgresNamespaceStore>>> opening;
  for (int i = 0; i < 6; ++i) {
    opening.push_back(std::async(std::launch::async, [this, i] { return Open("instance" + std::to_string(i)); }));
  }
  std::vector<std::unique_ptr<PostgresNamespaceStore>> stores;
  for (auto& future : opening) stores.push_back(future.get());
  for (size_t i = 0; i < stores.size(); ++i) {
    ASSERT_NE(stores[i], nullptr);
    EXPECT_TRUE(stores[i]->Save(Named("ns" + std::to_string(i), 1)).ok());
  }
  auto all = stores.front()->LoadAll();
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->namespaces.size(), stores.size());
}

TEST_F(PostgresStoreTest, AnOutageServesTheCacheAndRefusesChanges) {
  auto live = Open("instance");
  ASSERT_TRUE(live->Save(Named("orders", 6)).ok());
  ASSERT_TRUE(live->Save(Named("payments", 2)).ok());
  ASSERT_TRUE(live->LoadAll().ok());  // mirrors the table into the cache
  live.reset();

  // Same cache, a server that is not there (and a password to keep secret).
  const std::string dead = "host=127.0.0.1 port=" + std::to_string(FreeLoopbackPort()) + " dbname=wal user=wal password=hunter2";
  auto outage = Open("instance", dead);
  EXPECT_EQ(outage->Describe().find("hunter2"), std::string::npos);
  auto cached = outage->LoadAll();
  ASSERT_TRUE(cached.ok()) << cached.status().ToString();
  ASSERT_EQ(cached->namespaces.size(), 2u);
  EXPECT_EQ(cached->namespaces.front().max_retries, 6);
  Status refused = outage->Save(Named("orders", 9));
  EXPECT_EQ(refused.code(), StatusCode::kUnavailable);
  EXPECT_EQ(refused.message().find("hunter2"), std::string::npos) << refused.message();
  EXPECT_EQ(outage->Revisions().status().code(), StatusCode::kUnavailable);

  // No cache and no server: nothing to serve, and it says why.
  auto empty = Open("never-connected", dead);
  auto nothing = empty->LoadAll();
  EXPECT_EQ(nothing.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(nothing.status().message().find("hunter2"), std::string::npos);
}

TEST_F(PostgresStoreTest, TheShardMapIsOneDocumentSharedAndNotified) {
  auto first = Open("first");
  auto second = Open("second");
  EXPECT_TRUE(first->HoldsShardMap());
  EXPECT_EQ(second->LoadShardMap().status().code(), StatusCode::kNotFound);
  ChangeCounter changes;
  second->SetChangeListener(changes.Listener());
  ASSERT_TRUE(changes.WaitBeyond(0, std::chrono::seconds(10)));

  int seen = changes.Count();
  ASSERT_TRUE(first->SaveShardMap("shards: {a: {addresses: ['127.0.0.1:1'], namespaces: [orders]}}\n").ok());
  ASSERT_TRUE(changes.WaitBeyond(seen, std::chrono::seconds(5)));
  auto stored = second->LoadShardMap();
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_NE(stored->text.find("orders"), std::string::npos);

  seen = changes.Count();
  ASSERT_TRUE(first->SaveShardMap("shards: {a: {addresses: ['127.0.0.1:1'], namespaces: [orders, audit]}}\n").ok());
  ASSERT_TRUE(changes.WaitBeyond(seen, std::chrono::seconds(5)));
  auto replaced = second->LoadShardMap();
  ASSERT_TRUE(replaced.ok());
  EXPECT_NE(replaced->revision, stored->revision);
  EXPECT_NE(replaced->text.find("audit"), std::string::npos);
  // The namespaces are a separate matter.
  EXPECT_TRUE(second->Revisions()->empty());
}

TEST_F(PostgresStoreTest, TheListenerReconnectsAfterTheServerRestarts) {
  auto writer = Open("writer");
  auto reader = Open("reader");
  ChangeCounter changes;
  reader->SetChangeListener(changes.Listener());
  ASSERT_TRUE(changes.WaitBeyond(0, std::chrono::seconds(10)));
  ASSERT_EQ(Postgres::Control("stop"), 0);
  ASSERT_EQ(Postgres::Control("start"), 0);
  // After reconnecting the listener reports a change at once (it cannot know
  // what it missed), then every new one.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  bool delivered = false;
  int attempt = 0;
  while (!delivered && std::chrono::steady_clock::now() < deadline) {
    const int seen = changes.Count();
    Status saved = writer->Save(Named("orders", ++attempt % 50));
    if (saved.ok()) {
      delivered = changes.WaitBeyond(seen, std::chrono::seconds(1));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  ASSERT_TRUE(delivered);
  // Now listening again: the next change is pushed, not just the catch-up.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const int seen = changes.Count();
  ASSERT_TRUE(writer->Save(Named("orders", 99)).ok());
  EXPECT_TRUE(changes.WaitBeyond(seen, std::chrono::seconds(5)));
  EXPECT_EQ(reader->Load("orders")->max_retries, 99);
}

}  // namespace
}  // namespace wal::control
