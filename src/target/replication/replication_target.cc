#include "target/replication/replication_target.h"

#include <nlohmann/json.hpp>

#include "target/settings.h"

namespace wal::target {
namespace {

using Json = nlohmann::json;

std::string Quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

}  // namespace

Result<std::unique_ptr<ReplicationTarget>> ReplicationTarget::FromSettings(std::string_view settings_json,
                                                                           const TargetEnvironment& environment) {
  Json root = Json::parse(settings_json, nullptr, /*allow_exceptions=*/false);
  if (!root.is_object()) return SettingError("", "settings must be an object");
  auto regions_it = root.find("regions");
  if (regions_it == root.end() || !regions_it->is_object() || regions_it->empty()) {
    return SettingError("regions", "required: a map of region name -> {servers: [host:port, ...]}");
  }
  const Json regions = *regions_it;
  root.erase("regions");

  WAL_ASSIGN_OR_RETURN(Settings settings, Settings::Parse(root.dump()));
  WAL_ASSIGN_OR_RETURN(std::string default_origin, settings.OptionalString("local_region", ""));
  WAL_ASSIGN_OR_RETURN(bool skip_local_region, settings.OptionalBool("skip_local_region", false));
  MemcachedTarget::Options common;
  WAL_ASSIGN_OR_RETURN(common.timeout, settings.OptionalDuration("timeout", common.timeout));
  WAL_ASSIGN_OR_RETURN(common.key_prefix, settings.OptionalString("key_prefix", ""));
  WAL_ASSIGN_OR_RETURN(int64_t max_item_bytes,
                       settings.OptionalInteger("max_item_bytes", 1 << 20, 1024, int64_t{1} << 30));
  common.max_item_bytes = static_cast<uint64_t>(max_item_bytes);
  WAL_RETURN_IF_ERROR(settings.RejectUnknownKeys());
  if (!default_origin.empty() && !regions.contains(default_origin)) {
    return SettingError("local_region", "must name one of regions, got " + Quoted(default_origin));
  }
  const std::string& instance_region = environment.local_region;
  if (!instance_region.empty() && !regions.contains(instance_region)) {
    return SettingError("regions", "has no entry for this instance's region " + Quoted(instance_region) +
                                       " (wald --region / server config region)");
  }

  std::vector<Region> applied;
  for (const auto& [name, cluster] : regions.items()) {
    const std::string field = "regions." + name;
    if (name.empty()) return SettingError("regions", "region names must not be empty");
    if (!cluster.is_object()) return SettingError(field, "must be {servers: [host:port, ...]}");
    MemcachedTarget::Options options = common;
    for (const auto& [key, value] : cluster.items()) {
      if (key != "servers") return SettingError(field + "." + key, "unknown setting (only servers)");
    }
    auto servers = cluster.find("servers");
    if (servers == cluster.end() || !servers->is_array() || servers->empty()) {
      return SettingError(field + ".servers", "required: a non-empty list of host:port");
    }
    for (size_t i = 0; i < servers->size(); ++i) {
      const Json& server = (*servers)[i];
      const std::string server_field = field + ".servers[" + std::to_string(i) + "]";
      if (!server.is_string()) return SettingError(server_field, "must be a host:port string");
      WAL_ASSIGN_OR_RETURN(HostPort parsed, ParseHostPort(server.get<std::string>(), server_field));
      options.servers.push_back(std::move(parsed));
    }
    if (!instance_region.empty() && name != instance_region) continue;  // another region's consumer applies it
    WAL_ASSIGN_OR_RETURN(std::unique_ptr<MemcachedTarget> cache, MemcachedTarget::Create(std::move(options)));
    applied.push_back(Region{name, std::move(cache)});
  }
  return std::unique_ptr<ReplicationTarget>(
      new ReplicationTarget(std::move(applied), std::move(default_origin), skip_local_region));
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
