// The live side of PowerLossFileSystem: an in-memory file system that journals
// every change. The crash states are built in power_loss_crash.cc.
#include "common/testing/power_loss_file_system.h"

#include <algorithm>
#include <thread>

#include "common/create_directories.h"

namespace wal::testing {

using power_loss::Op;
using power_loss::OpType;

namespace power_loss {

std::string NormalisePath(const std::string& path) {
  std::string normal;
  normal.reserve(path.size());
  for (char c : path) {
    if (c == '/' && !normal.empty() && normal.back() == '/') continue;
    normal.push_back(c);
  }
  while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  if (normal == ".") normal.clear();  // the working directory, as ParentOf names it
  return normal;
}

std::string ParentOf(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return "";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string Describe(const Op& op) {
  switch (op.type) {
    case OpType::kCreate: return "create " + op.path;
    case OpType::kWrite:
      return "write " + op.path + " @" + std::to_string(op.offset) + " +" + std::to_string(op.data.size()) + " bytes";
    case OpType::kTruncate: return "truncate " + op.path + " to " + std::to_string(op.size);
    case OpType::kPreallocate: return "preallocate " + op.path + " " + std::to_string(op.size);
    case OpType::kSync: return "sync " + op.path;
    case OpType::kRename: return "rename " + op.path + " -> " + op.path2;
    case OpType::kUnlink: return "unlink " + op.path;
    case OpType::kMkdir: return "mkdir " + op.path;
    case OpType::kRmdir: return "rmdir " + op.path;
    case OpType::kSyncDir: return "syncdir " + op.path;
  }
  return "?";
}

}  // namespace power_loss

class PowerLossWritableFile final : public WritableFile {
 public:
  PowerLossWritableFile(PowerLossFileSystem* owner, std::shared_ptr<PowerLossFileSystem::Inode> inode,
                        std::string path, uint64_t size)
      : owner_(owner), inode_(std::move(inode)), path_(std::move(path)), size_(size) {}

  Status Append(std::string_view data) override {
    std::lock_guard lock(owner_->mutex_);
    if (closed_) return FailedPrecondition("write " + path_ + ": file is closed");
    Op op{OpType::kWrite, inode_->id, path_, "", size_, 0, std::string(data)};
    if (inode_->data.size() < size_ + data.size()) inode_->data.resize(size_ + data.size(), '\0');
    std::copy(data.begin(), data.end(), inode_->data.begin() + static_cast<std::ptrdiff_t>(size_));
    size_ += data.size();
    owner_->RecordLocked(std::move(op));
    inode_->mtime = static_cast<int64_t>(owner_->journal_.size());
    return Status::Ok();
  }

  Status Sync() override {
    std::unique_lock lock(owner_->mutex_);
    if (closed_) return FailedPrecondition("fdatasync " + path_ + ": file is closed");
    owner_->MaybeHoldSync(lock);
    owner_->RecordLocked(Op{OpType::kSync, inode_->id, path_, "", 0, 0, ""});
    ++owner_->syncs_;
    return Status::Ok();
  }

  Status Truncate(uint64_t size) override {
    std::lock_guard lock(owner_->mutex_);
    if (closed_) return FailedPrecondition("ftruncate " + path_ + ": file is closed");
    inode_->data.resize(size, '\0');
    size_ = size;
    owner_->RecordLocked(Op{OpType::kTruncate, inode_->id, path_, "", 0, size, ""});
    inode_->mtime = static_cast<int64_t>(owner_->journal_.size());
    return Status::Ok();
  }

  Status Preallocate(uint64_t size) override {
    std::lock_guard lock(owner_->mutex_);
    if (closed_) return FailedPrecondition("fallocate " + path_ + ": file is closed");
    owner_->RecordLocked(Op{OpType::kPreallocate, inode_->id, path_, "", 0, size, ""});
    return Status::Ok();
  }

  uint64_t Size() const override { return size_; }

  Status Close() override {
    closed_ = true;
    return Status::Ok();
  }

 private:
  PowerLossFileSystem* const owner_;
  const std::shared_ptr<PowerLossFileSystem::Inode> inode_;
  const std::string path_;
  uint64_t size_;
  bool closed_ = false;
};

class PowerLossRandomAccessFile final : public RandomAccessFile {
 public:
  PowerLossRandomAccessFile(const PowerLossFileSystem* owner, std::shared_ptr<PowerLossFileSystem::Inode> inode)
      : owner_(owner), inode_(std::move(inode)) {}

