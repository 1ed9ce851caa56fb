// NamespaceRuntime's mutation-set parts (docs/mutation-sets.md): resolving a
// mutation's named target, validating a set per target, and applying a set
// marker through the namespace's SetManager.
#include "engine/namespace_runtime.h"

namespace wal::engine {

Result<std::shared_ptr<target::Target>> NamespaceRuntime::TargetNamed(const v1::LogRecord& record,
                                                                      const std::string& name) {
  if (name.empty()) return TargetFor(record);
  Policy current = policy();
  auto found = current.named_targets.find(name);
  if (found != current.named_targets.end()) return found->second;
  auto error = current.named_target_errors.find(name);
  if (error != current.named_target_errors.end()) return error->second;
  return FailedPrecondition("namespace " + name_ + " has no target named '" + name + "'");
}

Status NamespaceRuntime::ValidateSetTargets(const v1::LogRecord& record) {
  const v1::MutationSet& set = record.payload().mutation_set();
  // Mutations grouped by target, each group checked by its own target.
  std::map<std::string, v1::Payload> by_target;
  bool single_default = true;
  for (const auto& mutation : set.mutations()) single_default = single_default && mutation.target().empty();
  if (single_default) {
    if (record.has_target()) return Status::Ok();  // overrides are checked when built
    auto target = TargetFor(record);
    return target.ok() ? (*target)->ValidatePayload(record.payload()) : Status::Ok();
  }
  for (const auto& mutation : set.mutations()) {
    *by_target[mutation.target()].mutable_mutation_set()->add_mutations() = mutation;
  }
  for (const auto& [name, payload] : by_target) {
    if (name.empty() && record.has_target()) continue;
    auto target = TargetNamed(record, name);
    // A target that cannot be built now is not a refusal: the set waits for it.
    if (!target.ok()) continue;
    Status acceptable = (*target)->ValidatePayload(payload);
    if (!acceptable.ok()) {
      return InvalidArgument((name.empty() ? std::string("default target") : "target " + name) + ": " +
                             acceptable.message());
    }
  }
  return Status::Ok();
}

void NamespaceRuntime::AttachMutationSets(std::unique_ptr<sets::SetManager> mutation_sets) {
  mutation_sets_ = std::move(mutation_sets);
}

sets::SetManager::ApplyReport NamespaceRuntime::ApplySetMarker(const v1::LogRecord& record,
                                                               const target::DeliveryContext& context) {
  if (!mutation_sets_) {
    sets::SetManager::ApplyReport report;
    report.result = target::ApplyResult::Retryable("namespace " + name_ + " has no durable storage for mutation sets");
    return report;
  }
  auto resolve = [this, &record](const std::string& name) { return TargetNamed(record, name); };
  return mutation_sets_->Apply(record, resolve, context);
}

}  // namespace wal::engine
