#include "common/fault_injecting_file_system.h"

#include <algorithm>

namespace wal {

class FaultInjectingWritableFile final : public WritableFile {
 public:
  FaultInjectingWritableFile(FaultInjectingFileSystem* owner, std::unique_ptr<WritableFile> base)
      : owner_(owner), base_(std::move(base)) {}

  Status Append(std::string_view data) override {
    owner_->appends_.fetch_add(1);
    if (owner_->NoSpaceActive()) {
      owner_->injected_failures_.fetch_add(1);
      return NoSpace("injected ENOSPC");
    }
    size_t prefix = 0;
    if (owner_->TakeShortWrite(&prefix)) {
      owner_->injected_failures_.fetch_add(1);
      prefix = std::min(prefix, data.size());
      if (prefix > 0) WAL_RETURN_IF_ERROR(base_->Append(data.substr(0, prefix)));
      return IOError("injected short write after " + std::to_string(prefix) + " bytes");
    }
    return base_->Append(data);
  }

  Status Sync() override {
    if (owner_->TakeSyncFailure()) {
      owner_->injected_failures_.fetch_add(1);
      return IOError("injected fsync failure");
    }
    Status status = base_->Sync();
    if (status.ok()) owner_->syncs_.fetch_add(1);
    return status;
  }

  Status Truncate(uint64_t size) override {
    if (owner_->TruncateFails()) {
      owner_->injected_failures_.fetch_add(1);
      return IOError("injected truncate failure");
    }
    return base_->Truncate(size);
  }

  Status Preallocate(uint64_t size) override { return base_->Preallocate(size); }
  uint64_t Size() const override { return base_->Size(); }
  Status Close() override { return base_->Close(); }

 private:
  FaultInjectingFileSystem* const owner_;
  std::unique_ptr<WritableFile> base_;
};

FaultInjectingFileSystem::FaultInjectingFileSystem(FileSystem* base) : base_(base) {}

void FaultInjectingFileSystem::FailNextSyncs(int n) {
  std::lock_guard lock(mutex_);
  failing_syncs_ = std::max(0, n);
}

void FaultInjectingFileSystem::SetNoSpace(bool no_space) { no_space_.store(no_space); }

void FaultInjectingFileSystem::ShortWriteNext(size_t bytes_to_write_then_fail) {
  std::lock_guard lock(mutex_);
  short_write_armed_ = true;
  short_write_prefix_ = bytes_to_write_then_fail;
}

void FaultInjectingFileSystem::FailTruncate(bool fail) { fail_truncate_.store(fail); }

void FaultInjectingFileSystem::Reset() {
  {
    std::lock_guard lock(mutex_);
    failing_syncs_ = 0;
    short_write_armed_ = false;
    short_write_prefix_ = 0;
  }
  no_space_.store(false);
  fail_truncate_.store(false);
}

bool FaultInjectingFileSystem::TakeSyncFailure() {
  std::lock_guard lock(mutex_);
  if (failing_syncs_ == 0) return false;
  --failing_syncs_;
  return true;
}

bool FaultInjectingFileSystem::TakeShortWrite(size_t* prefix) {
  std::lock_guard lock(mutex_);
  if (!short_write_armed_) return false;
  short_write_armed_ = false;
  *prefix = short_write_prefix_;
  return true;
}

Result<std::unique_ptr<WritableFile>> FaultInjectingFileSystem::OpenAppendable(const std::string& path) {
  WAL_ASSIGN_OR_RETURN(auto file, base_->OpenAppendable(path));
  return std::unique_ptr<WritableFile>(std::make_unique<FaultInjectingWritableFile>(this, std::move(file)));
}

Result<std::unique_ptr<RandomAccessFile>> FaultInjectingFileSystem::OpenRandomAccess(const std::string& path) {
  return base_->OpenRandomAccess(path);
}

Result<std::string> FaultInjectingFileSystem::ReadFile(const std::string& path) { return base_->ReadFile(path); }

Status FaultInjectingFileSystem::WriteFileAtomically(const std::string& path, std::string_view contents) {
  if (NoSpaceActive()) {
    injected_failures_.fetch_add(1);
    return wal::NoSpace("injected ENOSPC writing " + path);
  }
  return base_->WriteFileAtomically(path, contents);
}

Result<std::vector<std::string>> FaultInjectingFileSystem::ListDirectory(const std::string& directory) {
  return base_->ListDirectory(directory);
}

Status FaultInjectingFileSystem::CreateDirectories(const std::string& directory) {
  return base_->CreateDirectories(directory);
}

Status FaultInjectingFileSystem::RemoveFile(const std::string& path) { return base_->RemoveFile(path); }

Status FaultInjectingFileSystem::RemoveAll(const std::string& directory) { return base_->RemoveAll(directory); }

Status FaultInjectingFileSystem::Rename(const std::string& from, const std::string& to) {
  return base_->Rename(from, to);
}

Status FaultInjectingFileSystem::SyncDirectory(const std::string& directory) {
  return base_->SyncDirectory(directory);
}

bool FaultInjectingFileSystem::Exists(const std::string& path) { return base_->Exists(path); }

Result<FileInfo> FaultInjectingFileSystem::Stat(const std::string& path) { return base_->Stat(path); }

}  // namespace wal
