#include "server/shard_map.h"

#include "common/host_port.h"
#include "config/yaml_json.h"

namespace wal::server {
namespace {

Status ReadStrings(const config::Json& value, const std::string& path, std::vector<std::string>* out) {
  if (!value.is_array()) return InvalidArgument(path + ": must be a list of strings");
  for (const auto& item : value) {
    if (!item.is_string() || item.get<std::string>().empty()) {
      return InvalidArgument(path + ": must be a list of non-empty strings");
    }
    out->push_back(item.get<std::string>());
  }
  return Status::Ok();
}

}  // namespace

Result<ShardMap> ShardMap::Parse(std::string_view text, config::Format format, std::string_view source) {
  const std::string prefix = std::string(source) + ": ";
  auto tree = format == config::Format::kJson ? config::JsonTextToJson(text) : config::YamlTextToJson(text, {});
  if (!tree.ok()) return tree.status().WithContext(source);
  const config::Json& root = *tree;
  if (!root.is_object() || !root.contains("shards") || !root["shards"].is_object() || root["shards"].empty()) {
    return InvalidArgument(prefix + "shards: required, a mapping of shard name to {addresses, http, namespaces}");
  }
  for (const auto& [key, value] : root.items()) {
    if (key != "shards") return InvalidArgument(prefix + key + ": unknown field");
  }
  ShardMap map;
  for (const auto& [name, body] : root["shards"].items()) {
    const std::string path = "shards." + name;
    if (!body.is_object()) return InvalidArgument(prefix + path + ": must be a mapping");
    Shard shard;
    shard.name = name;
    for (const auto& [key, value] : body.items()) {
      if (key == "addresses") {
        WAL_RETURN_IF_ERROR(ReadStrings(value, prefix + path + ".addresses", &shard.addresses));
      } else if (key == "http") {
        WAL_RETURN_IF_ERROR(ReadStrings(value, prefix + path + ".http", &shard.http));
      } else if (key == "namespaces") {
        WAL_RETURN_IF_ERROR(ReadStrings(value, prefix + path + ".namespaces", &shard.namespaces));
      } else {
        return InvalidArgument(prefix + path + "." + key + ": unknown field (addresses, http or namespaces)");
      }
    }
    if (shard.addresses.empty()) return InvalidArgument(prefix + path + ".addresses: must list at least one host:port");
    for (const auto& list : {shard.addresses, shard.http}) {
      for (const std::string& address : list) {
        if (!ParseHostPort(address)) {
          return InvalidArgument(prefix + path + ": '" + address + "' is not host:port");
        }
      }
    }
    for (const std::string& namespace_name : shard.namespaces) {
      auto [existing, inserted] = map.shard_of_namespace_.emplace(namespace_name, name);
      if (!inserted) {
        return InvalidArgument(prefix + path + ".namespaces: '" + namespace_name + "' is already assigned to shard '" +
                               existing->second + "'");
      }
    }
    map.shards_.emplace(name, std::move(shard));
  }
  map.text_ = std::string(text);
  return map;
}

Result<ShardMap> ShardMap::Load(FileSystem* file_system, const std::string& path) {
  WAL_ASSIGN_OR_RETURN(config::Format format, config::FormatFromPath(path));
  WAL_ASSIGN_OR_RETURN(std::string text, file_system->ReadFile(path));
  return Parse(text, format, path);
}

Status ShardMap::CheckLists(const std::string& shard, std::string_view source) const {
  if (Find(shard) != nullptr) return Status::Ok();
  return InvalidArgument("shard: '" + shard + "' is not in the shard map " + std::string(source));
}

const Shard* ShardMap::ShardOf(const std::string& name) const {
  auto found = shard_of_namespace_.find(name);
  return found == shard_of_namespace_.end() ? nullptr : Find(found->second);
}

const Shard* ShardMap::Find(const std::string& shard) const {
  auto found = shards_.find(shard);
  return found == shards_.end() ? nullptr : &found->second;
}

std::unique_ptr<FileReloader> NewShardMapReloader(FileSystem* file_system, const std::string& path,
                                                  const std::string& shard, std::chrono::milliseconds interval,
                                                  std::shared_ptr<Swappable<ShardMap>> shard_map) {
  return std::make_unique<FileReloader>(
      "shard_map", file_system, std::vector<std::string>{path}, interval,
      [path, shard, shard_map](const std::vector<std::string>& contents) -> Result<std::string> {
        WAL_ASSIGN_OR_RETURN(config::Format format, config::FormatFromPath(path));
        WAL_ASSIGN_OR_RETURN(ShardMap parsed, ShardMap::Parse(contents.front(), format, path));
        WAL_RETURN_IF_ERROR(parsed.CheckLists(shard, path));
        const std::string summary = std::to_string(parsed.shards().size()) + " shards; shard " + shard + " serves " +
                                    std::to_string(parsed.Find(shard)->namespaces.size()) + " namespaces";
        shard_map->Set(std::make_shared<const ShardMap>(std::move(parsed)));
        return summary;
      });
}

}  // namespace wal::server
