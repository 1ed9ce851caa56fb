// FileReloader: a file (or set of files) watched by polling, applied when its
// contents change, kept as it was when the new contents are refused.
#include "server/file_reloader.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "common/fault_injecting_file_system.h"
#include "common/forwarding_file_system.h"
#include "server/server_test_support.h"
#include "server/swappable.h"

namespace wal::server {
namespace {

using testing::CapturedLog;
using testing::Overwrite;
using testing::TempDir;
using testing::WriteFile;

// A reloader over one file holding a decimal number; anything else is refused.
class FileReloaderTest : public ::testing::Test {
 protected:
  FileReloaderTest()
      : path_(dir_.path() + "/value.txt"),
        reloader_("value", &file_system_, {path_}, std::chrono::milliseconds(0),
                  [this](const std::vector<std::string>& contents) -> Result<std::string> {
                    ++applies_;
                    const std::string& text = contents.front();
                    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) {
                      return InvalidArgument(path_ + ": not a number");
                    }
                    value_.Set(std::make_shared<const int>(std::stoi(text)));
                    return "value " + text;
                  }) {}

  int value() const {
    auto current = value_.Get();
    return current ? *current : -1;
  }

  TempDir dir_;
  FaultInjectingFileSystem file_system_{DefaultFileSystem()};
  std::string path_;
  Swappable<int> value_;
  int applies_ = 0;
  FileReloader reloader_;
};

TEST_F(FileReloaderTest, LoadReportsABadOrMissingFileInsteadOfLogging) {
  CapturedLog log;
  EXPECT_EQ(reloader_.Load().code(), StatusCode::kNotFound);
  Overwrite(path_, "twelve");
  Status bad = reloader_.Load();
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("not a number"), std::string::npos) << bad.message();
  EXPECT_EQ(value(), -1);
  Overwrite(path_, "12");
  ASSERT_TRUE(reloader_.Load().ok());
  EXPECT_EQ(value(), 12);
  EXPECT_EQ(log.text(), "");
}

TEST_F(FileReloaderTest, IgnoresAnUnchangedOrTouchedFile) {
  Overwrite(path_, "1");
  ASSERT_TRUE(reloader_.Load().ok());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(reloader_.PollOnce(), ReloadOutcome::kUnchanged);
  // A new mtime and a new inode, the same contents: nothing to apply.
  ASSERT_EQ(::utimensat(AT_FDCWD, path_.c_str(), nullptr, 0), 0);
  EXPECT_EQ(reloader_.PollOnce(), ReloadOutcome::kUnchanged);
  WriteFile(path_, "1");
  EXPECT_EQ(reloader_.PollOnce(), ReloadOutcome::kUnchanged);
  EXPECT_EQ(applies_, 1);
  EXPECT_EQ(value(), 1);
}

TEST_F(FileReloaderTest, DetectsAChange) {
  CapturedLog log;
  Overwrite(path_, "1");
  ASSERT_TRUE(reloader_.Load().ok());
  // Same size, same inode, and most likely the same mtime tick: only the
  // contents tell.
  Overwrite(path_, "2");
  EXPECT_EQ(reloader_.PollOnce(), ReloadOutcome::kApplied);
  EXPECT_EQ(value(), 2);
  WriteFile(path_, "345");
  EXPECT_EQ(reloader_.PollOnce(), ReloadOutcome::kApplied);
  EXPECT_EQ(value(), 345);
  EXPECT_EQ(reloader_.PollOnce(), ReloadOutcome::kUnchanged);
  EXPECT_EQ(log.Count("info value: reloaded from " + path_ + ": value 2\n"), 1) << log.text();
  EXPECT_EQ(log.Count("info value: reloaded from " + path_ + ": value 345\n"), 1) << log.text();
}

TEST_F(FileReloaderTest, KeepsTheOldValueOnABadFileAndLogsItOnce) {
  CapturedLog log;
  Overwrite(path_, "7");
  ASSERT_TRUE(reloader_.Load().ok());
  WriteFile(path_, "secret-looking-garbage");
  EXPECT_EQ(reloader_.PollOnce(), ReloadOutcome::kRefused);
  EXPECT_EQ(value(), 7);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(reloader_.PollOnce(), ReloadOutcome::kUnchanged);
  EXPECT_EQ(applies_, 2);  // the refused version is not retried until it changes
  EXPECT_EQ(log.Count("error value: not reloaded, the previous version stays in force"), 1) << log.text();
  EXPECT_EQ(log.text().find("secret-looking-garbage"), std::string::npos) << "file contents reached the log";
  // A different bad version is reported too.
  WriteFile(path_, "still bad");
  EXPECT_EQ(reloader_.PollOnce(), ReloadOutcome::kRefused);
  EXPECT_EQ(log.Count("error value: not reloaded"), 2);
  // Fixed: applied.
  WriteFile(path_, "8");
  EXPECT_EQ(reloader_.PollOnce(), ReloadOutcome::kApplied);
  EXPECT_EQ(value(), 8);
}

