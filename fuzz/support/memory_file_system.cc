#include "memory_file_system.h"

namespace wal::fuzz {
namespace {

std::string Normalize(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

std::string Parent(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return "";
  return slash == 0 ? "/" : path.substr(0, slash);
}

bool IsUnder(const std::string& path, const std::string& directory) {
  return path.size() > directory.size() && path.compare(0, directory.size(), directory) == 0 &&
         (directory == "/" || path[directory.size()] == '/');
}

class MemoryWritableFile final : public WritableFile {
 public:
  MemoryWritableFile(std::mutex* mutex, std::shared_ptr<MemoryFileSystem::File> file)
      : mutex_(mutex), file_(std::move(file)) {}
  Status Append(std::string_view data) override {
    std::lock_guard lock(*mutex_);
    file_->bytes.append(data);
    ++file_->mtime_ns;
    return Status::Ok();
  }
  Status Sync() override { return Status::Ok(); }
  Status Truncate(uint64_t size) override {
    std::lock_guard lock(*mutex_);
    file_->bytes.resize(size);
    return Status::Ok();
  }
  Status Preallocate(uint64_t) override { return Status::Ok(); }
  uint64_t Size() const override {
    std::lock_guard lock(*mutex_);
    return file_->bytes.size();
  }
  Status Close() override { return Status::Ok(); }

 private:
  std::mutex* mutex_;
  std::shared_ptr<MemoryFileSystem::File> file_;
};

class MemoryRandomAccessFile final : public RandomAccessFile {
 public:
  MemoryRandomAccessFile(std::mutex* mutex, std::shared_ptr<MemoryFileSystem::File> file)
      : mutex_(mutex), file_(std::move(file)) {}
  Status ReadAt(uint64_t offset, size_t length, std::string* out) const override {
    std::lock_guard lock(*mutex_);
    if (offset >= file_->bytes.size()) {
      out->clear();
      return Status::Ok();
    }
    *out = file_->bytes.substr(offset, length);
    return Status::Ok();
  }
  Result<uint64_t> Size() const override {
    std::lock_guard lock(*mutex_);
    return static_cast<uint64_t>(file_->bytes.size());
  }

 private:
  std::mutex* mutex_;
  std::shared_ptr<MemoryFileSystem::File> file_;
};

}  // namespace

std::shared_ptr<MemoryFileSystem::File> MemoryFileSystem::NewFileLocked() {
  auto file = std::make_shared<File>();
  file->inode = next_inode_++;
  file->mtime_ns = ++clock_ns_;
  return file;
}

void MemoryFileSystem::CreateDirectoriesLocked(const std::string& directory) {
  for (std::string path = Normalize(directory); !path.empty() && path != "/"; path = Parent(path)) {
    directories_.insert(path);
  }
}

void MemoryFileSystem::SetFile(const std::string& path, std::string contents) {
  std::lock_guard lock(mutex_);
  CreateDirectoriesLocked(Parent(path));
  auto file = NewFileLocked();
  file->bytes = std::move(contents);
  files_[Normalize(path)] = std::move(file);
}

void MemoryFileSystem::Clear() {
  std::lock_guard lock(mutex_);
  files_.clear();
  directories_.clear();
}

Result<std::unique_ptr<WritableFile>> MemoryFileSystem::OpenAppendable(const std::string& path) {
  std::lock_guard lock(mutex_);
  const std::string name = Normalize(path);
  if (directories_.count(Parent(name)) == 0 && Parent(name) != "/") return NotFound(path + ": no such directory");
  auto& file = files_[name];
  if (!file) file = NewFileLocked();
  return std::unique_ptr<WritableFile>(std::make_unique<MemoryWritableFile>(&mutex_, file));
}

Result<std::unique_ptr<RandomAccessFile>> MemoryFileSystem::OpenRandomAccess(const std::string& path) {
  std::lock_guard lock(mutex_);
  auto found = files_.find(Normalize(path));
  if (found == files_.end()) return NotFound(path + ": no such file");
  return std::unique_ptr<RandomAccessFile>(std::make_unique<MemoryRandomAccessFile>(&mutex_, found->second));
}

Result<std::string> MemoryFileSystem::ReadFile(const std::string& path) {
  std::lock_guard lock(mutex_);
  auto found = files_.find(Normalize(path));
  if (found == files_.end()) return NotFound(path + ": no such file");
  return found->second->bytes;
}

Status MemoryFileSystem::WriteFileAtomically(const std::string& path, std::string_view contents) {
  std::lock_guard lock(mutex_);
  const std::string name = Normalize(path);
  if (directories_.count(Parent(name)) == 0 && Parent(name) != "/") return NotFound(path + ": no such directory");
  auto file = NewFileLocked();
  file->bytes = std::string(contents);
  files_[name] = std::move(file);
  return Status::Ok();
}

Result<std::vector<std::string>> MemoryFileSystem::ListDirectory(const std::string& directory) {
  std::lock_guard lock(mutex_);
  const std::string name = Normalize(directory);
  if (directories_.count(name) == 0 && name != "/") return NotFound(directory + ": no such directory");
  std::set<std::string> entries;
  auto add_child = [&](const std::string& path) {
    if (Parent(path) == name) entries.insert(path.substr(name == "/" ? 1 : name.size() + 1));
  };
  for (const auto& [path, file] : files_) add_child(path);
  for (const std::string& path : directories_) add_child(path);
  return std::vector<std::string>(entries.begin(), entries.end());
}

Status MemoryFileSystem::CreateDirectories(const std::string& directory) {
  std::lock_guard lock(mutex_);
  if (files_.count(Normalize(directory)) != 0) return IOError(directory + ": is a file");
  CreateDirectoriesLocked(directory);
  return Status::Ok();
}

Status MemoryFileSystem::RemoveFile(const std::string& path) {
  std::lock_guard lock(mutex_);
  if (files_.erase(Normalize(path)) == 0) return NotFound(path + ": no such file");
  return Status::Ok();
}

Status MemoryFileSystem::RemoveAll(const std::string& directory) {
  std::lock_guard lock(mutex_);
  const std::string name = Normalize(directory);
  std::erase_if(files_, [&](const auto& entry) { return entry.first == name || IsUnder(entry.first, name); });
  std::erase_if(directories_, [&](const std::string& path) { return path == name || IsUnder(path, name); });
  return Status::Ok();
}

Status MemoryFileSystem::Rename(const std::string& from, const std::string& to) {
  std::lock_guard lock(mutex_);
  auto found = files_.find(Normalize(from));
  if (found == files_.end()) return NotFound(from + ": no such file");
  auto file = found->second;
  files_.erase(found);
  files_[Normalize(to)] = std::move(file);
  return Status::Ok();
}

Status MemoryFileSystem::SyncDirectory(const std::string&) { return Status::Ok(); }

bool MemoryFileSystem::Exists(const std::string& path) {
  std::lock_guard lock(mutex_);
  const std::string name = Normalize(path);
  return files_.count(name) != 0 || directories_.count(name) != 0;
}

Result<FileInfo> MemoryFileSystem::Stat(const std::string& path) {
  std::lock_guard lock(mutex_);
  auto found = files_.find(Normalize(path));
  if (found == files_.end()) {
    if (directories_.count(Normalize(path)) != 0) return FileInfo{};
    return NotFound(path + ": no such file");
  }
  return FileInfo{found->second->bytes.size(), found->second->mtime_ns, found->second->inode, 1};
}

}  // namespace wal::fuzz
