#include "target/replication/replication_target.h"

#include "target/target_settings.h"

namespace wal::target {

Result<std::unique_ptr<ReplicationTarget>> ReplicationTarget::Create(const ReplicationTargetConfig& settings,
                                                                     const TargetEnvironment& environment) {
  const std::string& instance_region = environment.local_region;
  if (!instance_region.empty() && !settings.regions.contains(instance_region)) {
    return SettingError("regions", "has no entry for this instance's region " + config::Quoted(instance_region) +
                                       " (wald --region / server config region)");
  }
  std::vector<Region> applied;
  for (const auto& [name, servers] : settings.regions) {
    if (!instance_region.empty() && name != instance_region) continue;  // another region's consumer applies it
    auto options = OptionsWith<MemcachedTarget::Options>(settings.cache);
    options.servers = servers;
    WAL_ASSIGN_OR_RETURN(std::unique_ptr<MemcachedTarget> cache, MemcachedTarget::Create(std::move(options)));
    applied.push_back(Region{name, std::move(cache)});
  }
  return std::unique_ptr<ReplicationTarget>(
      new ReplicationTarget(std::move(applied), settings.local_region, settings.skip_local_region));
}

Result<std::unique_ptr<ReplicationTarget>> ReplicationTarget::FromSettings(std::string_view settings_json,
                                                                           const TargetEnvironment& environment) {
  WAL_ASSIGN_OR_RETURN(ReplicationTargetConfig settings, DecodeTargetSettings<ReplicationTargetConfig>(settings_json));
  return Create(settings, environment);
}

TargetModule ReplicationTarget::Module() {
  return TargetModuleOf<ReplicationTargetConfig>(
      [](const ReplicationTargetConfig& settings, const TargetEnvironment& environment) {
        return Create(settings, environment);
      },
      /*regional_delivery=*/true);
}

ReplicationTarget::ReplicationTarget(std::vector<Region> regions, std::string default_origin, bool skip_local_region)
    : regions_(std::move(regions)), default_origin_(std::move(default_origin)), skip_local_region_(skip_local_region) {}

ApplyResult ReplicationTarget::ApplyMutation(const v1::Mutation& mutation, const DeliveryContext& context) {
  const std::string& origin = context.origin_region.empty() ? default_origin_ : context.origin_region;
  ApplyResult worst = ApplyResult::Ok();
  std::string reasons;
  for (Region& region : regions_) {
    if (skip_local_region_ && !origin.empty() && region.name == origin) continue;
    ApplyResult result = region.cache->ApplyMutation(mutation, context);
    if (result.ok()) continue;
    if (!reasons.empty()) reasons += "; ";
    reasons += "region " + region.name + ": " + result.reason;
    // Retryable wins over permanent: the failing region may come back, and a
    // permanent failure is permanent in every region (same key, same value).
    if (worst.ok() || result.outcome == ApplyOutcome::kRetryable) worst.outcome = result.outcome;
  }
  if (worst.ok()) return worst;
  worst.reason = std::move(reasons);
  return worst;
}

ApplyResult ReplicationTarget::DeliverOpaque(std::string_view, const DeliveryContext&) {
  return ApplyResult::Permanent("replication target cannot take opaque payloads; send a mutation");
}

Status ReplicationTarget::ValidatePayload(const v1::Payload& payload) const {
  if (payload.has_opaque()) {
    return InvalidArgument("payload.opaque: target type 'replication' takes mutations, not opaque payloads");
  }
  // Every region has the same limits; the first one speaks for all. An
  // instance always applies to at least one region.
  return regions_.empty() ? Status::Ok() : regions_.front().cache->ValidatePayload(payload);
}

Status ReplicationTarget::Probe() {
  std::string failures;
  for (Region& region : regions_) {
    Status status = region.cache->Probe();
    if (status.ok()) continue;
    if (!failures.empty()) failures += "; ";
    failures += "region " + region.name + ": " + status.message();
  }
  return failures.empty() ? Status::Ok() : Unavailable("replication: " + failures);
}

std::vector<std::string> ReplicationTarget::AppliedRegions() const {
  std::vector<std::string> names;
  for (const Region& region : regions_) names.push_back(region.name);
  return names;
}

}  // namespace wal::target
