#include "server/config_watcher.h"

#include <spdlog/spdlog.h>

#include "common/log_context.h"

namespace wal::server {

ConfigWatcher::ConfigWatcher(engine::Engine* engine, control::NamespaceStore* store,
                             std::chrono::milliseconds interval, Metrics* metrics)
    : engine_(engine), store_(store), metrics_(metrics), interval_(interval) {}

ConfigWatcher::~ConfigWatcher() { Stop(); }

void ConfigWatcher::Start() {
  if (interval_.count() <= 0 || thread_.joinable()) return;
  std::weak_ptr<Wakeup> weak = wakeup_;
  store_->SetChangeListener([weak] {
    if (auto wakeup = weak.lock()) {
      std::lock_guard lock(wakeup->mutex);
      wakeup->changed = true;
      wakeup->condition.notify_all();
    }
  });
  thread_ = std::thread([this, wakeup = wakeup_] {
    std::unique_lock lock(wakeup->mutex);
    while (!wakeup->stopping) {
      wakeup->changed = false;
      lock.unlock();
      PollOnce();
      if (also_poll_) also_poll_();
      lock.lock();
      wakeup->condition.wait_for(lock, interval_, [&] { return wakeup->stopping || wakeup->changed; });
    }
  });
}

void ConfigWatcher::Stop() {
  {
    std::lock_guard lock(wakeup_->mutex);
    wakeup_->stopping = true;
  }
  wakeup_->condition.notify_all();
  if (thread_.joinable()) thread_.join();
}

int ConfigWatcher::PollOnce() {
  std::lock_guard poll_lock(poll_mutex_);
  // Taken before the listing: a namespace this instance's admin API adds after
  // this point is in the store before it is served, so it is never mistaken
  // for one the store dropped.
  const std::vector<std::string> served_before = engine_->ListNamespaces();
  auto revisions = store_->Revisions();
  if (!revisions.ok()) {
    if (store_reachable_) {
      spdlog::warn("config store: {} cannot be read ({}); namespaces keep their last config", store_->Describe(),
                   revisions.status().message());
      store_reachable_ = false;
    }
    return 0;
  }
  if (!store_reachable_) {
    spdlog::info("config store: {} is readable again", store_->Describe());
    store_reachable_ = true;
  }

  int changed = 0;
  for (const auto& [name, revision] : *revisions) {
    auto previous = seen_.find(name);
    if (!first_pass_ && previous != seen_.end() && previous->second == revision) continue;
    LogNamespaceScope log_namespace(name);
    auto loaded = store_->Load(name);
    if (!loaded.ok()) {
      spdlog::warn("config store: namespace {} not applied: {}", name, loaded.status().message());
      if (metrics_ != nullptr) metrics_->ConfigRejected(ConfigSource::kStore);
      continue;
    }
    auto served = engine_->GetNamespace(name);
    if (served.ok() && *served == *loaded) continue;
    // Failed to open at start: already reported; it is retried on its next change.
    if (first_pass_ && !served.ok() && engine_->NamespaceStatuses(name).ok()) continue;
    Status applied = engine_->ReloadNamespace(*loaded);
    if (applied.ok()) {
      spdlog::info("config store: namespace {} {} from {}", name, served.ok() ? "reloaded" : "loaded",
                   store_->Describe());
      ++changed;
    } else {
      spdlog::warn("config store: namespace {} from {} not applied: {}", name, store_->Describe(), applied.ToString());
      if (metrics_ != nullptr) metrics_->ConfigRejected(ConfigSource::kStore);
    }
  }
  // Compared with what is served, not with the last listing: an instance that
  // started from the cache during an outage must still drop a namespace that
  // was deleted meanwhile.
  for (const std::string& name : served_before) {
    if (revisions->count(name) != 0) continue;
    if (!engine_->GetNamespace(name).ok()) continue;  // deleted here already
    Status unloaded = engine_->UnloadNamespace(name);
    if (unloaded.ok()) {
      spdlog::info("config store: namespace {} unloaded (it left {}; its data stays)", name, store_->Describe());
      ++changed;
    }
  }
  seen_ = std::move(revisions).value();
  first_pass_ = false;
  return changed;
}

}  // namespace wal::server
