// The directory store: what the engine loads at start, what the admin API
// saves, and the revisions the watcher compares.
#include "control/directory_namespace_store.h"

#include "modules/builtin_modules.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

namespace wal::control {
namespace {

class DirectoryStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "wal_dir_store_XXXXXX").string();
    root_ = ::mkdtemp(pattern.data());
    auto opened = DirectoryNamespaceStore::Open(DefaultFileSystem(), root_ + "/ns", modules::BuiltinModules().catalog());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  void Write(const std::string& file, const std::string& text) { std::ofstream(root_ + "/ns/" + file) << text; }

  std::string root_;
  std::unique_ptr<DirectoryNamespaceStore> store_;
};

config::NamespaceConfig Named(const std::string& name, int max_retries) {
  config::NamespaceConfig config;
  config.name = name;
  config.max_retries = max_retries;
  config::FillNamespaceDefaults(&config);
  return config;
}

TEST_F(DirectoryStoreTest, SaveLoadRemoveRoundTrip) {
  ASSERT_TRUE(store_->Save(Named("orders", 7)).ok());
  auto loaded = store_->Load("orders");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->max_retries, 7);
  auto all = store_->LoadAll();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->namespaces.size(), 1u);
  EXPECT_TRUE(all->errors.empty());
  ASSERT_TRUE(store_->Remove("orders").ok());
  EXPECT_EQ(store_->Load("orders").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Remove("orders").code(), StatusCode::kNotFound);
}

TEST_F(DirectoryStoreTest, RevisionChangesOnlyWhenTheFileChanges) {
  ASSERT_TRUE(store_->Save(Named("orders", 1)).ok());
  auto before = store_->Revisions();
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before->count("orders"), 1u);
  auto unchanged = store_->Revisions();
  EXPECT_EQ(*before, *unchanged);
  ASSERT_TRUE(store_->Save(Named("orders", 2)).ok());  // an atomic rename: a new inode
  auto after = store_->Revisions();
  EXPECT_NE(before->at("orders"), after->at("orders"));
  Write(".orders.yaml.swp", "junk");  // editor litter is not a namespace
  Write("notes.txt", "junk");
  EXPECT_EQ(store_->Revisions()->size(), 1u);
}

TEST_F(DirectoryStoreTest, BadFilesAreErrorsAndDoNotHideGoodOnes) {
  Write("good.yaml", "name: good\n");
  Write("bad.yaml", "name: bad\nmax_retries: many\n");
  Write("other.yaml", "name: mismatch\n");
  auto all = store_->LoadAll();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->namespaces.size(), 1u);
  EXPECT_EQ(all->namespaces.front().name, "good");
  EXPECT_EQ(all->errors.size(), 2u);
  EXPECT_EQ(store_->Load("bad").status().code(), StatusCode::kInvalidArgument);
  auto mismatch = store_->Load("other");
  EXPECT_EQ(mismatch.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(mismatch.status().message().find("does not match the file name"), std::string::npos);
}

TEST_F(DirectoryStoreTest, SaveRefusesAnInvalidConfigAndKeepsTheOldOne) {
  ASSERT_TRUE(store_->Save(Named("orders", 3)).ok());
  config::NamespaceConfig invalid = Named("orders", 3);
  invalid.max_retries = -1;
  EXPECT_EQ(store_->Save(invalid).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Load("orders")->max_retries, 3);
}

TEST_F(DirectoryStoreTest, UnreadableDirectoryIsUnavailable) {
  std::filesystem::remove_all(root_ + "/ns");
  EXPECT_EQ(store_->Revisions().status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace wal::control