TEST_F(FileReloaderTest, HandlesDeletion) {
  CapturedLog log;
  Overwrite(path_, "5");
  ASSERT_TRUE(reloader_.Load().ok());
  std::filesystem::remove(path_);
  EXPECT_EQ(reloader_.PollOnce(), ReloadOutcome::kUnreadable);
  EXPECT_EQ(value(), 5);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(reloader_.PollOnce(), ReloadOutcome::kUnchanged);
  EXPECT_EQ(log.Count("error value: not reloaded"), 1) << log.text();
  EXPECT_NE(log.text().find("No such file"), std::string::npos) << log.text();
  // Put back as it was: nothing to apply, and the log says the error is over.
  Overwrite(path_, "5");
  EXPECT_EQ(reloader_.PollOnce(), ReloadOutcome::kUnchanged);
  EXPECT_EQ(log.Count("match the version in force again"), 1) << log.text();
  std::filesystem::remove(path_);
  EXPECT_EQ(reloader_.PollOnce(), ReloadOutcome::kUnreadable);
  Overwrite(path_, "6");
  EXPECT_EQ(reloader_.PollOnce(), ReloadOutcome::kApplied);
  EXPECT_EQ(value(), 6);
}

// Reports mtimes in whole seconds, as ext3, HFS+ and some NFS servers keep them
// (and as a kernel's coarse clock does within one tick).
class CoarseTimestampFileSystem final : public ForwardingFileSystem {
 public:
  using ForwardingFileSystem::ForwardingFileSystem;
  Result<FileInfo> Stat(const std::string& path) override {
    auto info = base()->Stat(path);
    if (info.ok()) info->mtime_ns -= info->mtime_ns % 1'000'000'000;
    return info;
  }
};

TEST_F(FileReloaderTest, DetectsARewriteThatLeavesSizeInodeAndMtimeAlone) {
  TempDir dir;
  const std::string path = dir.path() + "/value.txt";
  CoarseTimestampFileSystem file_system(DefaultFileSystem());
  std::string applied;
  FileReloader reloader("value", &file_system, {path}, std::chrono::milliseconds(0),
                        [&](const std::vector<std::string>& contents) -> Result<std::string> {
                          applied = contents.front();
                          return std::string();
                        });
  Overwrite(path, "1");
  ASSERT_TRUE(reloader.Load().ok());
  // In place, same size, (almost always) within the same second: only the
  // contents tell the versions apart.
  Overwrite(path, "2");
  EXPECT_EQ(reloader.PollOnce(), ReloadOutcome::kApplied);
  EXPECT_EQ(applied, "2");
  EXPECT_EQ(reloader.PollOnce(), ReloadOutcome::kUnchanged);
}

TEST_F(FileReloaderTest, PollsOnItsOwnThreadUntilStopped) {
  TempDir dir;
  const std::string path = dir.path() + "/value.txt";
  Overwrite(path, "a");
  Swappable<std::string> value;
  FileReloader reloader("value", DefaultFileSystem(), {path}, std::chrono::milliseconds(10),
                        [&](const std::vector<std::string>& contents) -> Result<std::string> {
                          value.Set(std::make_shared<const std::string>(contents.front()));
                          return std::string();
                        });
  ASSERT_TRUE(reloader.Load().ok());
  reloader.Start();
  reloader.Start();  // idempotent
  WriteFile(path, "b");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (*value.Get() != "b" && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(*value.Get(), "b");
  reloader.Stop();
  WriteFile(path, "c");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(*value.Get(), "b");  // stopped: no more polls
}

TEST_F(FileReloaderTest, WatchesSeveralFilesAsOneSet) {
  TempDir dir;
  const std::string first = dir.path() + "/first", second = dir.path() + "/second";
  Overwrite(first, "1");
  Overwrite(second, "1");
  std::string applied;
  // Valid only when both files agree, like a certificate and its key.
  FileReloader reloader("pair", DefaultFileSystem(), {first, second}, std::chrono::milliseconds(0),
                        [&](const std::vector<std::string>& contents) -> Result<std::string> {
                          if (contents[0] != contents[1]) return InvalidArgument("the files disagree");
                          applied = contents[0];
                          return std::string();
                        });
  ASSERT_TRUE(reloader.Load().ok());
  WriteFile(first, "2");
  EXPECT_EQ(reloader.PollOnce(), ReloadOutcome::kRefused);
  EXPECT_EQ(applied, "1");
  WriteFile(second, "2");
  EXPECT_EQ(reloader.PollOnce(), ReloadOutcome::kApplied);
  EXPECT_EQ(applied, "2");
}

}  // namespace
}  // namespace wal::server
