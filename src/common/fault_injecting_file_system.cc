#include "common/fault_injecting_file_system.h"

#include <algorithm>

namespace wal {

class FaultInjectingWritableFile final : public WritableFile {
 public:
  FaultInjectingWritableFile(FaultInjectingFileSystem* owner, std::string path, std::unique_ptr<WritableFile> base)
      : owner_(owner), path_(std::move(path)), base_(std::move(base)) {}

  Status Append(std::string_view data) override {
    owner_->appends_.fetch_add(1);
    if (owner_->NoSpaceActive() || !owner_->ReserveSpace(path_, {base_->Size() + data.size(), 0})) {
      owner_->injected_failures_.fetch_add(1);
      return NoSpace("injected ENOSPC");
    }
    size_t prefix = 0;
    Status status;
    if (owner_->TakeShortWrite(&prefix)) {
      owner_->injected_failures_.fetch_add(1);
      prefix = std::min(prefix, data.size());
      status = prefix > 0 ? base_->Append(data.substr(0, prefix)) : Status::Ok();
      if (status.ok()) status = IOError("injected short write after " + std::to_string(prefix) + " bytes");
    } else {
      status = base_->Append(data);
    }
    // Count what really reached the file, which may be less than was reserved.
    owner_->SetSize(path_, base_->Size());
    return status;
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
    WAL_RETURN_IF_ERROR(base_->Truncate(size));
    owner_->truncates_.fetch_add(1);
    owner_->TruncateUsage(path_, size);
    return Status::Ok();
  }

  Status Preallocate(uint64_t size) override {
    if (owner_->NoSpaceActive() || !owner_->ReserveSpace(path_, {base_->Size(), size})) {
      owner_->injected_failures_.fetch_add(1);
      return NoSpace("injected ENOSPC preallocating " + path_);
    }
    WAL_RETURN_IF_ERROR(base_->Preallocate(size));
    owner_->preallocations_.fetch_add(1);
    return Status::Ok();
  }

  uint64_t Size() const override { return base_->Size(); }
  Status Close() override { return base_->Close(); }

 private:
  FaultInjectingFileSystem* const owner_;
  const std::string path_;
  std::unique_ptr<WritableFile> base_;
};

FaultInjectingFileSystem::FaultInjectingFileSystem(FileSystem* base) : ForwardingFileSystem(base) {}

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

void FaultInjectingFileSystem::FailNextRemoves(int n) {
  std::lock_guard lock(mutex_);
  failing_removes_ = std::max(0, n);
}

void FaultInjectingFileSystem::SetSpaceLimit(std::optional<uint64_t> bytes) {
  std::lock_guard lock(space_mutex_);
  space_limit_ = bytes;
}

uint64_t FaultInjectingFileSystem::used_bytes() const {
  std::lock_guard lock(space_mutex_);
  return used_;
}

uint64_t FaultInjectingFileSystem::allocated_bytes(const std::string& path) const {
  std::lock_guard lock(space_mutex_);
  auto it = usage_.find(path);
  return it == usage_.end() ? 0 : it->second.allocated();
}

void FaultInjectingFileSystem::TrackFile(const std::string& path, uint64_t size) {
  std::lock_guard lock(space_mutex_);
  if (usage_.count(path) == 0) ReplaceUsageLocked(path, Usage{size, 0});
}

bool FaultInjectingFileSystem::ReserveSpace(const std::string& path, Usage wanted) {
  std::lock_guard lock(space_mutex_);
  Usage current = usage_.count(path) ? usage_[path] : Usage{};
  Usage next{std::max(current.size, wanted.size), std::max(current.preallocated, wanted.preallocated)};
  if (space_limit_ && next.allocated() > current.allocated() &&
      used_ + (next.allocated() - current.allocated()) > *space_limit_) {
    return false;
  }
  ReplaceUsageLocked(path, next);
  return true;
}

void FaultInjectingFileSystem::SetSize(const std::string& path, uint64_t size) {
  std::lock_guard lock(space_mutex_);
  Usage usage = usage_.count(path) ? usage_[path] : Usage{};
  usage.size = size;
  ReplaceUsageLocked(path, usage);
}

void FaultInjectingFileSystem::TruncateUsage(const std::string& path, uint64_t size) {
  std::lock_guard lock(space_mutex_);
  Usage usage = usage_.count(path) ? usage_[path] : Usage{};
  usage.size = size;
  usage.preallocated = std::min(usage.preallocated, size);  // blocks past the new end are freed
  ReplaceUsageLocked(path, usage);
}

void FaultInjectingFileSystem::ForgetFile(const std::string& path) {
  std::lock_guard lock(space_mutex_);
  ReplaceUsageLocked(path, std::nullopt);
}

void FaultInjectingFileSystem::ReplaceUsageLocked(const std::string& path, std::optional<Usage> usage) {
  auto it = usage_.find(path);
  if (it != usage_.end()) {
    used_ -= it->second.allocated();
    usage_.erase(it);
  }
  if (usage) {
    used_ += usage->allocated();
    usage_[path] = *usage;
  }
}

void FaultInjectingFileSystem::Reset() {
  {
    std::lock_guard lock(mutex_);
    failing_syncs_ = 0;
    failing_removes_ = 0;
    short_write_armed_ = false;
    short_write_prefix_ = 0;
  }
  no_space_.store(false);
  fail_truncate_.store(false);
  SetSpaceLimit(std::nullopt);
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
  WAL_ASSIGN_OR_RETURN(auto file, base()->OpenAppendable(path));
  TrackFile(path, file->Size());
  return std::unique_ptr<WritableFile>(std::make_unique<FaultInjectingWritableFile>(this, path, std::move(file)));
}

// Forwards reads and counts the bytes they return.
class CountingRandomAccessFile final : public RandomAccessFile {
 public:
  CountingRandomAccessFile(FaultInjectingFileSystem* owner, std::unique_ptr<RandomAccessFile> base)
      : owner_(owner), base_(std::move(base)) {}

