// An in-memory FileSystem for fuzz targets: every file is a string, syncs are
// no-ops and nothing touches the disk, so a target can open a log over bytes
// it made up and run millions of times without wearing anything out.
//
// Threading: thread-safe (one mutex); WritableFile objects share their file's
// bytes with readers under that mutex.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "common/file_lock.h"
#include "common/file_system.h"

namespace wal::fuzz {

class MemoryFileSystem final : public FileSystem {
 public:
  MemoryFileSystem() = default;
  MemoryFileSystem(const MemoryFileSystem&) = delete;
  MemoryFileSystem& operator=(const MemoryFileSystem&) = delete;

  // Puts `contents` at `path`, creating its directories.
  void SetFile(const std::string& path, std::string contents);
  // Forgets every file and directory.
  void Clear();

  Result<std::unique_ptr<WritableFile>> OpenAppendable(const std::string& path) override;
  Result<std::unique_ptr<RandomAccessFile>> OpenRandomAccess(const std::string& path) override;
  Result<std::string> ReadFile(const std::string& path) override;
  Status WriteFileAtomically(const std::string& path, std::string_view contents) override;
  Result<std::vector<std::string>> ListDirectory(const std::string& directory) override;
  Status CreateDirectories(const std::string& directory) override;
  Status RemoveFile(const std::string& path) override;
  Status RemoveAll(const std::string& directory) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status SyncDirectory(const std::string& directory) override;
  bool Exists(const std::string& path) override;
  Result<FileInfo> Stat(const std::string& path) override;
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override { return locks_.Lock(path); }

  struct File {
    std::string bytes;
    uint64_t inode = 0;
    int64_t mtime_ns = 0;
  };

 private:
  void CreateDirectoriesLocked(const std::string& directory);
  std::shared_ptr<File> NewFileLocked();

  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<File>> files_;
  std::set<std::string> directories_;
  uint64_t next_inode_ = 1;
  int64_t clock_ns_ = 0;  // a counter, so every write changes mtime
  InProcessFileLocks locks_;  // locks create no file
};

}  // namespace wal::fuzz
