// Config files: the format from a file name, loading one namespace or server
// config file, a directory of namespace files, and saving and deleting a
// namespace's file.
//
// Failure: every error names the file. Saves are atomic (temporary file,
// fsync, rename, directory fsync). Nothing throws.
//
// Threading: safe from any thread; concurrent saves of one namespace race like
// any two renames (the last one wins).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/file_system.h"
#include "common/status.h"
#include "config/namespace_config.h"
#include "config/server_config.h"

namespace wal::config {

class ModuleCatalog;

// Format from a file name: .yaml/.yml -> YAML, .json -> JSON, else error.
Result<Format> FormatFromPath(std::string_view path);

Result<NamespaceConfig> LoadNamespaceFile(FileSystem* file_system, const std::string& path,
                                          const ModuleCatalog& modules);
Result<ServerConfig> LoadServerConfigFile(FileSystem* file_system, const std::string& path);

// Everything found in a directory of namespace files. A bad file lands in
// `errors` and does not stop the others from loading.
struct DirectoryLoad {
  std::vector<NamespaceConfig> namespaces;
  std::vector<Status> errors;
};
DirectoryLoad LoadNamespaceDirectory(FileSystem* file_system, const std::string& directory,
                                     const ModuleCatalog& modules);

// Writes `<directory>/<name>.yaml` atomically (creating the directory if needed)
// after validating the config, and removes a stale <name>.json or <name>.yml
// beside it so the directory holds exactly one file per namespace.
Status SaveNamespaceFile(FileSystem* file_system, const std::string& directory, const NamespaceConfig& config);
// Removes whichever of <name>.yaml/.yml/.json exist; NotFound if none does.
Status DeleteNamespaceFile(FileSystem* file_system, const std::string& directory, const std::string& name);

}  // namespace wal::config
