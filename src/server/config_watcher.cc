#include "server/config_watcher.h"

#include <dirent.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <vector>

namespace wal::server {
namespace {

bool IsConfigFile(const std::string& name) {
  if (name.empty() || name.front() == '.') return false;
  for (const char* extension : {".yaml", ".yml", ".json"}) {
    const std::string suffix(extension);
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) return true;
  }
  return false;
}

std::string Stem(const std::string& name) { return name.substr(0, name.rfind('.')); }

}  // namespace

ConfigWatcher::ConfigWatcher(engine::Engine* engine, FileSystem* file_system, std::string directory,
                             std::chrono::milliseconds interval)
    : engine_(engine), file_system_(file_system), directory_(std::move(directory)), interval_(interval) {}

ConfigWatcher::~ConfigWatcher() { Stop(); }

void ConfigWatcher::Start() {
  if (interval_.count() <= 0 || thread_.joinable()) return;
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      PollOnce();
      lock.lock();
      wake_.wait_for(lock, interval_, [this] { return stopping_; });
    }
  });
}

void ConfigWatcher::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

int ConfigWatcher::PollOnce() {
  std::map<std::string, FileState> current;
  if (DIR* dir = ::opendir(directory_.c_str())) {
    while (dirent* entry = ::readdir(dir)) {
      const std::string file_name = entry->d_name;
      if (!IsConfigFile(file_name)) continue;
      FileState state;
      state.path = directory_ + "/" + file_name;
      struct stat info {};
      if (::stat(state.path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) continue;
      state.mtime_ns = static_cast<int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 + info.st_mtim.tv_nsec;
      state.size = static_cast<int64_t>(info.st_size);
      state.inode = static_cast<uint64_t>(info.st_ino);
      // Two files for one name (orders.yaml and orders.json): the loader refuses
      // both; keep the first seen so the watcher stays deterministic per listing.
      current.emplace(Stem(file_name), std::move(state));
    }
    ::closedir(dir);
  } else {
    return 0;  // a missing directory is a transient condition (or a typo already reported at start)
  }

  int changed = 0;
  for (const auto& [name, state] : current) {
    auto previous = seen_.find(name);
    if (!first_pass_ && previous != seen_.end() && previous->second == state) continue;
    auto loaded = config::LoadNamespaceFile(file_system_, state.path);
    if (!loaded.ok()) {
      spdlog::warn("config store: {} not applied: {}", state.path, loaded.status().message());
      continue;
    }
    if (loaded->name != name) continue;  // the loader at start reports this mismatch
    auto served = engine_->GetNamespace(name);
    if (served.ok() && *served == *loaded) continue;
    // Failed to open at start: already reported; it is retried on its next change.
    if (first_pass_ && !served.ok() && engine_->NamespaceStatuses(name).ok()) continue;
    Status applied = engine_->ReloadNamespace(*loaded);
    if (applied.ok()) {
      spdlog::info("config store: namespace {} {} from {}", name, served.ok() ? "reloaded" : "loaded", state.path);
      ++changed;
    } else {
      spdlog::warn("config store: namespace {} from {} not applied: {}", name, state.path, applied.ToString());
    }
  }
  for (const auto& [name, state] : seen_) {
    if (current.count(name) != 0) continue;
    if (!engine_->GetNamespace(name).ok()) continue;  // deleted here already
    Status unloaded = engine_->UnloadNamespace(name);
    if (unloaded.ok()) {
      spdlog::info("config store: namespace {} unloaded ({} is gone; its data stays)", name, state.path);
      ++changed;
    }
  }
  seen_ = std::move(current);
  first_pass_ = false;
  return changed;
}

}  // namespace wal::server
