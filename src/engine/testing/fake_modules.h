// FakeModules: everything EngineOptions::modules needs, made of fakes, so an
// engine test runs a namespace end to end in memory: backend type "fake"
// (FakeBackend), target type "fake" (one shared FakeTarget) and
// durable_storage type "fake" (FakeSetStore, mutation sets kept in a map).
// FakeNamespace() is a namespace config using all three.
//
// Threading: the factories are thread-safe. backend(name) is valid while the
// namespace is open (the engine owns the backend).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "config/module_catalog.h"
#include "engine/engine.h"
#include "engine/testing/fake_backend.h"
#include "engine/testing/fake_target.h"
#include "sets/set_store.h"

namespace wal::engine::testing {

// A sets::SetStore in a map: persists at once, in order.
class FakeSetStore final : public sets::SetStore {
 public:
  std::string_view type() const override { return FakeSettings::kType; }
  void Persist(const std::string& set_id, std::vector<std::string> chunks, sets::PersistCallback done) override {
    uint64_t order = 0;
    {
      std::lock_guard lock(mutex_);
      sets::StoredSet& stored = sets_[set_id];
      stored = sets::StoredSet{};
      for (std::string& chunk : chunks) stored.serialized += chunk;
      stored.order = order = ++next_order_;
    }
    done(sets::PersistOutcome{Status::Ok(), order});
  }
  Result<sets::StoredSet> Load(const std::string& set_id) override {
    std::lock_guard lock(mutex_);
    auto found = sets_.find(set_id);
    if (found == sets_.end()) return NotFound("fake set store: no set " + set_id);
    return found->second;
  }
  Status RecordProgress(const std::string& set_id, uint64_t applied_through) override {
    std::lock_guard lock(mutex_);
    auto found = sets_.find(set_id);
    if (found == sets_.end()) return NotFound("fake set store: no set " + set_id);
    found->second.applied_through = applied_through;
    return Status::Ok();
  }
  Status SetState(const std::string& set_id, sets::SetState state) override {
    std::lock_guard lock(mutex_);
    if (state == sets::SetState::kDone || state == sets::SetState::kDiscarded) {
      sets_.erase(set_id);
    } else if (auto found = sets_.find(set_id); found != sets_.end()) {
      found->second.state = state;
    }
    return Status::Ok();
  }
  void DiscardAsync(const std::string& set_id) override { (void)SetState(set_id, sets::SetState::kDiscarded); }
  Result<std::vector<sets::LiveSet>> ListLive() override {
    std::lock_guard lock(mutex_);
    std::vector<sets::LiveSet> live;
    for (const auto& [id, stored] : sets_) live.push_back({id, stored.state});
    return live;
  }
  Status Close() override { return Status::Ok(); }

 private:
  std::mutex mutex_;
  std::map<std::string, sets::StoredSet> sets_;
  uint64_t next_order_ = 0;
};

class FakeModules final : public queue::BackendFactory, public sets::SetStoreFactory {
 public:
  // Backends read "now" from `clock` (outlives this).
  explicit FakeModules(const Clock& clock = SystemClock())
      : clock_(clock), target_(std::make_shared<FakeTarget>()), targets_(target_) {
    const Status added[] = {
        catalog_.Add(config::ModuleKind::kBackend, config::SchemaFor<FakeSettings>()),
        catalog_.Add(config::ModuleKind::kTarget, config::SchemaFor<FakeSettings>()),
        catalog_.Add(config::ModuleKind::kDurableStorage, config::SchemaFor<FakeSettings>()),
    };
    for (const Status& status : added) {
      if (!status.ok() && status_.ok()) status_ = status;
    }
  }

  // What EngineOptions::modules takes; valid while this lives.
  EngineModules modules() const { return EngineModules{&catalog_, this, &targets_, this}; }
  // OK unless the catalog refused a fake (a bug in this header).
  const Status& status() const { return status_; }
  FakeTarget& target() { return *target_; }
  // The backend the engine opened last for namespace `name`, or null.
  FakeBackend* backend(const std::string& name) const {
    std::lock_guard lock(mutex_);
    auto found = backends_.find(name);
    return found == backends_.end() ? nullptr : found->second;
  }

  // queue::BackendFactory
  Result<std::unique_ptr<queue::Backend>> Open(const queue::BackendContext&,
                                               const config::NamespaceConfig& config) const override {
    if (config.backend.type() != FakeSettings::kType) {
      return Unavailable("backend.type: this build has only 'fake', got '" + std::string(config.backend.type()) + "'");
    }
    auto backend = std::make_unique<FakeBackend>(clock_);
    std::lock_guard lock(mutex_);
    backends_[config.name] = backend.get();
    return std::unique_ptr<queue::Backend>(std::move(backend));
  }
  queue::BackendTraits Traits(std::string_view) const override {
    queue::BackendTraits traits;
    traits.reads_are_complete = true;  // Read and ListDeadLetters see everything the fake holds
    return traits;
  }

  // sets::SetStoreFactory
  Result<std::unique_ptr<sets::SetStore>> Open(const config::DurableStorageConfig& config,
                                               const sets::SetStoreContext&) const override {
    if (config.type() != FakeSettings::kType) {
      return Unavailable("durable_storage.type: this build has only 'fake', got '" + std::string(config.type()) + "'");
    }
    return std::unique_ptr<sets::SetStore>(std::make_unique<FakeSetStore>());
  }

 private:
  const Clock& clock_;
  config::ModuleCatalog catalog_;
  std::shared_ptr<FakeTarget> target_;
  FakeTargetFactory targets_;
  Status status_;
  mutable std::mutex mutex_;
  mutable std::map<std::string, FakeBackend*> backends_;
};

// A namespace `name` on the fake backend, target and set store, with the
// defaults of every other setting.
inline config::NamespaceConfig FakeNamespace(const std::string& name) {
  config::NamespaceConfig config;
  config.name = name;
  config.backend.settings = config::ModuleConfig::Of(FakeSettings{});
  config.target.settings = config::ModuleConfig::Of(FakeSettings{});
  config.durable_storage.settings = config::ModuleConfig::Of(FakeSettings{});
  config::FillNamespaceDefaults(&config);
  return config;
}

}  // namespace wal::engine::testing
