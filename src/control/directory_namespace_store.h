// The embedded default: one YAML/JSON file per namespace in a directory
// (<name>.yaml, .yml or .json). Instances that share the directory (NFS, a
// Kubernetes volume, a config-management push) see each other's changes
// through the watcher's polling. Saves are atomic renames.
//
// Threading: thread-safe (the filesystem is the only state). Failure: a
// missing or unreadable directory is kUnavailable from Revisions(); a bad file
// is an error entry in LoadAll() and kInvalidArgument from Load().
#pragma once

#include "control/namespace_store.h"

namespace wal::control {

class DirectoryNamespaceStore final : public NamespaceStore {
 public:
  // Creates `directory` when missing. `file_system` and `modules` (which decode
  // the files' module sections) outlive the store.
  static Result<std::unique_ptr<DirectoryNamespaceStore>> Open(FileSystem* file_system, std::string directory,
                                                               const config::ModuleCatalog& modules);

  std::string Describe() const override { return "directory " + directory_; }
  Result<StoreContents> LoadAll() override;
  // Revision: the file's path, mtime (ns), size and inode; an editor's save or
  // an atomic rename changes at least one.
  Result<std::map<std::string, std::string>> Revisions() override;
  Result<config::NamespaceConfig> Load(const std::string& name) override;
  Status Save(const config::NamespaceConfig& config) override;
  Status Remove(const std::string& name) override;

  const std::string& directory() const { return directory_; }

 private:
  DirectoryNamespaceStore(FileSystem* file_system, std::string directory, const config::ModuleCatalog& modules)
      : file_system_(file_system), directory_(std::move(directory)), modules_(modules) {}

  FileSystem* const file_system_;
  const std::string directory_;
  const config::ModuleCatalog& modules_;
};

}  // namespace wal::control
