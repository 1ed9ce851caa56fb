#include "config/config_files.h"

#include <map>

#include "config/object_reader.h"

namespace wal::config {
namespace {

constexpr std::string_view kNamespaceExtensions[] = {".yaml", ".yml", ".json"};

std::string_view BaseName(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// The name without its extension ("orders.yaml" -> "orders").
std::string_view Stem(std::string_view file_name) {
  size_t dot = file_name.rfind('.');
  return dot == std::string_view::npos ? file_name : file_name.substr(0, dot);
}

}  // namespace

Result<Format> FormatFromPath(std::string_view path) {
  std::string_view name = BaseName(path);
  if (name.ends_with(".yaml") || name.ends_with(".yml")) return Format::kYaml;
  if (name.ends_with(".json")) return Format::kJson;
  return InvalidArgument(std::string(path) + ": unknown config format (expected .yaml, .yml or .json)");
}

Result<NamespaceConfig> LoadNamespaceFile(FileSystem* file_system, const std::string& path,
                                          const ModuleCatalog& modules) {
  WAL_ASSIGN_OR_RETURN(Format format, FormatFromPath(path));
  WAL_ASSIGN_OR_RETURN(std::string text, file_system->ReadFile(path));
  return ParseNamespace(text, format, path, modules);
}

Result<ServerConfig> LoadServerConfigFile(FileSystem* file_system, const std::string& path) {
  WAL_ASSIGN_OR_RETURN(Format format, FormatFromPath(path));
  WAL_ASSIGN_OR_RETURN(std::string text, file_system->ReadFile(path));
  return ParseServerConfig(text, format, path);
}

DirectoryLoad LoadNamespaceDirectory(FileSystem* file_system, const std::string& directory,
                                     const ModuleCatalog& modules) {
  DirectoryLoad load;
  auto names = file_system->ListDirectory(directory);
  if (!names.ok()) {
    load.errors.push_back(names.status());
    return load;
  }
  std::map<std::string, std::string> file_of_namespace;
  for (const std::string& file_name : names.value()) {
    // Only config files: editor backups, "*.tmp" from atomic writes and the
    // like are not namespaces.
    if (file_name.starts_with(".") || !FormatFromPath(file_name).ok()) continue;
    std::string path = JoinPath(directory, file_name);
    auto config = LoadNamespaceFile(file_system, path, modules);
    if (!config.ok()) {
      load.errors.push_back(config.status());
      continue;
    }
    std::string_view stem = Stem(file_name);
    if (config->name != stem) {
      load.errors.push_back(InvalidArgument(path + ": name: " + Quoted(config->name) +
                                            " does not match the file name " + Quoted(file_name) +
                                            " (a namespace file must be named <name>.yaml)"));
      continue;
    }
    auto [existing, inserted] = file_of_namespace.emplace(config->name, path);
    if (!inserted) {
      load.errors.push_back(AlreadyExists(path + ": name: namespace " + Quoted(config->name) +
                                          " is already defined by " + existing->second));
      continue;
    }
    load.namespaces.push_back(std::move(config).value());
  }
  return load;
}

Status SaveNamespaceFile(FileSystem* file_system, const std::string& directory, const NamespaceConfig& config) {
  WAL_RETURN_IF_ERROR(ValidateNamespace(config));
  WAL_RETURN_IF_ERROR(file_system->CreateDirectories(directory));
  std::string yaml_path = JoinPath(directory, config.name + ".yaml");
  WAL_RETURN_IF_ERROR(file_system->WriteFileAtomically(yaml_path, SaveNamespace(config, Format::kYaml)));
  // Another file for the same name would be loaded as a duplicate next time.
  bool removed_any = false;
  for (std::string_view extension : {".json", ".yml"}) {
    std::string stale = JoinPath(directory, config.name + std::string(extension));
    if (!file_system->Exists(stale)) continue;
    WAL_RETURN_IF_ERROR(file_system->RemoveFile(stale));
    removed_any = true;
  }
  if (removed_any) WAL_RETURN_IF_ERROR(file_system->SyncDirectory(directory));
  return Status::Ok();
}

Status DeleteNamespaceFile(FileSystem* file_system, const std::string& directory, const std::string& name) {
  // The name becomes a path: refuse anything that could leave the directory.
  if (!IsNamespaceName(name)) {
    return InvalidArgument("name: must match [a-z0-9][a-z0-9_.-]{0,127}, got " + Quoted(name));
  }
  bool removed_any = false;
  for (std::string_view extension : kNamespaceExtensions) {
    std::string path = JoinPath(directory, name + std::string(extension));
    if (!file_system->Exists(path)) continue;
    WAL_RETURN_IF_ERROR(file_system->RemoveFile(path));
    removed_any = true;
  }
  if (!removed_any) return NotFound("namespace " + Quoted(name) + " has no config file in " + directory);
  return file_system->SyncDirectory(directory);
}

}  // namespace wal::config
