// One wald per data directory: a second wald (or `wald --repair`) started on
// the data directory of a serving wald exits at once, non-zero, saying the
// directory is in use, before it listens or opens a log; the first keeps
// serving. A killed wald leaves no stale lock.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "wald_process.h"

namespace wal::testing {
namespace {

constexpr const char* kNamespace = "name: orders\nbackend: {type: local}\n";

// Starts `wald` with one local namespace, "orders", and writes `payload` to it.
void StartAndWrite(WaldProcess& wald, const std::string& payload) {
  wald.WriteNamespaceFile("orders", kNamespace);
  wald.Start();
  CommandResult written = wald.Walctl({"--json", "write", "orders", payload});
  ASSERT_EQ(written.exit_code, 0) << written.output;
}

// wald on `wald`'s data and namespace directories, on ports of its own.
CommandResult RunSecondWald(const WaldProcess& wald, int grpc_port, int http_port) {
  return RunCommand({WALD_BINARY, "--data-dir", wald.data_dir(), "--namespaces", wald.namespaces_dir(), "--grpc-listen",
                     "127.0.0.1:" + std::to_string(grpc_port), "--http-listen",
                     "127.0.0.1:" + std::to_string(http_port)},
                    "", std::chrono::seconds(30));
}

TEST(DataDirLockTest, SecondWaldOnOneDataDirExitsWithAMessageAndTheFirstKeepsServing) {
  TempDir dir;
  WaldProcess first(dir.path());
  ASSERT_NO_FATAL_FAILURE(StartAndWrite(first, "before"));

  const int grpc_port = FreePort();
  const int http_port = FreePort();
  CommandResult second = RunSecondWald(first, grpc_port, http_port);
  // A second wald that started serving would run until the 30 s bound killed it.
  EXPECT_EQ(second.exit_code, 1) << second.output;
  EXPECT_NE(second.output.find("data directory " + first.data_dir() + " is in use by another wald"),
            std::string::npos)
      << second.output;
  EXPECT_NE(second.output.find("wald.lock is locked: held by another process"), std::string::npos) << second.output;
  EXPECT_EQ(ConnectLoopback(http_port), -1);

  CommandResult written = first.Walctl({"--json", "write", "orders", "after"});
  EXPECT_EQ(written.exit_code, 0) << written.output;
  EXPECT_EQ(first.Stop(), 0);
}

TEST(DataDirLockTest, RepairRefusesTheDataDirOfAServingWald) {
  TempDir dir;
  WaldProcess wald(dir.path());
  ASSERT_NO_FATAL_FAILURE(StartAndWrite(wald, "x"));

  CommandResult repair = RunCommand({WALD_BINARY, "--repair", "--data-dir", wald.data_dir()});
  EXPECT_EQ(repair.exit_code, 1) << repair.output;
  EXPECT_NE(repair.output.find("is in use by another wald"), std::string::npos) << repair.output;

  CommandResult written = wald.Walctl({"--json", "write", "orders", "still serving"});
  EXPECT_EQ(written.exit_code, 0) << written.output;
  EXPECT_EQ(wald.Stop(), 0);
  repair = RunCommand({WALD_BINARY, "--repair", "--data-dir", wald.data_dir()});
  EXPECT_EQ(repair.exit_code, 0) << repair.output;
}

// The kernel drops the lock with the process: after kill -9 a new wald starts
// on the same data directory at once and has what the first acknowledged.
TEST(DataDirLockTest, KilledWaldLeavesNoStaleLock) {
  TempDir dir;
  WaldProcess wald(dir.path());
  ASSERT_NO_FATAL_FAILURE(StartAndWrite(wald, "acknowledged"));
  wald.Kill();

  wald.Start();
  CommandResult read = wald.Walctl({"--json", "log", "read", "orders"});
  EXPECT_EQ(read.exit_code, 0) << read.output;
  EXPECT_NE(read.output.find("YWNrbm93bGVkZ2Vk"), std::string::npos) << read.output;  // base64 "acknowledged"
  EXPECT_EQ(wald.Stop(), 0);
}

}  // namespace
}  // namespace wal::testing
