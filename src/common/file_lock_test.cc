// FileSystem::LockFile: the POSIX flock implementation against other processes
// and against a second lock in this process, and the in-memory one.
#include "common/file_lock.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "common/fault_injecting_file_system.h"

namespace wal {
namespace {

class FileLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = JoinPath(::testing::TempDir(), "wal_file_lock_test_" + std::to_string(::getpid()) + "_" +
                                                    ::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_TRUE(DefaultFileSystem()->RemoveAll(directory_).ok());
    ASSERT_TRUE(DefaultFileSystem()->CreateDirectories(directory_).ok());
    path_ = JoinPath(directory_, "test.lock");
  }
  void TearDown() override { (void)DefaultFileSystem()->RemoveAll(directory_); }

  // Forks a child that tries the lock and exits 0 if it got it, 1 if it was
  // refused as held, 2 on any other answer.
  int LockInChild() const {
    pid_t pid = ::fork();
    if (pid == 0) {
      auto lock = DefaultFileSystem()->LockFile(path_);
      if (lock.ok()) ::_exit(0);
      const bool held = lock.status().code() == StatusCode::kUnavailable &&
                        lock.status().message().find("held by another process") != std::string::npos;
      ::_exit(held ? 1 : 2);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  std::string directory_;
  std::string path_;
};

TEST_F(FileLockTest, AnotherProcessCannotTakeAHeldLock) {
  auto lock = DefaultFileSystem()->LockFile(path_);
  ASSERT_TRUE(lock.ok()) << lock.status().ToString();
  EXPECT_EQ(LockInChild(), 1);
}

TEST_F(FileLockTest, ReleasedLockCanBeTakenByAnotherProcess) {
  {
    auto lock = DefaultFileSystem()->LockFile(path_);
    ASSERT_TRUE(lock.ok()) << lock.status().ToString();
  }
  EXPECT_EQ(LockInChild(), 0);
}

// The kernel drops a flock with its process: a holder killed by SIGKILL leaves
// no stale lock.
TEST_F(FileLockTest, LockOfAKilledProcessIsFree) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t holder = ::fork();
  if (holder == 0) {
    auto lock = DefaultFileSystem()->LockFile(path_);
    char byte = lock.ok() ? 'y' : 'n';
    (void)!::write(ready[1], &byte, 1);
    ::pause();
    ::_exit(0);
  }
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  ASSERT_EQ(byte, 'y');
  auto refused = DefaultFileSystem()->LockFile(path_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(refused.status().message().find(path_), std::string::npos) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("pid " + std::to_string(holder)), std::string::npos)
      << refused.status().ToString();
  ::kill(holder, SIGKILL);
  ::waitpid(holder, nullptr, 0);
  ::close(ready[0]);
  ::close(ready[1]);
  auto taken = DefaultFileSystem()->LockFile(path_);
  EXPECT_TRUE(taken.ok()) << taken.status().ToString();
}

// flock belongs to an open file description: a second open of the same file in
// this process conflicts like another process would.
TEST_F(FileLockTest, SecondLockInTheSameProcessIsRefused) {
  auto first = DefaultFileSystem()->LockFile(path_);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = DefaultFileSystem()->LockFile(path_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("held by another process"), std::string::npos);
  first->reset();
  EXPECT_TRUE(DefaultFileSystem()->LockFile(path_).ok());
}

TEST_F(FileLockTest, FaultInjectingFileSystemLocksThroughItsBase) {
  FaultInjectingFileSystem file_system(DefaultFileSystem());
  auto lock = file_system.LockFile(path_);
  ASSERT_TRUE(lock.ok()) << lock.status().ToString();
  EXPECT_FALSE(DefaultFileSystem()->LockFile(path_).ok());
  EXPECT_EQ(LockInChild(), 1);
}

TEST_F(FileLockTest, MissingDirectoryIsAnErrorNotAConflict) {
  auto lock = DefaultFileSystem()->LockFile(JoinPath(directory_, "absent/test.lock"));
  ASSERT_FALSE(lock.ok());
  EXPECT_NE(lock.status().code(), StatusCode::kUnavailable);
}

TEST_F(FileLockTest, InProcessLocksAnswerLikeFlock) {
  InProcessFileLocks locks;
  auto first = locks.Lock("/a/test.lock");
  ASSERT_TRUE(first.ok());
  auto second = locks.Lock("/a/test.lock");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("/a/test.lock is locked: held by another process"), std::string::npos)
      << second.status().ToString();
  EXPECT_TRUE(locks.Lock("/b/test.lock").ok());
  first->reset();
  EXPECT_TRUE(locks.Lock("/a/test.lock").ok());
}

TEST_F(FileLockTest, InProcessLockMayOutliveItsTable) {
  std::unique_ptr<FileLock> lock;
  {
    InProcessFileLocks locks;
    auto taken = locks.Lock("/a/test.lock");
    ASSERT_TRUE(taken.ok());
    lock = std::move(taken).value();
  }
  lock.reset();  // must not touch freed memory (ASan would say so)
}

}  // namespace
}  // namespace wal
