// FaultInjectingFileSystem: a FileSystem decorator that makes chosen operations
// fail on demand, so tests can drive the failure paths (fsync errors, ENOSPC,
// short writes, failed truncates, failed unlinks, a disk that fills up) of any
// code that writes through a FileSystem.
//
// It wraps another FileSystem (usually DefaultFileSystem()); what it does not
// change, ForwardingFileSystem forwards as it is. The knobs apply to every WritableFile it hands out, including files opened
// before the knob was set. All knobs and counters are thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/file_system.h"
#include "common/forwarding_file_system.h"

namespace wal {

class FaultInjectingFileSystem final : public ForwardingFileSystem {
 public:
  // `base` must outlive this object.
  explicit FaultInjectingFileSystem(FileSystem* base);
  FaultInjectingFileSystem(const FaultInjectingFileSystem&) = delete;
  FaultInjectingFileSystem& operator=(const FaultInjectingFileSystem&) = delete;

  // The next `n` WritableFile::Sync() calls return IOError("injected fsync failure")
  // without syncing.
  void FailNextSyncs(int n);

  // While set, WritableFile::Append and WritableFile::Preallocate do nothing and
  // return kNoSpace, and WriteFileAtomically fails the same way.
  void SetNoSpace(bool no_space);

  // The next WritableFile::Append writes only its first `bytes_to_write_then_fail`
  // bytes (fewer if the data is shorter) and then returns IOError.
  void ShortWriteNext(size_t bytes_to_write_then_fail);

  // While set, WritableFile::Truncate returns IOError without truncating.
  void FailTruncate(bool fail);

  // The next `n` RemoveFile() calls return IOError("injected unlink failure")
  // without removing anything.
  void FailNextRemoves(int n);

  // A disk of `bytes` capacity, shared by every file written through this object:
  // an Append, Preallocate or WriteFileAtomically that would take the space in use
  // past it does nothing and returns kNoSpace. Space in use is counted per file as
  // max(size, preallocated), as a real file system does; Truncate below the
  // preallocation frees it (ftruncate drops FALLOC_FL_KEEP_SIZE blocks), and
  // RemoveFile, RemoveAll and replacing a file free what the file held. Files that
  // existed before are counted once first opened for append. nullopt: no limit.
  void SetSpaceLimit(std::optional<uint64_t> bytes);
  // Bytes in use as counted for SetSpaceLimit (tracked whether or not a limit is set).
  uint64_t used_bytes() const;
  // max(size, preallocated) of `path` as counted, 0 if it is not tracked.
  uint64_t allocated_bytes(const std::string& path) const;

  // Clears every knob (counters are kept).
  void Reset();

  uint64_t syncs() const { return syncs_.load(); }      // successful WritableFile::Sync calls
  uint64_t appends() const { return appends_.load(); }  // WritableFile::Append calls (any outcome)
  uint64_t truncates() const { return truncates_.load(); }        // successful WritableFile::Truncate calls
  uint64_t preallocations() const { return preallocations_.load(); }  // successful Preallocate calls
  uint64_t injected_failures() const { return injected_failures_.load(); }
  // Bytes RandomAccessFile::ReadAt returned, over every file opened through this object.
  uint64_t bytes_read() const { return bytes_read_.load(); }

  // FileSystem: the calls that inject faults, count, or keep the space model
  // in step with the disk. The others are forwarded as they are.
  Result<std::unique_ptr<WritableFile>> OpenAppendable(const std::string& path) override;
  Result<std::unique_ptr<RandomAccessFile>> OpenRandomAccess(const std::string& path) override;
  Status WriteFileAtomically(const std::string& path, std::string_view contents) override;
  Status RemoveFile(const std::string& path) override;
  Status RemoveAll(const std::string& directory) override;
  Status Rename(const std::string& from, const std::string& to) override;

 private:
  friend class FaultInjectingWritableFile;
  friend class CountingRandomAccessFile;

  // What one file occupies on the modelled disk.
  struct Usage {
    uint64_t size = 0;
    uint64_t preallocated = 0;
    uint64_t allocated() const { return size > preallocated ? size : preallocated; }
  };

  // Decisions taken by the wrapped files; each consumes a one-shot knob if armed.
  bool TakeSyncFailure();
  bool NoSpaceActive() const { return no_space_.load(); }
  // Returns true and sets *prefix when the next append must be cut short.
  bool TakeShortWrite(size_t* prefix);
  bool TruncateFails() const { return fail_truncate_.load(); }

  // Space accounting. ReserveSpace raises `path`'s size and preallocation to at
  // least `wanted`'s; it returns false and changes nothing when that does not fit
  // under the limit.
  void TrackFile(const std::string& path, uint64_t size);
  bool ReserveSpace(const std::string& path, Usage wanted);
  void SetSize(const std::string& path, uint64_t size);
  void TruncateUsage(const std::string& path, uint64_t size);
  void ForgetFile(const std::string& path);
  void ReplaceUsageLocked(const std::string& path, std::optional<Usage> usage);

  std::mutex mutex_;  // guards the one-shot knobs below
  int failing_syncs_ = 0;
  int failing_removes_ = 0;
  bool short_write_armed_ = false;
  size_t short_write_prefix_ = 0;
  std::atomic<bool> no_space_{false};
  std::atomic<bool> fail_truncate_{false};
  std::atomic<uint64_t> syncs_{0};
  std::atomic<uint64_t> appends_{0};
  std::atomic<uint64_t> truncates_{0};
  std::atomic<uint64_t> preallocations_{0};
  std::atomic<uint64_t> injected_failures_{0};
  std::atomic<uint64_t> bytes_read_{0};

  mutable std::mutex space_mutex_;  // guards the space model below
  std::optional<uint64_t> space_limit_;
  std::map<std::string, Usage> usage_;
  uint64_t used_ = 0;
};

}  // namespace wal
