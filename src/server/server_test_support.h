// What the server's unit tests share: a temporary directory, file writes that
// a watcher sees atomically or in place, a captured log, and an engine over
// namespace files written for the test. Test-only.
#pragma once

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "engine/engine.h"
#include "modules/builtin_modules.h"

namespace wal::server::testing {

// A fresh directory under the system's temp dir, removed with everything in it.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "wal-server-test") {
    std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Writes a new file and renames it over `path`, so a reader never sees half.
inline void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path + ".tmp");
  out << text;
  out.close();
  std::filesystem::rename(path + ".tmp", path);
}

// Rewrites `path` in place (same inode), as an editor or `>` does.
inline void Overwrite(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::trunc) << text;
}

// Sends spdlog's default logger to a string for the object's lifetime.
class CapturedLog {
 public:
  CapturedLog() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_);
    sink->set_pattern("%l %v");
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("captured", sink));
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  CapturedLog(const CapturedLog&) = delete;
  CapturedLog& operator=(const CapturedLog&) = delete;
  std::string text() const { return stream_.str(); }
  int Count(const std::string& needle) const {
    const std::string all = text();
    int count = 0;
    for (size_t at = all.find(needle); at != std::string::npos; at = all.find(needle, at + 1)) ++count;
    return count;
  }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::ostringstream stream_;
};

// An engine over a temp dir with the namespaces given as name -> YAML body,
// built with every module of the build.
class EngineFixture : public ::testing::Test {
 protected:
  void Open(const std::map<std::string, std::string>& namespaces) {
    std::filesystem::create_directories(ns_dir());
    for (const auto& [name, yaml] : namespaces) WriteFile(ns_dir() + "/" + name + ".yaml", yaml);
    engine::EngineOptions options{DefaultFileSystem(), dir_.path() + "/data", ns_dir(), engine::Role::kProducer, ""};
    const modules::ModuleRegistry& modules = modules::BuiltinModules();
    options.modules = {&modules.catalog(), &modules, &modules, &modules};
    auto created = engine::Engine::Create(options);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    engine_ = std::move(created).value();
  }
  std::string ns_dir() const { return dir_.path() + "/ns"; }

  TempDir dir_;
  std::unique_ptr<engine::Engine> engine_;
};

}  // namespace wal::server::testing
