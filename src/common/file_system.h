// FileSystem: the only way wal touches files.
//
// Everything that reads or writes the disk (the embedded log, checkpoints, the
// namespace config saver) goes through this interface so that tests can swap in
// FaultInjectingFileSystem (common/fault_injecting_file_system.h) and produce
// short writes, fsync failures and ENOSPC on demand.
//
// Threading: a FileSystem is safe to call from any thread. A WritableFile or
// RandomAccessFile object is owned by one caller and is not internally
// synchronised; RandomAccessFile::ReadAt is the exception and may be called
// concurrently.
//
// Failure: every method returns Status/Result; none throws. ENOSPC maps to
// StatusCode::kNoSpace so callers can answer "not written" rather than "unknown".
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace wal {

class WritableFile {
 public:
  WritableFile() = default;
  WritableFile(const WritableFile&) = delete;
  WritableFile& operator=(const WritableFile&) = delete;
  virtual ~WritableFile() = default;

  // Writes all of `data` at the current end position. On error some prefix of
  // `data` may have reached the file; the caller must Truncate() back to the
  // size it had before the call if it wants to continue appending.
  virtual Status Append(std::string_view data) = 0;

  // fdatasync(): returns OK only once every byte appended so far is durable.
  // After a failure the durability of anything unsynced is unknown.
  virtual Status Sync() = 0;

  // Cuts the file to `size` bytes and moves the append position there.
  virtual Status Truncate(uint64_t size) = 0;

  // Reserves `size` bytes of disk (fallocate with KEEP_SIZE) so later appends up
  // to that size cannot fail for lack of space and need no metadata update.
  virtual Status Preallocate(uint64_t size) = 0;

  // The append position: bytes written through this object plus the initial size.
  virtual uint64_t Size() const = 0;

  virtual Status Close() = 0;
};

class RandomAccessFile {
 public:
  RandomAccessFile() = default;
  RandomAccessFile(const RandomAccessFile&) = delete;
  RandomAccessFile& operator=(const RandomAccessFile&) = delete;
  virtual ~RandomAccessFile() = default;
  // Reads up to `length` bytes at `offset` into `*out` (resized to what was
  // read). A short result means end of file. Thread-safe.
  virtual Status ReadAt(uint64_t offset, size_t length, std::string* out) const = 0;
  virtual Result<uint64_t> Size() const = 0;
};

// What Stat() reports: enough to tell that a file was rewritten or replaced.
struct FileInfo {
  uint64_t size = 0;
  int64_t mtime_ns = 0;  // last modification, nanoseconds since the Unix epoch
  uint64_t inode = 0;
  uint64_t device = 0;
  bool operator==(const FileInfo&) const = default;
};

// An exclusive lock taken with FileSystem::LockFile. Destroying it releases the
// lock; nothing else does (the process dying aside).
class FileLock {
 public:
  FileLock() = default;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  virtual ~FileLock() = default;
};

class FileSystem {
 public:
  FileSystem() = default;
  FileSystem(const FileSystem&) = delete;
  FileSystem& operator=(const FileSystem&) = delete;
  virtual ~FileSystem() = default;

  // Opens `path` for appending, creating it if absent; the append position is the
  // current end of the file. The returned object is owned by the caller.
  virtual Result<std::unique_ptr<WritableFile>> OpenAppendable(const std::string& path) = 0;
  virtual Result<std::unique_ptr<RandomAccessFile>> OpenRandomAccess(const std::string& path) = 0;

  virtual Result<std::string> ReadFile(const std::string& path) = 0;

  // Replaces `path` with `contents` atomically: write a temporary file, fsync it,
  // rename over `path`, fsync the directory. Readers see the old or the new
  // contents, never a mix, even after a crash.
  virtual Status WriteFileAtomically(const std::string& path, std::string_view contents) = 0;

  // Names (not paths) of the entries of `directory`, sorted.
  virtual Result<std::vector<std::string>> ListDirectory(const std::string& directory) = 0;
  // Creates `directory` and any missing parents. Each directory it creates is
  // durable when it returns (its parent was fsynced), so files later created and
  // synced inside cannot vanish with it in a power loss.
  virtual Status CreateDirectories(const std::string& directory) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  // Removes `directory` and everything under it.
  virtual Status RemoveAll(const std::string& directory) = 0;
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // fsync() on a directory, making creations, renames and removals in it durable.
  virtual Status SyncDirectory(const std::string& directory) = 0;
  virtual bool Exists(const std::string& path) = 0;
  // Follows symlinks, so a file swapped by re-pointing a link (a Kubernetes
  // ConfigMap or Secret mount) shows up as a different inode. kNotFound when
  // `path` does not exist.
  virtual Result<FileInfo> Stat(const std::string& path) = 0;
  // Takes an exclusive lock on `path` (created if absent, never removed) for the
  // life of the returned object, without waiting: when any other holder has it,
  // fails with kUnavailable naming the path and saying it is held by another
  // process. The POSIX implementation is flock(LOCK_EX | LOCK_NB) on a
  // descriptor the lock keeps open; such a lock belongs to one open file
  // description, so a second LockFile of the same path in this process
  // conflicts too. The kernel drops it when the process dies (kill -9
  // included): a crash never leaves a stale lock behind. Advisory: it keeps out
  // only those who take it as well.
  virtual Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) = 0;
};

// The process-wide POSIX implementation. Never null; lives for the whole process.
FileSystem* DefaultFileSystem();

// Joins two path pieces with exactly one '/'.
std::string JoinPath(std::string_view left, std::string_view right);

}  // namespace wal
