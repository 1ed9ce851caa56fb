#include "server/config_watcher.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "control/directory_namespace_store.h"
#include "server/server_test_support.h"

namespace wal::server {
namespace {

using testing::WriteFile;

class ConfigWatcherTest : public testing::EngineFixture {};

TEST_F(ConfigWatcherTest, PicksUpNewChangedAndRemovedFiles) {
  Open({{"orders", "name: orders\n"}});
  auto store = control::DirectoryNamespaceStore::Open(DefaultFileSystem(), ns_dir(), engine_->module_catalog());
  ASSERT_TRUE(store.ok());
  ConfigWatcher watcher(engine_.get(), store->get(), std::chrono::milliseconds(0));
  EXPECT_EQ(watcher.PollOnce(), 0);  // what the engine loaded is already live
  WriteFile(ns_dir() + "/payments.yaml", "name: payments\n");
  EXPECT_EQ(watcher.PollOnce(), 1);
  EXPECT_TRUE(engine_->GetNamespace("payments").ok());
  WriteFile(ns_dir() + "/orders.yaml", "name: orders\nmax_retries: 9\n");
  EXPECT_EQ(watcher.PollOnce(), 1);
  EXPECT_EQ(engine_->GetNamespace("orders")->max_retries, 9);
  WriteFile(ns_dir() + "/orders.yaml", "name: orders\nmax_retries: nine\n");  // bad: ignored
  EXPECT_EQ(watcher.PollOnce(), 0);
  EXPECT_EQ(engine_->GetNamespace("orders")->max_retries, 9);
  std::filesystem::remove(ns_dir() + "/payments.yaml");
  EXPECT_EQ(watcher.PollOnce(), 1);
  EXPECT_FALSE(engine_->GetNamespace("payments").ok());
  // The engine's own saves are seen as no change.
  auto config = engine_->GetNamespace("orders").value();
  config.max_retries = 3;
  ASSERT_TRUE(engine_->ApplyNamespace(config).ok());
  EXPECT_EQ(watcher.PollOnce(), 0);
}

TEST_F(ConfigWatcherTest, AFileThatIsRefusedCountsAsAConfigRejectOncePerChange) {
  Open({{"orders", "name: orders\n"}});
  auto store = control::DirectoryNamespaceStore::Open(DefaultFileSystem(), ns_dir(), engine_->module_catalog());
  ASSERT_TRUE(store.ok());
  Metrics metrics;
  ConfigWatcher watcher(engine_.get(), store->get(), std::chrono::milliseconds(0), &metrics);
  EXPECT_EQ(watcher.PollOnce(), 0);
  WriteFile(ns_dir() + "/orders.yaml", "name: orders\nmax_retries: nine\n");
  EXPECT_EQ(watcher.PollOnce(), 0);
  EXPECT_EQ(watcher.PollOnce(), 0);  // unchanged since: not refused again
  const std::string text = metrics.Render(*engine_);
  EXPECT_NE(text.find("wal_config_rejects_total{source=\"store\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("wal_config_rejects_total{source=\"apply\"} 0\n"), std::string::npos);
}

}  // namespace
}  // namespace wal::server
