#include "target/replication/replication_config.h"

namespace wal::target {

Status ReplicationTargetConfig::Read(config::ObjectReader& reader, const config::DecodeContext& /*context*/) {
  if (const config::Json* value = reader.Take("regions")) {
    const std::string path = reader.PathOf("regions");
    if (!value->is_object()) {
      return config::FieldError(path, "must map region names to {servers: [host:port, ...]}, got " +
                                          config::Describe(*value));
    }
    for (const auto& [name, cluster] : value->items()) {
      if (name.empty()) return config::FieldError(path, "region names must not be empty");
      WAL_ASSIGN_OR_RETURN(config::ObjectReader region, config::ObjectReader::Open(cluster, path + "." + name));
      std::vector<HostPort>& servers = regions[name];
      if (region.Take("servers") == nullptr) return config::FieldError(region.PathOf("servers"), "required");
      WAL_RETURN_IF_ERROR(region.NonEmptyField("servers", &servers));
      WAL_RETURN_IF_ERROR(region.RejectUnknownFields());
    }
  }
  WAL_RETURN_IF_ERROR(reader.Field("local_region", &local_region));
  WAL_RETURN_IF_ERROR(reader.Field("skip_local_region", &skip_local_region));
  return cache.ReadCacheSettings(reader);
}

Status ReplicationTargetConfig::Validate(const std::string& path) const {
  if (regions.empty()) return config::FieldError(path + ".regions", "required for target type 'replication'");
  if (!local_region.empty() && !regions.contains(local_region)) {
    return config::FieldError(path + ".local_region",
                              "must name one of " + path + ".regions, got " + config::Quoted(local_region));
  }
  return cache.ValidateCacheSettings(path);
}

void ReplicationTargetConfig::Write(config::Json& object) const {
  config::Json map = config::Json::object();
  for (const auto& [name, servers] : regions) {
    config::Json list = config::Json::array();
    for (const HostPort& server : servers) list.push_back(FormatHostPort(server));
    map[name] = {{"servers", std::move(list)}};
  }
  object["regions"] = std::move(map);
  object["local_region"] = local_region;
  object["skip_local_region"] = skip_local_region;
  cache.WriteCacheSettings(object);
}

}  // namespace wal::target
