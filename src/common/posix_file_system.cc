#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>

#include "common/create_directories.h"
#include "common/file_lock.h"
#include "common/file_system.h"

namespace wal {
namespace {

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd, uint64_t size) : path_(std::move(path)), fd_(fd), size_(size) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status Append(std::string_view data) override {
    while (!data.empty()) {
      ssize_t written = ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(size_));
      if (written < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("write " + path_, errno);
      }
      size_ += static_cast<uint64_t>(written);
      data.remove_prefix(static_cast<size_t>(written));
    }
    return Status::Ok();
  }

  Status Sync() override {
    if (::fdatasync(fd_) != 0) return ErrnoStatus("fdatasync " + path_, errno);
    return Status::Ok();
  }

  Status Truncate(uint64_t size) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return ErrnoStatus("ftruncate " + path_, errno);
    size_ = size;
    return Status::Ok();
  }

  Status Preallocate(uint64_t size) override {
    int error = ::fallocate(fd_, FALLOC_FL_KEEP_SIZE, 0, static_cast<off_t>(size));
    if (error != 0 && errno != EOPNOTSUPP) return ErrnoStatus("fallocate " + path_, errno);
    return Status::Ok();
  }

  uint64_t Size() const override { return size_; }

  Status Close() override {
    if (fd_ < 0) return Status::Ok();
    int result = ::close(fd_);
    fd_ = -1;
    if (result != 0) return ErrnoStatus("close " + path_, errno);
    return Status::Ok();
  }

 private:
  std::string path_;
  int fd_;
  uint64_t size_;
};

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  PosixRandomAccessFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixRandomAccessFile() override { ::close(fd_); }

  Status ReadAt(uint64_t offset, size_t length, std::string* out) const override {
    out->resize(length);
    size_t total = 0;
    while (total < length) {
      ssize_t got = ::pread(fd_, out->data() + total, length - total, static_cast<off_t>(offset + total));
      if (got < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("read " + path_, errno);
      }
      if (got == 0) break;
      total += static_cast<size_t>(got);
    }
    out->resize(total);
    return Status::Ok();
  }

  Result<uint64_t> Size() const override {
    struct stat info {};
    if (::fstat(fd_, &info) != 0) return ErrnoStatus("stat " + path_, errno);
    return static_cast<uint64_t>(info.st_size);
  }

 private:
  std::string path_;
  int fd_;
};

Status SyncPath(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open " + path, errno);
  int result = ::fsync(fd);
  int saved = errno;
  ::close(fd);
  if (result != 0) return ErrnoStatus("fsync " + path, saved);
  return Status::Ok();
}

class PosixDirectorySteps final : public DirectorySteps {
 public:
  Result<bool> MakeDirectory(const std::string& path) override {
    if (::mkdir(path.c_str(), 0777) == 0) return true;  // the umask applies, as for any mkdir
    int error = errno;
    if (error != EEXIST) return ErrnoStatus("mkdir " + path, error);
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) return ErrnoStatus("stat " + path, errno);
    if (!S_ISDIR(info.st_mode)) return ErrnoStatus("mkdir " + path, ENOTDIR);
    return false;
  }
  Status SyncDirectory(const std::string& path) override { return SyncPath(path, O_RDONLY | O_DIRECTORY); }
};

std::string ParentDirectory(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

class PosixFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<WritableFile>> OpenAppendable(const std::string& path) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoStatus("open " + path, errno);
    struct stat info {};
    if (::fstat(fd, &info) != 0) {
      int saved = errno;
      ::close(fd);
      return ErrnoStatus("stat " + path, saved);
    }
    return std::unique_ptr<WritableFile>(
        std::make_unique<PosixWritableFile>(path, fd, static_cast<uint64_t>(info.st_size)));
  }

  Result<std::unique_ptr<RandomAccessFile>> OpenRandomAccess(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("open " + path, errno);
    return std::unique_ptr<RandomAccessFile>(std::make_unique<PosixRandomAccessFile>(path, fd));
  }

  Result<std::string> ReadFile(const std::string& path) override {
    WAL_ASSIGN_OR_RETURN(auto file, OpenRandomAccess(path));
    WAL_ASSIGN_OR_RETURN(uint64_t size, file->Size());
    std::string contents;
    WAL_RETURN_IF_ERROR(file->ReadAt(0, size, &contents));
    return contents;
  }

  Status WriteFileAtomically(const std::string& path, std::string_view contents) override {
    std::string temporary = path + ".tmp";
    int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoStatus("open " + temporary, errno);
    PosixWritableFile file(temporary, fd, 0);
    Status status = file.Append(contents);
    if (status.ok()) status = file.Sync();
    Status closed = file.Close();
    if (status.ok()) status = closed;
    if (!status.ok()) {
      ::unlink(temporary.c_str());
      return status;
    }
    if (::rename(temporary.c_str(), path.c_str()) != 0) {
      int saved = errno;
      ::unlink(temporary.c_str());
      return ErrnoStatus("rename " + temporary, saved);
    }
    return SyncDirectory(ParentDirectory(path));
  }

  Result<std::vector<std::string>> ListDirectory(const std::string& directory) override {
    DIR* handle = ::opendir(directory.c_str());
    if (handle == nullptr) return ErrnoStatus("opendir " + directory, errno);
    std::vector<std::string> names;
    while (struct dirent* entry = ::readdir(handle)) {
      std::string name = entry->d_name;
      if (name != "." && name != "..") names.push_back(std::move(name));
    }
    ::closedir(handle);
    std::sort(names.begin(), names.end());
    return names;
  }

  Status CreateDirectories(const std::string& directory) override {
    PosixDirectorySteps steps;
    return CreateDirectoriesDurably(directory, steps);
  }

  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return ErrnoStatus("unlink " + path, errno);
    return Status::Ok();
  }

  Status RemoveAll(const std::string& directory) override {
    std::error_code error;
    std::filesystem::remove_all(directory, error);
    if (error) return ErrnoStatus("remove " + directory, error.value());
    return Status::Ok();
  }

  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return ErrnoStatus("rename " + from, errno);
    return Status::Ok();
  }

  Status SyncDirectory(const std::string& directory) override { return SyncPath(directory, O_RDONLY | O_DIRECTORY); }

  bool Exists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }

  Result<FileInfo> Stat(const std::string& path) override {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) return ErrnoStatus("stat " + path, errno);
    FileInfo file;
    file.size = static_cast<uint64_t>(info.st_size);
    file.mtime_ns = static_cast<int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 + info.st_mtim.tv_nsec;
    file.inode = static_cast<uint64_t>(info.st_ino);
    file.device = static_cast<uint64_t>(info.st_dev);
    return file;
  }

  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override { return LockFileWithFlock(path); }
};

}  // namespace

FileSystem* DefaultFileSystem() {
  static PosixFileSystem* file_system = new PosixFileSystem();
  return file_system;
}

std::string JoinPath(std::string_view left, std::string_view right) {
  std::string joined(left);
  while (!joined.empty() && joined.back() == '/') joined.pop_back();
  while (!right.empty() && right.front() == '/') right.remove_prefix(1);
  joined += '/';
  joined += right;
  return joined;
}

}  // namespace wal
