// FaultInjectingFileSystem: a FileSystem decorator that makes chosen operations
// fail on demand, so tests can drive the failure paths (fsync errors, ENOSPC,
// short writes, failed truncates) of any code that writes through a FileSystem.
//
// It wraps another FileSystem (usually DefaultFileSystem()) and forwards every
// call. The knobs apply to every WritableFile it hands out, including files opened
// before the knob was set. All knobs and counters are thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/file_system.h"

namespace wal {

class FaultInjectingFileSystem final : public FileSystem {
 public:
  // `base` must outlive this object.
  explicit FaultInjectingFileSystem(FileSystem* base);

  // The next `n` WritableFile::Sync() calls return IOError("injected fsync failure")
  // without syncing.
  void FailNextSyncs(int n);

  // While set, WritableFile::Append writes nothing and returns kNoSpace, and
  // WriteFileAtomically fails the same way.
  void SetNoSpace(bool no_space);

  // The next WritableFile::Append writes only its first `bytes_to_write_then_fail`
  // bytes (fewer if the data is shorter) and then returns IOError.
  void ShortWriteNext(size_t bytes_to_write_then_fail);

  // While set, WritableFile::Truncate returns IOError without truncating.
  void FailTruncate(bool fail);

  // Clears every knob (counters are kept).
  void Reset();

  uint64_t syncs() const { return syncs_.load(); }      // successful WritableFile::Sync calls
  uint64_t appends() const { return appends_.load(); }  // WritableFile::Append calls (any outcome)
  uint64_t injected_failures() const { return injected_failures_.load(); }

  // FileSystem
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

 private:
  friend class FaultInjectingWritableFile;

  // Decisions taken by the wrapped files; each consumes a one-shot knob if armed.
  bool TakeSyncFailure();
  bool NoSpaceActive() const { return no_space_.load(); }
  // Returns true and sets *prefix when the next append must be cut short.
  bool TakeShortWrite(size_t* prefix);
  bool TruncateFails() const { return fail_truncate_.load(); }

  FileSystem* const base_;
  std::mutex mutex_;  // guards the one-shot knobs below
  int failing_syncs_ = 0;
  bool short_write_armed_ = false;
  size_t short_write_prefix_ = 0;
  std::atomic<bool> no_space_{false};
  std::atomic<bool> fail_truncate_{false};
  std::atomic<uint64_t> syncs_{0};
  std::atomic<uint64_t> appends_{0};
  std::atomic<uint64_t> injected_failures_{0};
};

}  // namespace wal
