// The control plane's propagation half: watches the namespace store
// (control/namespace_store.h) and makes changes made elsewhere (another wald
// sharing the store, an operator's edit, a deploy) live here without a
// restart. It polls the store's revisions every interval and, for stores that
// push changes (PostgreSQL NOTIFY), also wakes as soon as one arrives.
//
// A changed or new entry is loaded and, when it differs from what the engine
// serves, applied with Engine::ReloadNamespace (no re-save). An entry that
// disappears unloads its namespace (data stays). An entry that fails to parse
// is logged once per change and leaves the namespace as it was. A store that
// cannot be reached is logged when it goes and when it comes back; meanwhile
// every namespace keeps its last config.
//
// Threading: Start/Stop from one thread; PollOnce is also safe to call
// directly. Ownership: `engine` and `store` outlive the watcher.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "control/namespace_store.h"
#include "engine/engine.h"
#include "server/metrics.h"

namespace wal::server {

class ConfigWatcher {
 public:
  // A config that is refused is counted in `metrics` (may be null; outlives the watcher).
  ConfigWatcher(engine::Engine* engine, control::NamespaceStore* store, std::chrono::milliseconds interval,
                Metrics* metrics = nullptr);
  ~ConfigWatcher();

  // Runs `poll` after every pass too (e.g. the shard map kept in the same
  // store). Call before Start().
  void AlsoPoll(std::function<void()> poll) { also_poll_ = std::move(poll); }

  // Polls every interval (interval 0: never) until Stop().
  void Start();
  void Stop();
  // One pass; returns how many namespaces were reloaded or unloaded.
  int PollOnce();

 private:
  // Shared with the store's change listener, which may outlive the watcher.
  struct Wakeup {
    std::mutex mutex;
    std::condition_variable condition;
    bool stopping = false;
    bool changed = false;
  };

  engine::Engine* engine_;
  control::NamespaceStore* store_;
  Metrics* metrics_;
  const std::chrono::milliseconds interval_;
  std::function<void()> also_poll_;
  std::map<std::string, std::string> seen_;  // namespace name -> its revision when last polled
  bool first_pass_ = true;
  bool store_reachable_ = true;
  std::mutex poll_mutex_;  // one PollOnce at a time
  std::shared_ptr<Wakeup> wakeup_ = std::make_shared<Wakeup>();
  std::thread thread_;
};

}  // namespace wal::server
