// One Log per directory: Open locks the directory until Close, so a second
// Open, in another process or in this one, fails clearly and touches nothing;
// repair takes the same lock.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log/log_test_fixture.h"
#include "log/repair.h"

namespace wal::log {
namespace {

using testing::ReadWholeFile;

class LogLockTest : public testing::LogTestBase {
 protected:
  static void ExpectHeld(const Status& status) {
    EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
    EXPECT_NE(status.message().find("held by another process"), std::string::npos) << status.ToString();
    EXPECT_NE(status.message().find(kLockFileName), std::string::npos) << status.ToString();
  }
};

TEST_F(LogLockTest, SecondOpenInTheSameProcessFailsAndTheFirstKeepsServing) {
  auto first = OpenOrDie();
  ASSERT_NE(first, nullptr);
  ASSERT_EQ(AppendAndWait(first.get(), "a").durability, Durability::kTrue);
  const std::string segment_before = ReadWholeFile(SegmentPath(0));

  auto second = Log::Open(&fs_, options_, nullptr);
  ASSERT_FALSE(second.ok()) << "two Logs are open on " << directory_;
  ExpectHeld(second.status());
  EXPECT_NE(second.status().message().find(directory_), std::string::npos) << second.status().ToString();
  EXPECT_EQ(ReadWholeFile(SegmentPath(0)), segment_before) << "the refused Open changed the segment";

  AppendResult after = AppendAndWait(first.get(), "b");
  EXPECT_EQ(after.durability, Durability::kTrue);
  EXPECT_EQ(after.id, 1u);
  ASSERT_TRUE(first->Close().ok());

  auto reopened = OpenOrDie();
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(ReadAll(reopened.get()).size(), 2u);
}

// The child holds the log open; this process cannot open it until the child
// dies, and then can at once: kill -9 leaves no stale lock.
TEST_F(LogLockTest, OpenFailsWhileAnotherProcessHasTheLogOpen) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  // Forked before this process starts any thread (no Log is open here yet).
  pid_t child = ::fork();
  if (child == 0) {
    auto log = Log::Open(DefaultFileSystem(), options_, nullptr);
    bool ok = log.ok();
    if (ok) ok = AppendAndWait(log->get(), "from the child").durability == Durability::kTrue;
    char byte = ok ? 'y' : 'n';
    (void)!::write(ready[1], &byte, 1);
    for (;;) ::pause();
  }
  // Whatever fails below, the child does not outlive the test.
  struct ChildGuard {
    pid_t pid;
    ~ChildGuard() { Kill(); }
    void Kill() {
      if (pid <= 0) return;
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      pid = -1;
    }
  } child_guard{child};
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  ::close(ready[0]);
  ::close(ready[1]);
  ASSERT_EQ(byte, 'y') << "the child could not open the log";

  auto refused = Log::Open(DefaultFileSystem(), options_, nullptr);
  EXPECT_FALSE(refused.ok()) << "two processes have the log open";
  if (refused.ok()) {
    (void)(*refused)->Close();
  } else {
    ExpectHeld(refused.status());
    EXPECT_NE(refused.status().message().find("pid " + std::to_string(child)), std::string::npos)
        << refused.status().ToString();
  }
  auto repair = RepairLog(DefaultFileSystem(), directory_);
  EXPECT_FALSE(repair.ok()) << "repair ran under an open log";
  if (!repair.ok()) ExpectHeld(repair.status());

  child_guard.Kill();
  auto log = OpenOrDie(DefaultFileSystem());
  ASSERT_NE(log, nullptr);
  auto entries = ReadAll(log.get());
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].payload, "from the child");
}

// An Open that fails (here: corruption) must not keep the directory locked, or
// the repair it points to could not run.
TEST_F(LogLockTest, FailedOpenReleasesTheLock) {
  ASSERT_TRUE(DefaultFileSystem()->CreateDirectories(directory_).ok());
  std::string contents = EncodeSegmentHeader(0);
  AppendRecord(0, 0, 1, "kept", &contents);
  contents += std::string(kRecordHeaderSize, 'x');  // damage ...
  AppendRecord(2, 0, 1, "proves the damage is not a torn tail", &contents);
  testing::WriteWholeFile(SegmentPath(0), contents);

  auto opened = Log::Open(&fs_, options_, nullptr);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kCorruption) << opened.status().ToString();
  auto repaired = RepairLog(&fs_, directory_);
  ASSERT_TRUE(repaired.ok()) << repaired.status().ToString();
  EXPECT_TRUE(repaired->changed);
  EXPECT_NE(OpenOrDie(), nullptr);
}

}  // namespace
}  // namespace wal::log
