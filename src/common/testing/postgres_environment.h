// Test-only: one real PostgreSQL per test binary, started by
// scripts/test-servers/postgres.sh on a free loopback port in a temp dir and
// stopped at exit. Needs WAL_SOURCE_DIR (the test's compile definition).
//
//   const auto* const kPostgres = ::testing::AddGlobalTestEnvironment(new wal::testing::PostgresEnvironment);
//   ... wal::testing::PostgresEnvironment::Dsn() ...
#pragma once

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace wal::testing {

// A port nothing listens on right now (the kernel's pick for an ephemeral bind).
inline int FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

class PostgresEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "wal_pg_XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data());
    port_ = FreeLoopbackPort();
    ASSERT_EQ(Control("start"), 0) << "scripts/test-servers/postgres.sh start failed";
  }
  void TearDown() override {
    (void)Control("stop");
    std::filesystem::remove_all(dir_);
  }
  static std::string Dsn() { return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=wal user=wal"; }
  // "start" or "stop" (a restart keeps the data); the script's exit status.
  static int Control(const std::string& verb) {
    const std::string command = std::string(WAL_SOURCE_DIR) + "/scripts/test-servers/postgres.sh " + verb + " " +
                                dir_ + " " + std::to_string(port_) + " >/dev/null";
    return std::system(command.c_str());
  }

 private:
  static inline std::string dir_;
  static inline int port_ = 0;
};

}  // namespace wal::testing
