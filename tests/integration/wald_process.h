// Test support: runs a real wald process on loopback with its own data and
// namespace directories, and runs walctl as a subprocess.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <string>
#include <vector>

namespace wal::testing {

// The wald and walctl binaries WaldProcess runs: this build's, unless
// $WAL_TEST_WALD / $WAL_TEST_WALCTL name others (to run a new test against an
// older build and see it fail before its fix).
std::string WaldBinary();
std::string WalctlBinary();

// A fresh directory under $TMPDIR, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A loopback TCP port that was free a moment ago.
int FreePort();

// A socket connected to 127.0.0.1:`port`, or -1 when nothing listens there.
int ConnectLoopback(int port);

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout
};

// Runs `argv` to completion with `input` on stdin; bounded by `timeout`.
CommandResult RunCommand(const std::vector<std::string>& argv, const std::string& input = "",
                         std::chrono::seconds timeout = std::chrono::seconds(60));

class WaldProcess {
 public:
  // `root` holds data/ and namespaces/; ports are picked on construction and kept
  // across restarts.
  explicit WaldProcess(std::string root);
  ~WaldProcess();

  // Arguments added to wald's command line on every Start(), after the ones
  // this class passes (e.g. {"--config", file} for server settings).
  std::vector<std::string> extra_args;

  // Starts wald and waits until both gRPC and HTTP answer (fails the test on timeout).
  void Start();
  // SIGKILL, then reap.
  void Kill();
  // SIGTERM, then wait for a clean exit; returns the exit status.
  int Stop();
  bool running() const { return pid_ > 0; }

  std::string grpc_address() const { return "127.0.0.1:" + std::to_string(grpc_port_); }
  int http_port() const { return http_port_; }
  std::string namespaces_dir() const { return root_ + "/namespaces"; }
  std::string data_dir() const { return root_ + "/data"; }
  std::shared_ptr<grpc::Channel> Channel() const;

  // Writes a namespace file (YAML) before Start().
  void WriteNamespaceFile(const std::string& name, const std::string& yaml) const;

  // walctl --server <this> <args...>
  CommandResult Walctl(const std::vector<std::string>& args, const std::string& input = "") const;

 private:
  std::string root_;
  int grpc_port_;
  int http_port_;
  int pid_ = -1;
};

}  // namespace wal::testing
