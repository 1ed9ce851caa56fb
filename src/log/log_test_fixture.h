// Test-only: a fixture for tests of wal::log::Log that run against a fresh
// directory under the test temp dir, with helpers to append synchronously, to
// commit several appends as one group, and to read and patch segment files.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <future>
#include <sstream>
#include <string>
#include <vector>

#include "common/fault_injecting_file_system.h"
#include "log/log.h"
#include "log/record_format.h"

namespace wal::log::testing {

inline std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

inline void WriteWholeFile(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
}

inline uint64_t FileSize(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return 0;
  return static_cast<uint64_t>(info.st_size);
}

class LogTestBase : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    directory_ = JoinPath(::testing::TempDir(), "wal_log_test_" + std::to_string(::getpid()) + "_" +
                                                    info->test_suite_name() + "_" + info->name());
    ASSERT_TRUE(DefaultFileSystem()->RemoveAll(directory_).ok());
    options_.directory = directory_;
  }
  void TearDown() override { (void)DefaultFileSystem()->RemoveAll(directory_); }

  std::unique_ptr<Log> OpenOrDie(FileSystem* file_system = nullptr, RecoveryReport* report = nullptr) {
    auto log = Log::Open(file_system ? file_system : &fs_, options_, report);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? std::move(log).value() : nullptr;
  }

  // Appends and waits for the callback.
  static AppendResult AppendAndWait(Log* log, std::string payload) {
    std::promise<AppendResult> done;
    auto future = done.get_future();
    log->Append(std::move(payload), [&done](const AppendResult& result) { done.set_value(result); });
    return future.get();
  }

  // Commits `payloads` as one group (one write, one fdatasync): the commit
  // thread is held in a callback of a first append (`lead`, its own group) while
  // they queue, so it then takes all of them at once. `while_held` runs while the
  // lead is durable and the group not yet written.
  static std::vector<AppendResult> AppendLeadThenGroup(Log* log, std::string lead, std::vector<std::string> payloads,
                                                       const std::function<void()>& while_held = {}) {
    std::promise<void> lead_running;
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    log->Append(std::move(lead), [&lead_running, released](const AppendResult&) {
      lead_running.set_value();
      released.wait();
    });
    lead_running.get_future().wait();
    if (while_held) while_held();
    std::vector<std::promise<AppendResult>> done(payloads.size());
    for (size_t i = 0; i < payloads.size(); ++i) {
      log->Append(std::move(payloads[i]), [&done, i](const AppendResult& result) { done[i].set_value(result); });
    }
    release.set_value();
    std::vector<AppendResult> results;
    for (auto& promise : done) results.push_back(promise.get_future().get());
    return results;
  }

  static std::vector<LogEntry> ReadAll(Log* log, uint64_t from = 0) {
    auto entries = log->Read(from, SIZE_MAX, SIZE_MAX);
    EXPECT_TRUE(entries.ok()) << entries.status().ToString();
    return entries.ok() ? std::move(entries).value() : std::vector<LogEntry>{};
  }

  std::string SegmentPath(uint64_t first_id) const { return JoinPath(directory_, SegmentFileName(first_id)); }

  std::vector<std::string> SegmentNames() {
    auto names = DefaultFileSystem()->ListDirectory(directory_);
    EXPECT_TRUE(names.ok());
    std::vector<std::string> segments;
    for (auto& name : names.value()) {
      if (ParseSegmentFileName(name)) segments.push_back(name);
    }
    return segments;
  }

  // Overwrites bytes [offset, offset + length) of `path` with zeros, as a power
  // loss does to pages the disk never received.
  static void ZeroRange(const std::string& path, uint64_t offset, uint64_t length) {
    std::string contents = ReadWholeFile(path);
    ASSERT_LE(offset + length, contents.size());
    std::fill(contents.begin() + static_cast<std::ptrdiff_t>(offset),
              contents.begin() + static_cast<std::ptrdiff_t>(offset + length), '\0');
    WriteWholeFile(path, contents);
  }

  static std::string PayloadFor(uint64_t i) { return "payload-" + std::to_string(i); }

  std::string directory_;
  LogOptions options_;
  FaultInjectingFileSystem fs_{DefaultFileSystem()};
};

}  // namespace wal::log::testing
