// The control plane's propagation half (issue 7): watches the namespace config
// store and makes changes made elsewhere (another wald sharing the directory,
// an operator's edit, a deploy) live here within a poll interval, without a
// restart. Directory store: polls file mtimes/sizes/inodes every interval.
//
// A changed or new file is parsed and, when it differs from what the engine
// serves, applied with Engine::ReloadNamespace (no re-save). A file that
// disappears unloads its namespace (data stays). A file that fails to parse is
// logged once per change and leaves the namespace as it was.
//
// Threading: Start/Stop from one thread; PollOnce is also safe to call directly.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "engine/engine.h"

namespace wal::server {

class ConfigWatcher {
 public:
  ConfigWatcher(engine::Engine* engine, FileSystem* file_system, std::string directory,
                std::chrono::milliseconds interval);
  ~ConfigWatcher();

  void Start();
  void Stop();
  // One pass; returns how many namespaces were reloaded or unloaded.
  int PollOnce();

 private:
  struct FileState {
    std::string path;
    int64_t mtime_ns = 0;
    int64_t size = 0;
    uint64_t inode = 0;
    bool operator==(const FileState&) const = default;
  };

  engine::Engine* engine_;
  FileSystem* file_system_;
  const std::string directory_;
  const std::chrono::milliseconds interval_;
  std::map<std::string, FileState> seen_;  // namespace name -> its file when last polled
  bool first_pass_ = true;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace wal::server