  Status ReadAt(uint64_t offset, size_t length, std::string* out) const override {
    Status status = base_->ReadAt(offset, length, out);
    if (status.ok()) owner_->bytes_read_.fetch_add(out->size());
    return status;
  }
  Result<uint64_t> Size() const override { return base_->Size(); }

 private:
  FaultInjectingFileSystem* const owner_;
  const std::unique_ptr<RandomAccessFile> base_;
};

Result<std::unique_ptr<RandomAccessFile>> FaultInjectingFileSystem::OpenRandomAccess(const std::string& path) {
  WAL_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file, base()->OpenRandomAccess(path));
  return std::unique_ptr<RandomAccessFile>(std::make_unique<CountingRandomAccessFile>(this, std::move(file)));
}

Status FaultInjectingFileSystem::WriteFileAtomically(const std::string& path, std::string_view contents) {
  if (NoSpaceActive()) {
    injected_failures_.fetch_add(1);
    return wal::NoSpace("injected ENOSPC writing " + path);
  }
  // The temporary copy needs room of its own before the rename frees the old file.
  const std::string temporary = path + ".fault-injection-tmp";
  if (!ReserveSpace(temporary, Usage{contents.size(), 0})) {
    injected_failures_.fetch_add(1);
    return wal::NoSpace("injected ENOSPC writing " + path);
  }
  Status status = base()->WriteFileAtomically(path, contents);
  ForgetFile(temporary);
  if (status.ok()) {
    ForgetFile(path);
    TrackFile(path, contents.size());
  }
  return status;
}

Status FaultInjectingFileSystem::RemoveFile(const std::string& path) {
  {
    std::lock_guard lock(mutex_);
    if (failing_removes_ > 0) {
      --failing_removes_;
      injected_failures_.fetch_add(1);
      return IOError("injected unlink failure removing " + path);
    }
  }
  WAL_RETURN_IF_ERROR(base()->RemoveFile(path));
  ForgetFile(path);
  return Status::Ok();
}

Status FaultInjectingFileSystem::RemoveAll(const std::string& directory) {
  WAL_RETURN_IF_ERROR(base()->RemoveAll(directory));
  std::lock_guard lock(space_mutex_);
  const std::string prefix = directory + "/";
  for (auto it = usage_.lower_bound(prefix); it != usage_.end() && it->first.compare(0, prefix.size(), prefix) == 0;) {
    used_ -= it->second.allocated();
    it = usage_.erase(it);
  }
  return Status::Ok();
}

Status FaultInjectingFileSystem::Rename(const std::string& from, const std::string& to) {
  WAL_RETURN_IF_ERROR(base()->Rename(from, to));
  std::lock_guard lock(space_mutex_);
  auto it = usage_.find(from);
  std::optional<Usage> moved;
  if (it != usage_.end()) moved = it->second;
  ReplaceUsageLocked(from, std::nullopt);
  ReplaceUsageLocked(to, moved);
  return Status::Ok();
}

}  // namespace wal
