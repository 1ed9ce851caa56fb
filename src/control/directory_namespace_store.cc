#include "control/directory_namespace_store.h"

namespace wal::control {
namespace {

constexpr std::string_view kExtensions[] = {".yaml", ".yml", ".json"};

bool IsConfigFileName(const std::string& name) {
  if (name.empty() || name.front() == '.') return false;
  for (std::string_view extension : kExtensions) {
    if (name.size() > extension.size() && name.ends_with(extension)) return true;
  }
  return false;
}

std::string Stem(const std::string& file_name) { return file_name.substr(0, file_name.rfind('.')); }

}  // namespace

Result<std::unique_ptr<DirectoryNamespaceStore>> DirectoryNamespaceStore::Open(FileSystem* file_system,
                                                                               std::string directory,
                                                                               const config::ModuleCatalog& modules) {
  if (file_system == nullptr) return InvalidArgument("directory store: file_system is required");
  WAL_RETURN_IF_ERROR(file_system->CreateDirectories(directory).WithContext("namespaces directory"));
  return std::unique_ptr<DirectoryNamespaceStore>(new DirectoryNamespaceStore(file_system, std::move(directory), modules));
}

Result<StoreContents> DirectoryNamespaceStore::LoadAll() {
  config::DirectoryLoad loaded = config::LoadNamespaceDirectory(file_system_, directory_, modules_);
  return StoreContents{std::move(loaded.namespaces), std::move(loaded.errors)};
}

Result<std::map<std::string, std::string>> DirectoryNamespaceStore::Revisions() {
  auto names = file_system_->ListDirectory(directory_);
  if (!names.ok()) return Unavailable("namespaces directory " + directory_ + ": " + names.status().message());
  std::map<std::string, std::string> revisions;
  for (const std::string& file_name : names.value()) {
    if (!IsConfigFileName(file_name)) continue;
    auto info = file_system_->Stat(directory_ + "/" + file_name);
    if (!info.ok()) continue;  // gone since the listing
    // Two files for one name are refused by the loader; keeping the first
    // listed keeps the revision stable from poll to poll.
    revisions.emplace(Stem(file_name), file_name + "|" + std::to_string(info->mtime_ns) + "|" +
                                           std::to_string(info->size) + "|" + std::to_string(info->inode));
  }
  return revisions;
}

Result<config::NamespaceConfig> DirectoryNamespaceStore::Load(const std::string& name) {
  for (std::string_view extension : kExtensions) {
    const std::string path = directory_ + "/" + name + std::string(extension);
    if (!file_system_->Exists(path)) continue;
    WAL_ASSIGN_OR_RETURN(config::NamespaceConfig config, config::LoadNamespaceFile(file_system_, path, modules_));
    if (config.name != name) {
      return InvalidArgument(path + ": name: '" + config.name + "' does not match the file name (a namespace file " +
                             "must be named <name>.yaml)");
    }
    return config;
  }
  return NotFound("namespace " + name + " has no config file in " + directory_);
}

Status DirectoryNamespaceStore::Save(const config::NamespaceConfig& config) {
  return config::SaveNamespaceFile(file_system_, directory_, config);
}

Status DirectoryNamespaceStore::Remove(const std::string& name) {
  return config::DeleteNamespaceFile(file_system_, directory_, name);
}

}  // namespace wal::control
