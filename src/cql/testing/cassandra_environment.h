// Test-only: one real Cassandra node per test binary, started by
// scripts/test-servers/cassandra.sh with PasswordAuthenticator (superuser
// cassandra/cassandra) on a free loopback port in a temp dir, and stopped at
// exit. Its native port takes plain and TLS clients; the node's certificate is
// CertFile(). Needs WAL_SOURCE_DIR (the test's compile definition), java and
// maven (or a filled cache).
//
//   ::testing::AddGlobalTestEnvironment(new wal::cql::testing::CassandraEnvironment);
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "common/testing/postgres_environment.h"  // FreeLoopbackPort

namespace wal::cql::testing {

class CassandraEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "wal_cassandra_XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data());
    port_ = wal::testing::FreeLoopbackPort();
    ASSERT_EQ(Control("start"), 0) << "scripts/test-servers/cassandra.sh start failed (see " << dir_
                                   << "/system.log)";
  }
  void TearDown() override {
    (void)Control("stop");
    std::filesystem::remove_all(dir_);
  }

  static int Port() { return port_; }
  static std::string CertFile() { return dir_ + "/tls/node.pem"; }
  // "start" (with auth), "stop" or "kill"; the script's exit status. A restart keeps the data.
  static int Control(const std::string& verb) {
    std::string command = Script() + " " + verb + " " + dir_;
    if (verb == "start") command += " " + std::to_string(port_) + " auth";
    command += " >>" + dir_ + "/control.log 2>&1";
    return std::system(command.c_str());
  }
  // The venv python with the pinned cassandra-driver (created on first use), or "".
  static std::string PythonWithDriver() {
    std::string out;
    FILE* pipe = ::popen((Script() + " pydriver 2>>" + dir_ + "/control.log").c_str(), "r");
    if (pipe == nullptr) return out;
    std::array<char, 512> buffer;
    while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr) out += buffer.data();
    if (::pclose(pipe) != 0) return "";
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
  }
  static std::string ReadRowsScript() {
    return std::string(WAL_SOURCE_DIR) + "/scripts/test-servers/cassandra/read_rows.py";
  }

 private:
  static std::string Script() { return std::string(WAL_SOURCE_DIR) + "/scripts/test-servers/cassandra.sh"; }

  static inline std::string dir_;
  static inline int port_ = 0;
};

}  // namespace wal::cql::testing
