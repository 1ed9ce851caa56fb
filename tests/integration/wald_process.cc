#include "wald_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

namespace wal::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/wal-test-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  char* made = ::mkdtemp(buffer.data());
  if (made == nullptr) std::abort();
  path_ = made;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  int port = ntohs(address.sin_port);
  ::close(fd);
  return port;
}

int ConnectLoopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

namespace {

pid_t Spawn(const std::vector<std::string>& argv, int stdin_fd, int stdout_fd, const std::string& log_path) {
  pid_t pid = ::fork();
  if (pid == 0) {
    if (stdin_fd >= 0) ::dup2(stdin_fd, 0);
    if (stdout_fd >= 0) ::dup2(stdout_fd, 1);
    if (!log_path.empty()) {
      int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (log >= 0) {
        ::dup2(log, 2);
        if (stdout_fd < 0) ::dup2(log, 1);
      }
    }
    std::vector<char*> args;
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

}  // namespace

CommandResult RunCommand(const std::vector<std::string>& argv, const std::string& input, std::chrono::seconds timeout) {
  int in_pipe[2];
  int out_pipe[2];
  // CLOEXEC so the child holds only its own ends (dup2 clears the flag on 0 and 1);
  // otherwise its inherited copy of the stdin write end would keep EOF from coming.
  if (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0) return {};
  pid_t pid = Spawn(argv, in_pipe[0], out_pipe[1], "");
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  // Feed stdin from a thread so a large input cannot deadlock against stdout.
  std::thread feeder([fd = in_pipe[1], input] {
    size_t written = 0;
    while (written < input.size()) {
      ssize_t n = ::write(fd, input.data() + written, input.size() - written);
      if (n <= 0) break;
      written += static_cast<size_t>(n);
    }
    ::close(fd);
  });
  CommandResult result;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buffer[65536];
  while (true) {
    pollfd descriptor{out_pipe[0], POLLIN, 0};
    int ready = ::poll(&descriptor, 1, 100);
    if (ready > 0) {
      ssize_t n = ::read(out_pipe[0], buffer, sizeof(buffer));
      if (n <= 0) break;
      result.output.append(buffer, static_cast<size_t>(n));
    }
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      break;
    }
  }
  ::close(out_pipe[0]);
  feeder.join();
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::string WaldBinary() {
  const char* other = std::getenv("WAL_TEST_WALD");
  return other != nullptr && *other != '\0' ? other : WALD_BINARY;
}

std::string WalctlBinary() {
  const char* other = std::getenv("WAL_TEST_WALCTL");
  return other != nullptr && *other != '\0' ? other : WALCTL_BINARY;
}

WaldProcess::WaldProcess(std::string root) : root_(std::move(root)), grpc_port_(FreePort()), http_port_(FreePort()) {
  std::filesystem::create_directories(namespaces_dir());
  std::filesystem::create_directories(data_dir());
}

WaldProcess::~WaldProcess() {
  if (running()) Kill();
}

void WaldProcess::WriteNamespaceFile(const std::string& name, const std::string& yaml) const {
  std::ofstream(namespaces_dir() + "/" + name + ".yaml") << yaml;
}

std::shared_ptr<grpc::Channel> WaldProcess::Channel() const {
  return grpc::CreateChannel(grpc_address(), grpc::InsecureChannelCredentials());
}

void WaldProcess::Start() {
  ASSERT_FALSE(running());
  std::vector<std::string> argv = {WaldBinary(), "--data-dir", data_dir(), "--namespaces", namespaces_dir(),
                                   "--grpc-listen", grpc_address(), "--http-listen",
                                   "127.0.0.1:" + std::to_string(http_port_), "--log-level", "warn"};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  pid_ = Spawn(argv, -1, -1, root_ + "/wald.log");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      std::ifstream log(root_ + "/wald.log");
      std::string text((std::istreambuf_iterator<char>(log)), {});
      FAIL() << "wald exited during start-up:\n" << text;
    }
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<uint16_t>(http_port_));
    bool http_up = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    ::close(fd);
    if (http_up) {
      auto channel = Channel();
      if (channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(2))) return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  FAIL() << "wald did not become ready within 30 s";
}

void WaldProcess::Kill() {
  if (!running()) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

int WaldProcess::Stop() {
  if (!running()) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  for (int waited = 0; waited < 300; ++waited) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  Kill();
  return -1;
}

CommandResult WaldProcess::Walctl(const std::vector<std::string>& args, const std::string& input) const {
  std::vector<std::string> argv = {WalctlBinary(), "--server", grpc_address()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, input);
}

}  // namespace wal::testing
