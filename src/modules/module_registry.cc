#include "modules/module_registry.h"

namespace wal::modules {
namespace {

template <typename Module>
const Module* FindByType(const std::vector<Module>& modules, std::string_view type) {
  for (const Module& module : modules) {
    if (module.schema.type == type) return &module;
  }
  return nullptr;
}

}  // namespace

Status ModuleRegistry::Add(queue::BackendModule module) {
  if (!module.open) return InvalidArgument("backend module '" + module.schema.type + "': needs an open function");
  WAL_RETURN_IF_ERROR(catalog_.Add(config::ModuleKind::kBackend, module.schema));
  backends_.push_back(std::move(module));
  return Status::Ok();
}

Status ModuleRegistry::Add(target::TargetModule module) {
  if (!module.create) return InvalidArgument("target module '" + module.schema.type + "': needs a create function");
  WAL_RETURN_IF_ERROR(catalog_.Add(config::ModuleKind::kTarget, module.schema));
  targets_.push_back(std::move(module));
  return Status::Ok();
}

Status ModuleRegistry::Add(sets::SetStoreModule module) {
  if (!module.open) return InvalidArgument("set store module '" + module.schema.type + "': needs an open function");
  WAL_RETURN_IF_ERROR(catalog_.Add(config::ModuleKind::kDurableStorage, module.schema));
  set_stores_.push_back(std::move(module));
  return Status::Ok();
}

const queue::BackendModule* ModuleRegistry::FindBackend(std::string_view type) const {
  return FindByType(backends_, type);
}

const target::TargetModule* ModuleRegistry::FindTarget(std::string_view type) const {
  return FindByType(targets_, type);
}

Result<std::unique_ptr<queue::Backend>> ModuleRegistry::Open(const queue::BackendContext& context,
                                                             const config::NamespaceConfig& config) const {
  const queue::BackendModule* module = FindBackend(config.backend.type());
  if (module == nullptr) {
    return Unavailable("namespace " + config.name + ": backend '" + std::string(config.backend.type()) +
                       "' is not available in this build");
  }
  return module->open(context, config);
}

queue::BackendTraits ModuleRegistry::Traits(std::string_view type) const {
  const queue::BackendModule* module = FindBackend(type);
  return module == nullptr ? queue::BackendTraits{} : module->traits;
}

Result<std::unique_ptr<target::Target>> ModuleRegistry::Create(const config::TargetConfig& config,
                                                               const target::TargetEnvironment& environment) const {
  if (config.is_none()) return InvalidArgument("target: type 'none' has no target to create");
  const target::TargetModule* module = FindTarget(config.type());
  if (module == nullptr) {
    return InvalidArgument("target: type '" + std::string(config.type()) + "' is not available in this build");
  }
  return module->create(config, environment);
}

bool ModuleRegistry::RegionalDelivery(std::string_view type) const {
  const target::TargetModule* module = FindTarget(type);
  return module != nullptr && module->regional_delivery;
}

Result<std::unique_ptr<sets::SetStore>> ModuleRegistry::Open(const config::DurableStorageConfig& config,
                                                             const sets::SetStoreContext& context) const {
  const sets::SetStoreModule* module = FindByType(set_stores_, config.type());
  if (module == nullptr) {
    return Unavailable("durable_storage.type: '" + std::string(config.type()) + "' is not available in this build");
  }
  return module->open(config, context);
}

}  // namespace wal::modules
