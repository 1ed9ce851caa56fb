// The composition of the build's modules: every queue backend, target and
// mutation-set store, with the catalog that decodes their settings and the
// factories the engine opens them through.
//
// One ModuleRegistry serves the process (BuiltinModules() in
// builtin_modules.h); tests may build their own with fakes.
//
// Threading: fill it with Add* before sharing it; after that every const
// method is safe from any thread. Failure: Add* refuses a name already taken
// (kAlreadyExists); the factories answer kUnavailable for a type this build
// does not have.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/module_catalog.h"
#include "queue/queue.h"
#include "sets/set_store.h"
#include "target/target.h"

namespace wal::modules {

class ModuleRegistry final : public queue::BackendFactory, public target::TargetFactory, public sets::SetStoreFactory {
 public:
  ModuleRegistry() = default;

  Status Add(queue::BackendModule module);
  Status Add(target::TargetModule module);
  Status Add(sets::SetStoreModule module);

  // Decodes the settings of every module added.
  const config::ModuleCatalog& catalog() const { return catalog_; }

  // queue::BackendFactory
  Result<std::unique_ptr<queue::Backend>> Open(const queue::BackendContext& context,
                                               const config::NamespaceConfig& config) const override;
  queue::BackendTraits Traits(std::string_view type) const override;

  // target::TargetFactory
  Result<std::unique_ptr<target::Target>> Create(const config::TargetConfig& config,
                                                 const target::TargetEnvironment& environment) const override;
  bool RegionalDelivery(std::string_view type) const override;

  // sets::SetStoreFactory
  Result<std::unique_ptr<sets::SetStore>> Open(const config::DurableStorageConfig& config,
                                               const sets::SetStoreContext& context) const override;

 private:
  const queue::BackendModule* FindBackend(std::string_view type) const;
  const target::TargetModule* FindTarget(std::string_view type) const;

  config::ModuleCatalog catalog_;
  std::vector<queue::BackendModule> backends_;
  std::vector<target::TargetModule> targets_;
  std::vector<sets::SetStoreModule> set_stores_;
};

}  // namespace wal::modules
