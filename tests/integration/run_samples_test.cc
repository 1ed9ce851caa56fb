// What `make run` gives a newcomer, through the real scripts and binaries:
// the personas' embedded samples all serve with no server the user started,
// and a target's relative file path lands under the data directory whatever
// directory wald runs in.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "wald_process.h"

namespace wal::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

bool WaitFor(const std::function<bool()>& condition, std::chrono::seconds timeout = 30s) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (condition()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return condition();
}

TEST(RunSamples, ARelativeSqlitePathIsUnderTheDataDirectory) {
  TempDir dir;
  WaldProcess wald(dir.path());
  wald.WriteNamespaceFile("relative", "name: relative\nbackend: {type: local}\n"
                                      "target: {type: sqlite, path: targets/relative.db}\n");
  wald.Start();
  CommandResult written = wald.Walctl({"write", "relative", "--op", "put", "--key", "k", "v"});
  ASSERT_EQ(written.exit_code, 0) << written.output;
  const fs::path expected = fs::path(wald.data_dir()) / "targets" / "relative.db";
  EXPECT_TRUE(WaitFor([&] { return fs::exists(expected); })) << expected;
  EXPECT_FALSE(fs::exists(fs::current_path() / "targets" / "relative.db"));
}

// scripts/run.sh is what `make run` runs after the build: it seeds the run
// directory and starts the caches the samples deliver to.
TEST(RunSamples, MakeRunServesEverySampleNamespace) {
  TempDir dir;
  const std::string run_dir = dir.path() + "/run";
  const int grpc_port = FreePort();
  const int http_port = FreePort();
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::setpgid(0, 0);  // its own group, so the caches it starts are stopped with it
    ::chdir(WAL_SOURCE_DIR);
    const std::string wald = WaldBinary();
    const std::string build_dir = fs::path(wald).parent_path().parent_path().parent_path().string();
    const std::string grpc = "127.0.0.1:" + std::to_string(grpc_port);
    const std::string http = "127.0.0.1:" + std::to_string(http_port);
    ::execlp("bash", "bash", "scripts/run.sh", build_dir.c_str(), run_dir.c_str(), "--grpc-listen", grpc.c_str(),
             "--http-listen", http.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  struct Stop {
    pid_t pid;
    ~Stop() {
      ::kill(-pid, SIGTERM);
      int status = 0;
      for (int i = 0; i < 100 && ::waitpid(pid, &status, WNOHANG) == 0; ++i) std::this_thread::sleep_for(100ms);
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
    }
  } stop{pid};
  const std::string walctl_server = "127.0.0.1:" + std::to_string(grpc_port);
  auto status = [&] { return RunCommand({WalctlBinary(), "--server", walctl_server, "--json", "status"}); };
  ASSERT_TRUE(WaitFor([&] { return status().exit_code == 0; }, 60s)) << status().output;
  // Every sample namespace is served, and none is waiting on a target it cannot reach.
  for (const std::string name : {"delayed-deletes", "evcache-replication-local", "kv-mutations-local"}) {
    SCOPED_TRACE(name);
    CommandResult written =
        RunCommand({WalctlBinary(), "--server", walctl_server, "write", name, "--op", "put", "--key", "k", "v"});
    EXPECT_EQ(written.exit_code, 0) << written.output;
  }
  auto delivered = [&](const std::string& name) {
    CommandResult shown = RunCommand({WalctlBinary(), "--server", walctl_server, "--json", "status", name});
    auto json = nlohmann::json::parse(shown.output, nullptr, false);
    if (json.is_discarded() || !json.contains("namespaces") || json["namespaces"].empty()) return false;
    const auto& entry = json["namespaces"][0];
    return entry.value("pending", std::string("1")) == "0" && entry.value("dead_letters", std::string("0")) == "0";
  };
  // Delivered, not dead-lettered (the delayed-deletes sample jitters up to 5 s).
  for (const std::string name : {"delayed-deletes", "evcache-replication-local", "kv-mutations-local"}) {
    EXPECT_TRUE(WaitFor([&] { return delivered(name); }, 60s))
        << name << ": " << RunCommand({WalctlBinary(), "--server", walctl_server, "--json", "status", name}).output;
  }
  // Small enough for a laptop: the samples' logs reserve tens of MiB, not GiBs.
  uintmax_t bytes = 0;
  for (const auto& entry : fs::recursive_directory_iterator(run_dir)) {
    if (entry.is_regular_file()) bytes += entry.file_size();
  }
  EXPECT_LT(bytes, 400ull << 20);
}

}  // namespace
}  // namespace wal::testing
