#include "common/create_directories.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <set>
#include <string>
#include <vector>

#include "common/file_system.h"

namespace wal {
namespace {

// Records every step against an in-memory set of existing directories.
class RecordingSteps final : public DirectorySteps {
 public:
  explicit RecordingSteps(std::set<std::string> existing) : existing_(std::move(existing)) {}

  Result<bool> MakeDirectory(const std::string& path) override {
    steps.push_back("mkdir " + path);
    return existing_.insert(path).second;
  }
  Status SyncDirectory(const std::string& path) override {
    steps.push_back("fsync " + path);
    if (path == fail_sync_of) return IOError("injected fsync failure");
    return Status::Ok();
  }

  std::vector<std::string> steps;
  std::string fail_sync_of;

 private:
  std::set<std::string> existing_;
};

TEST(CreateDirectoriesTest, SyncsTheParentOfEveryDirectoryItCreates) {
  RecordingSteps steps({"/", "/data"});
  ASSERT_TRUE(CreateDirectoriesDurably("/data/ns/orders/log", steps).ok());
  EXPECT_EQ(steps.steps, (std::vector<std::string>{
                             "mkdir /data",
                             "mkdir /data/ns",
                             "fsync /data",
                             "mkdir /data/ns/orders",
                             "fsync /data/ns",
                             "mkdir /data/ns/orders/log",
                             "fsync /data/ns/orders",
                         }));
}

TEST(CreateDirectoriesTest, ExistingDirectoriesCostNoSync) {
  RecordingSteps steps({"/data", "/data/ns"});
  ASSERT_TRUE(CreateDirectoriesDurably("/data//ns/", steps).ok());
  EXPECT_EQ(steps.steps, (std::vector<std::string>{"mkdir /data", "mkdir /data/ns"}));
}

TEST(CreateDirectoriesTest, RelativePathsSyncTheWorkingDirectoryFirst) {
  RecordingSteps steps({});
  ASSERT_TRUE(CreateDirectoriesDurably("a/b", steps).ok());
  EXPECT_EQ(steps.steps, (std::vector<std::string>{"mkdir a", "fsync .", "mkdir a/b", "fsync a"}));
}

TEST(CreateDirectoriesTest, AFailedSyncIsReportedAndStopsThere) {
  RecordingSteps steps({"/data"});
  steps.fail_sync_of = "/data/x";
  Status status = CreateDirectoriesDurably("/data/x/y/z", steps);
  EXPECT_EQ(status.code(), StatusCode::kIOError);
  EXPECT_NE(status.message().find("/data/x/y"), std::string::npos) << status.ToString();
  EXPECT_EQ(steps.steps.back(), "fsync /data/x");
  EXPECT_EQ(CreateDirectoriesDurably("", steps).code(), StatusCode::kInvalidArgument);
}

TEST(CreateDirectoriesTest, PosixCreatesNestedDirectoriesAndRefusesFiles) {
  const std::string root = JoinPath(::testing::TempDir(), "create_directories_" + std::to_string(::getpid()));
  FileSystem* fs = DefaultFileSystem();
  ASSERT_TRUE(fs->RemoveAll(root).ok());
  ASSERT_TRUE(fs->CreateDirectories(JoinPath(root, "a/b/c")).ok());
  EXPECT_TRUE(fs->Exists(JoinPath(root, "a/b/c")));
  ASSERT_TRUE(fs->CreateDirectories(JoinPath(root, "a/b/c")).ok());  // idempotent
  ASSERT_TRUE(fs->WriteFileAtomically(JoinPath(root, "file"), "x").ok());
  EXPECT_FALSE(fs->CreateDirectories(JoinPath(root, "file")).ok());
  EXPECT_FALSE(fs->CreateDirectories(JoinPath(root, "file/below")).ok());
  ASSERT_TRUE(fs->RemoveAll(root).ok());
}

}  // namespace
}  // namespace wal
