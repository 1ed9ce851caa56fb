// Config files: the format from a file name, and loading, saving and
// deleting namespace and server config files in a real directory.
#include "config/config_files.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include <unistd.h>

#include "common/file_system.h"
#include "config/config_test_support.h"

namespace wal::config {
namespace {

using namespace testing;

TEST(FormatFromPathTest, ByExtension) {
  EXPECT_EQ(FormatFromPath("a/b.yaml").value(), Format::kYaml);
  EXPECT_EQ(FormatFromPath("b.yml").value(), Format::kYaml);
  EXPECT_EQ(FormatFromPath("b.json").value(), Format::kJson);
  EXPECT_FALSE(FormatFromPath("b.yaml.tmp").ok());
  EXPECT_FALSE(FormatFromPath("yaml").ok());
}

// ---------------------------------------------------------------------------
// Files and directories

class NamespaceFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = std::filesystem::temp_directory_path() /
                 ("wal_config_test_" + std::to_string(::getpid()) + "_" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(directory_);
    std::filesystem::create_directories(directory_);
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  void Write(const std::string& file_name, const std::string& contents) {
    ASSERT_TRUE(file_system_->WriteFileAtomically(Path(file_name), contents).ok());
  }
  std::string Path(const std::string& file_name) const { return JoinPath(directory_.string(), file_name); }
  std::string Dir() const { return directory_.string(); }

  FileSystem* file_system_ = DefaultFileSystem();
  std::filesystem::path directory_;
};

TEST_F(NamespaceFilesTest, OneBadFileDoesNotStopTheOthers) {
  Write("alpha.yaml", "name: alpha\n");
  Write("beta.json", R"({"name": "beta", "max_retries": 3})");
  Write("gamma.yml", "name: gamma\nmax_retries: lots\n");
  Write("delta.yaml", "name: not-delta\n");
  Write("notes.txt", "not a namespace");
  Write("epsilon.yaml.tmp", "half written");
  Write(".hidden.yaml", "name: hidden\n");

  DirectoryLoad load = LoadNamespaceDirectory(file_system_, Dir());
  ASSERT_EQ(load.namespaces.size(), 2u);
  EXPECT_EQ(load.namespaces[0].name, "alpha");
  EXPECT_EQ(load.namespaces[1].name, "beta");
  EXPECT_EQ(load.namespaces[1].max_retries, 3);
  ASSERT_EQ(load.errors.size(), 2u);
  EXPECT_EQ(load.errors[0].message(), Path("delta.yaml") + ": name: 'not-delta' does not match the file name "
                                                          "'delta.yaml' (a namespace file must be named <name>.yaml)");
  EXPECT_EQ(load.errors[1].message(), Path("gamma.yml") + ": max_retries: must be an integer, got \"lots\"");
}

TEST_F(NamespaceFilesTest, SecondFileWithTheSameNameIsAnError) {
  Write("alpha.json", R"({"name": "alpha"})");
  Write("alpha.yaml", "name: alpha\n");
  DirectoryLoad load = LoadNamespaceDirectory(file_system_, Dir());
  ASSERT_EQ(load.namespaces.size(), 1u);
  ASSERT_EQ(load.errors.size(), 1u);
  EXPECT_EQ(load.errors[0].code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(load.errors[0].message(),
            Path("alpha.yaml") + ": name: namespace 'alpha' is already defined by " + Path("alpha.json"));
}

TEST_F(NamespaceFilesTest, MissingDirectoryIsAnError) {
  DirectoryLoad load = LoadNamespaceDirectory(file_system_, Path("absent"));
  EXPECT_TRUE(load.namespaces.empty());
  ASSERT_EQ(load.errors.size(), 1u);
  EXPECT_EQ(load.errors[0].code(), StatusCode::kNotFound);
}

TEST_F(NamespaceFilesTest, SaveReplacesStaleFilesAndLoadsBack) {
  Write("orders.json", R"({"name": "orders"})");
  Write("orders.yml", "name: orders\n");
  NamespaceConfig config = FullyPopulated("sqs");
  config.name = "orders";
  ASSERT_TRUE(SaveNamespaceFile(file_system_, Dir(), config).ok());
  EXPECT_TRUE(file_system_->Exists(Path("orders.yaml")));
  EXPECT_FALSE(file_system_->Exists(Path("orders.json")));
  EXPECT_FALSE(file_system_->Exists(Path("orders.yml")));

  DirectoryLoad load = LoadNamespaceDirectory(file_system_, Dir());
  ASSERT_TRUE(load.errors.empty()) << load.errors[0].message();
  ASSERT_EQ(load.namespaces.size(), 1u);
  EXPECT_EQ(load.namespaces[0], config);

  auto loaded = LoadNamespaceFile(file_system_, Path("orders.yaml"));
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded.value(), config);
}

TEST_F(NamespaceFilesTest, SaveCreatesTheDirectoryAndRefusesInvalidConfigs) {
  NamespaceConfig config = FullyPopulated("local");
  config.name = "fresh";
  ASSERT_TRUE(SaveNamespaceFile(file_system_, Path("nested/dir"), config).ok());
  EXPECT_TRUE(file_system_->Exists(Path("nested/dir/fresh.yaml")));

  config.name = "broken";
  config.max_retries = -1;
  Status status = SaveNamespaceFile(file_system_, Dir(), config);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(file_system_->Exists(Path("broken.yaml")));
}

TEST_F(NamespaceFilesTest, DeleteRemovesWhicheverFileExists) {
  Write("alpha.yaml", "name: alpha\n");
  Write("beta.json", R"({"name": "beta"})");
  EXPECT_TRUE(DeleteNamespaceFile(file_system_, Dir(), "alpha").ok());
  EXPECT_TRUE(DeleteNamespaceFile(file_system_, Dir(), "beta").ok());
  EXPECT_FALSE(file_system_->Exists(Path("alpha.yaml")));
  EXPECT_FALSE(file_system_->Exists(Path("beta.json")));
  EXPECT_EQ(DeleteNamespaceFile(file_system_, Dir(), "alpha").code(), StatusCode::kNotFound);
  EXPECT_EQ(DeleteNamespaceFile(file_system_, Dir(), "../etc").code(), StatusCode::kInvalidArgument);
}

TEST_F(NamespaceFilesTest, ServerConfigFile) {
  Write("server.yaml", "data_dir: ./elsewhere\nrole: producer\n");
  auto loaded = LoadServerConfigFile(file_system_, Path("server.yaml"));
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(loaded->data_dir, "./elsewhere");
  EXPECT_EQ(loaded->role, "producer");
  EXPECT_EQ(LoadServerConfigFile(file_system_, Path("absent.yaml")).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace wal::config