  Status ReadAt(uint64_t offset, size_t length, std::string* out) const override {
    std::lock_guard lock(owner_->mutex_);
    const std::string& data = inode_->data;
    if (offset >= data.size()) {
      out->clear();
    } else {
      out->assign(data, static_cast<size_t>(offset), length);
    }
    return Status::Ok();
  }

  Result<uint64_t> Size() const override {
    std::lock_guard lock(owner_->mutex_);
    return static_cast<uint64_t>(inode_->data.size());
  }

 private:
  const PowerLossFileSystem* const owner_;
  const std::shared_ptr<PowerLossFileSystem::Inode> inode_;
};

PowerLossFileSystem::PowerLossFileSystem() : PowerLossFileSystem(power_loss::Image{}) {}

PowerLossFileSystem::PowerLossFileSystem(power_loss::Image image) : base_(std::move(image)) {
  directories_ = base_.directories;
  std::map<uint64_t, std::shared_ptr<Inode>> inodes;
  for (const auto& [path, id] : base_.files) {
    auto& inode = inodes[id];
    if (!inode) {
      inode = std::make_shared<Inode>();
      inode->id = id;
      auto contents = base_.contents.find(id);
      if (contents != base_.contents.end()) inode->data = contents->second;
    }
    files_[path] = inode;
    next_inode_ = std::max(next_inode_, id + 1);
  }
}

PowerLossFileSystem::~PowerLossFileSystem() = default;

uint64_t PowerLossFileSystem::operation_count() const {
  std::lock_guard lock(mutex_);
  return journal_.size();
}

std::string PowerLossFileSystem::DescribeOperation(uint64_t index) const {
  std::lock_guard lock(mutex_);
  if (index >= journal_.size()) return "#" + std::to_string(index) + " (end of the workload)";
  return "#" + std::to_string(index) + " " + power_loss::Describe(journal_[index]);
}

uint64_t PowerLossFileSystem::sync_count() const {
  std::lock_guard lock(mutex_);
  return syncs_;
}

void PowerLossFileSystem::HoldNextSync() {
  std::lock_guard lock(mutex_);
  hold_armed_ = true;
  hold_owner_ = std::this_thread::get_id();
}

bool PowerLossFileSystem::WaitForHeldSync(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return hold_cv_.wait_for(lock, timeout, [this] { return holding_; });
}

void PowerLossFileSystem::ReleaseHeldSync() {
  std::lock_guard lock(mutex_);
  hold_armed_ = false;
  holding_ = false;
  hold_cv_.notify_all();
}

void PowerLossFileSystem::MaybeHoldSync(std::unique_lock<std::mutex>& lock) {
  // The thread that armed the hold would wait for itself.
  if (!hold_armed_ || std::this_thread::get_id() == hold_owner_) return;
  hold_armed_ = false;
  holding_ = true;
  hold_cv_.notify_all();
  hold_cv_.wait(lock, [this] { return !holding_; });
}

void PowerLossFileSystem::RecordLocked(Op op) { journal_.push_back(std::move(op)); }

bool PowerLossFileSystem::DirectoryExistsLocked(const std::string& path) const {
  return path.empty() || path == "/" || path == "." || directories_.count(path) != 0;
}

Status PowerLossFileSystem::CheckParentLocked(const std::string& path) const {
  const std::string parent = power_loss::ParentOf(path);
  if (!DirectoryExistsLocked(parent)) return NotFound(path + ": no such directory " + parent);
  return Status::Ok();
}

Result<std::shared_ptr<PowerLossFileSystem::Inode>> PowerLossFileSystem::OpenFileLocked(const std::string& path,
                                                                                         bool truncate) {
  if (directories_.count(path) != 0 || path.empty() || path == "/") return IOError(path + ": is a directory");
  auto found = files_.find(path);
  if (found != files_.end()) {
    if (truncate && !found->second->data.empty()) WAL_RETURN_IF_ERROR(TruncateLocked(path, *found->second, 0));
    return found->second;
  }
  WAL_RETURN_IF_ERROR(CheckParentLocked(path));
  auto inode = std::make_shared<Inode>();
  inode->id = next_inode_++;
  files_[path] = inode;
  RecordLocked(Op{OpType::kCreate, inode->id, path, "", 0, 0, ""});
  inode->mtime = static_cast<int64_t>(journal_.size());
  return inode;
}

Status PowerLossFileSystem::AppendLocked(const std::string& path, Inode& inode, std::string_view data) {
  RecordLocked(Op{OpType::kWrite, inode.id, path, "", inode.data.size(), 0, std::string(data)});
  inode.data.append(data);
  inode.mtime = static_cast<int64_t>(journal_.size());
  return Status::Ok();
}

Status PowerLossFileSystem::SyncLocked(const std::string& path, Inode& inode) {
  RecordLocked(Op{OpType::kSync, inode.id, path, "", 0, 0, ""});
  ++syncs_;
  return Status::Ok();
}

Status PowerLossFileSystem::TruncateLocked(const std::string& path, Inode& inode, uint64_t size) {
  inode.data.resize(size, '\0');
  RecordLocked(Op{OpType::kTruncate, inode.id, path, "", 0, size, ""});
  inode.mtime = static_cast<int64_t>(journal_.size());
  return Status::Ok();
}

Status PowerLossFileSystem::UnlinkLocked(const std::string& path) {
  auto found = files_.find(path);
  if (found == files_.end()) {
    if (DirectoryExistsLocked(path)) return IOError("unlink " + path + ": is a directory");
    return NotFound("unlink " + path + ": no such file");
  }
  RecordLocked(Op{OpType::kUnlink, found->second->id, path, "", 0, 0, ""});
  files_.erase(found);
  return Status::Ok();
}

Status PowerLossFileSystem::RenameLocked(const std::string& from, const std::string& to) {
  auto found = files_.find(from);
  if (found == files_.end()) {
    if (DirectoryExistsLocked(from)) return InvalidArgument("rename " + from + ": PowerLossFileSystem renames files only");
    return NotFound("rename " + from + ": no such file");
  }
  if (DirectoryExistsLocked(to)) return IOError("rename " + from + " -> " + to + ": target is a directory");
  WAL_RETURN_IF_ERROR(CheckParentLocked(to));
  if (from == to) return Status::Ok();
  std::shared_ptr<Inode> inode = found->second;
  files_.erase(found);
  files_[to] = inode;
  RecordLocked(Op{OpType::kRename, inode->id, from, to, 0, 0, ""});
  return Status::Ok();
}

Status PowerLossFileSystem::SyncDirectoryLocked(const std::string& directory) {
  if (!DirectoryExistsLocked(directory)) return NotFound("fsync " + directory + ": no such directory");
  RecordLocked(Op{OpType::kSyncDir, 0, directory, "", 0, 0, ""});
  ++syncs_;
  return Status::Ok();
}

Result<std::unique_ptr<WritableFile>> PowerLossFileSystem::OpenAppendable(const std::string& path) {
  const std::string normal = power_loss::NormalisePath(path);
  std::lock_guard lock(mutex_);
  WAL_ASSIGN_OR_RETURN(std::shared_ptr<Inode> inode, OpenFileLocked(normal, /*truncate=*/false));
  const uint64_t size = inode->data.size();
  return std::unique_ptr<WritableFile>(std::make_unique<PowerLossWritableFile>(this, std::move(inode), normal, size));
}

Result<std::unique_ptr<RandomAccessFile>> PowerLossFileSystem::OpenRandomAccess(const std::string& path) {
  const std::string normal = power_loss::NormalisePath(path);
  std::lock_guard lock(mutex_);
  auto found = files_.find(normal);
  if (found == files_.end()) return NotFound("open " + normal + ": no such file");
  return std::unique_ptr<RandomAccessFile>(std::make_unique<PowerLossRandomAccessFile>(this, found->second));
}

Result<std::string> PowerLossFileSystem::ReadFile(const std::string& path) {
  const std::string normal = power_loss::NormalisePath(path);
  std::lock_guard lock(mutex_);
  auto found = files_.find(normal);
  if (found == files_.end()) return NotFound("open " + normal + ": no such file");
  return found->second->data;
}

// The same steps as the POSIX implementation: write a temporary file, sync it,
// rename it over `path`, sync the directory.
Status PowerLossFileSystem::WriteFileAtomically(const std::string& path, std::string_view contents) {
  const std::string normal = power_loss::NormalisePath(path);
  const std::string temporary = normal + ".tmp";
  std::lock_guard lock(mutex_);
  WAL_ASSIGN_OR_RETURN(std::shared_ptr<Inode> inode, OpenFileLocked(temporary, /*truncate=*/true));
  WAL_RETURN_IF_ERROR(AppendLocked(temporary, *inode, contents));
  WAL_RETURN_IF_ERROR(SyncLocked(temporary, *inode));
  Status renamed = RenameLocked(temporary, normal);
  if (!renamed.ok()) {
    (void)UnlinkLocked(temporary);
    return renamed;
  }
  return SyncDirectoryLocked(power_loss::ParentOf(normal));
}

Result<std::vector<std::string>> PowerLossFileSystem::ListDirectory(const std::string& directory) {
  const std::string normal = power_loss::NormalisePath(directory);
  std::lock_guard lock(mutex_);
  if (!DirectoryExistsLocked(normal)) return NotFound("opendir " + normal + ": no such directory");
  std::set<std::string> names;
  auto add = [&](const std::string& path) {
    if (power_loss::ParentOf(path) != normal) return;
    names.insert(normal.empty() ? path : path.substr(normal == "/" ? 1 : normal.size() + 1));
  };
  for (const auto& [path, inode] : files_) add(path);
  for (const std::string& path : directories_) add(path);
  return std::vector<std::string>(names.begin(), names.end());
}

// The same steps as posix_file_system.cc (common/create_directories.h): each
// new directory is made, then its parent is synced.
Status PowerLossFileSystem::CreateDirectories(const std::string& directory) {
  class Steps final : public DirectorySteps {
   public:
    explicit Steps(PowerLossFileSystem* fs) : fs_(fs) {}
    Result<bool> MakeDirectory(const std::string& path) override {
      const std::string normal = power_loss::NormalisePath(path);
      if (fs_->DirectoryExistsLocked(normal)) return false;
      if (fs_->files_.count(normal) != 0) return IOError("mkdir " + normal + ": a file is there");
      WAL_RETURN_IF_ERROR(fs_->CheckParentLocked(normal));
      fs_->directories_.insert(normal);
      fs_->RecordLocked(Op{OpType::kMkdir, 0, normal, "", 0, 0, ""});
      return true;
    }
    Status SyncDirectory(const std::string& path) override {
      return fs_->SyncDirectoryLocked(power_loss::NormalisePath(path));
    }

   private:
    PowerLossFileSystem* const fs_;
  };
  std::lock_guard lock(mutex_);
  Steps steps(this);
  return CreateDirectoriesDurably(directory, steps);
}

Status PowerLossFileSystem::RemoveFile(const std::string& path) {
  const std::string normal = power_loss::NormalisePath(path);
  std::lock_guard lock(mutex_);
  return UnlinkLocked(normal);
}

Status PowerLossFileSystem::RemoveAll(const std::string& directory) {
  const std::string normal = power_loss::NormalisePath(directory);
  std::lock_guard lock(mutex_);
  if (files_.count(normal) != 0) return UnlinkLocked(normal);
  if (directories_.count(normal) == 0) return Status::Ok();
  const std::string prefix = normal == "/" ? "/" : normal + "/";
  std::vector<std::string> doomed_files;
  for (const auto& [path, inode] : files_) {
    if (path.rfind(prefix, 0) == 0) doomed_files.push_back(path);
  }
  for (const std::string& path : doomed_files) WAL_RETURN_IF_ERROR(UnlinkLocked(path));
  std::vector<std::string> doomed_directories;
  for (const std::string& path : directories_) {
    if (path == normal || path.rfind(prefix, 0) == 0) doomed_directories.push_back(path);
  }
  // Deepest first, as rmdir needs.
  std::sort(doomed_directories.begin(), doomed_directories.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const std::string& path : doomed_directories) {
    directories_.erase(path);
    RecordLocked(Op{OpType::kRmdir, 0, path, "", 0, 0, ""});
  }
  return Status::Ok();
}

Status PowerLossFileSystem::Rename(const std::string& from, const std::string& to) {
  const std::string normal_from = power_loss::NormalisePath(from);
  const std::string normal_to = power_loss::NormalisePath(to);
  std::lock_guard lock(mutex_);
  return RenameLocked(normal_from, normal_to);
}

Status PowerLossFileSystem::SyncDirectory(const std::string& directory) {
  const std::string normal = power_loss::NormalisePath(directory);
  std::lock_guard lock(mutex_);
  return SyncDirectoryLocked(normal);
}

bool PowerLossFileSystem::Exists(const std::string& path) {
  const std::string normal = power_loss::NormalisePath(path);
  std::lock_guard lock(mutex_);
  return files_.count(normal) != 0 || DirectoryExistsLocked(normal);
}

Result<FileInfo> PowerLossFileSystem::Stat(const std::string& path) {
  const std::string normal = power_loss::NormalisePath(path);
  std::lock_guard lock(mutex_);
  auto found = files_.find(normal);
  if (found != files_.end()) {
    return FileInfo{found->second->data.size(), found->second->mtime, found->second->id, 1};
  }
  if (DirectoryExistsLocked(normal)) return FileInfo{0, 0, 0, 1};
  return NotFound("stat " + normal + ": no such file or directory");
}

}  // namespace wal::testing
