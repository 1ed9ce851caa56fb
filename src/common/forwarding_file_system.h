// ForwardingFileSystem: the base of FileSystem decorators. Every FileSystem
// method forwards, unchanged, to a wrapped FileSystem, so a decorator overrides
// only the calls it changes. A method added to FileSystem is then added here
// once, not in every decorator.
//
// Ownership: holds `base`, which it does not own and which must outlive it.
// The objects the base returns (files, locks) pass to the caller untouched.
//
// Threading: keeps no state and takes no lock of its own, so it is exactly as
// thread-safe as `base`. A decorator that adds state guards that state itself.
//
// Failure: returns `base`'s Status or Result as it is; adds no failure of its
// own and throws nothing.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/file_system.h"

namespace wal {

class ForwardingFileSystem : public FileSystem {
 public:
  // `base` must not be null.
  explicit ForwardingFileSystem(FileSystem* base) : base_(base) {}
  ForwardingFileSystem(const ForwardingFileSystem&) = delete;
  ForwardingFileSystem& operator=(const ForwardingFileSystem&) = delete;

  Result<std::unique_ptr<WritableFile>> OpenAppendable(const std::string& path) override {
    return base_->OpenAppendable(path);
  }
  Result<std::unique_ptr<RandomAccessFile>> OpenRandomAccess(const std::string& path) override {
    return base_->OpenRandomAccess(path);
  }
  Result<std::string> ReadFile(const std::string& path) override { return base_->ReadFile(path); }
  Status WriteFileAtomically(const std::string& path, std::string_view contents) override {
    return base_->WriteFileAtomically(path, contents);
  }
  Result<std::vector<std::string>> ListDirectory(const std::string& directory) override {
    return base_->ListDirectory(directory);
  }
  Status CreateDirectories(const std::string& directory) override { return base_->CreateDirectories(directory); }
  Status RemoveFile(const std::string& path) override { return base_->RemoveFile(path); }
  Status RemoveAll(const std::string& directory) override { return base_->RemoveAll(directory); }
  Status Rename(const std::string& from, const std::string& to) override { return base_->Rename(from, to); }
  Status SyncDirectory(const std::string& directory) override { return base_->SyncDirectory(directory); }
  bool Exists(const std::string& path) override { return base_->Exists(path); }
  Result<FileInfo> Stat(const std::string& path) override { return base_->Stat(path); }
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override { return base_->LockFile(path); }

 protected:
  // The wrapped file system, for the overrides that call it around what they add.
  FileSystem* base() const { return base_; }

 private:
  FileSystem* const base_;
};

}  // namespace wal
