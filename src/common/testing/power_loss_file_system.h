// PowerLossFileSystem: a test-only, in-memory FileSystem that records every
// change made through it and can produce the states a power cut could leave on
// the disk, in the spirit of CrashMonkey and ALICE.
//
// Crash points. Every mutating call is one numbered operation: a write
// (WritableFile::Append), truncate, preallocate, file sync, create, rename,
// unlink, mkdir, rmdir and directory sync. WriteFileAtomically, RemoveAll and
// CreateDirectories are composed from those primitives exactly as
// posix_file_system.cc composes them from system calls (CreateDirectories
// through the same CreateDirectoriesDurably: mkdir, then fsync the parent).
// Crash point k is the instant after operations [0, k) were issued and before
// operation k.
//
// What a power cut at crash point k may leave (the model):
//   * File data. Everything a successful WritableFile::Sync() covered survives,
//     with the size the file had then. Of what was written or truncated after a
//     file's last Sync, any of these may survive, chosen per file:
//       - all of it, or none of it;
//       - an in-order prefix, torn at any byte;
//       - any subset of its 512- or 4096-byte sectors: later data reaches the
//         disk while earlier data does not, so the file (whose size may be any
//         size it had since the sync) has a hole that reads as zeros, or as
//         the old bytes where the sector existed before.
//     Preallocate (fallocate with KEEP_SIZE) changes nothing visible.
//   * Directory entries. A create, rename, unlink, mkdir or rmdir is durable
//     once SyncDirectory() of its parent (for a rename: of either parent) ran
//     after it. Of the ones that are not:
//       - "journaled" (ext4, xfs): metadata reaches the disk in order, and any
//         Sync or SyncDirectory commits every metadata change issued before it;
//         of the rest an in-order prefix survives;
//       - "unordered" (the POSIX minimum; ALICE found real file systems that
//         reorder directory operations): each survives or is lost on its
//         own, so a later unlink may survive an earlier one.
//     Drawn at random, 3 in 5 crashes are journaled. A directory that is lost
//     takes everything in it along.
//     Renames are atomic: the target names the old file or the new one.
//   * A file that is unlinked or renamed over keeps its data for as long as a
//     surviving entry names it.
//
// Determinism: CrashState(k, seed, ...) depends only on the operations
// recorded before k, the seed and the options, so a failing (seed, k) replays
// exactly when the workload issues the same operations.
//
// Ownership: CrashState returns a new, independent file system owned by the
// caller; nothing it holds refers back to this one.
//
// Threading: every method is thread-safe; one mutex guards all state. The
// returned WritableFile/RandomAccessFile objects follow the FileSystem
// contract. HoldNextSync() lets a test make a group commit deterministic: it
// blocks the next WritableFile::Sync() of another thread (a commit thread;
// before the sync counts) until ReleaseHeldSync(), so appends queued
// meanwhile form the next group.
//
// Failure: nothing here fails except as a real file system would (a missing
// file or directory is kNotFound, a second mkdir is fine, writing through a
// closed file is kFailedPrecondition). Nothing throws.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/file_lock.h"
#include "common/file_system.h"
#include "common/testing/power_loss_journal.h"

namespace wal::testing {

// How a crash treats unsynced file data. kRandom draws one of the others per
// file from the seed.
enum class DataLoss { kRandom, kKeepAll, kDropAll, kTornPrefix, kSectorSubset };
// How a crash treats unsynced directory entries. kRandom draws one mode per crash.
enum class DirectoryLoss { kRandom, kKeepAll, kJournaled, kUnordered };

struct CrashOptions {
  DataLoss data = DataLoss::kRandom;
  DirectoryLoss directories = DirectoryLoss::kRandom;
};

// What one crash state did, for classifying and replaying a failure.
struct CrashReport {
  uint64_t crash_point = 0;
  uint64_t seed = 0;
  std::string directory_mode;            // "keep-all" | "journaled" | "unordered"
  uint64_t unsynced_files = 0;           // files with data written since their last sync
  uint64_t unsynced_directory_ops = 0;   // directory changes not yet durable
  uint64_t lost_directory_ops = 0;       // ... of which this crash lost
  bool lost_data = false;                // some unsynced file data did not survive
  bool zero_hole = false;                // a file has unwritten sectors before data that survived
  bool lost_directory = false;           // an unsynced mkdir was lost
  bool reordered_directory_ops = false;  // an unsynced directory change survived an earlier lost one
  std::vector<std::string> notes;        // one line per decision (file or directory change)
  // "crash seed S, crash point K: <modes>, <flags>" and one line per note.
  std::string Summary() const;
};

class PowerLossFileSystem final : public FileSystem {
 public:
  // An empty disk.
  PowerLossFileSystem();
  // A disk holding `image`, all of it durable (what CrashState builds).
  explicit PowerLossFileSystem(power_loss::Image image);
  ~PowerLossFileSystem() override;
  PowerLossFileSystem(const PowerLossFileSystem&) = delete;
  PowerLossFileSystem& operator=(const PowerLossFileSystem&) = delete;

  // Operations recorded so far: the crash points are 0..operation_count().
  uint64_t operation_count() const;
  // "#12 write 00000000000000000000.seg @32 +61 bytes", for failure messages.
  std::string DescribeOperation(uint64_t index) const;
  // The number of file syncs and directory syncs recorded (cheap progress marks).
  uint64_t sync_count() const;

  // A fresh file system holding what the disk could hold after a power cut at
  // `crash_point` (clamped to operation_count()). Its contents are all durable
  // and it records nothing yet. `report` may be null.
  std::unique_ptr<PowerLossFileSystem> CrashState(uint64_t crash_point, uint64_t seed, const CrashOptions& options,
                                                  CrashReport* report) const;

  // The next WritableFile::Sync() (on any file) made by another thread than the
  // caller blocks until ReleaseHeldSync().
  void HoldNextSync();
  // Waits up to `timeout` until a Sync is blocked by HoldNextSync(); false if none came.
  bool WaitForHeldSync(std::chrono::milliseconds timeout);
  // Lets a held Sync go on, or disarms HoldNextSync() if no Sync came.
  void ReleaseHeldSync();

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
  // Locks live in memory only: they create no file and record nothing (a lock
  // does not outlive a crash).
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override { return locks_.Lock(path); }

 private:
  friend class PowerLossWritableFile;
  friend class PowerLossRandomAccessFile;
  struct Inode {
    uint64_t id = 0;
    std::string data;
    int64_t mtime = 0;  // a logical clock: the operation count at the last change
  };

  // All *Locked methods need mutex_.
  void RecordLocked(power_loss::Op op);
  bool DirectoryExistsLocked(const std::string& path) const;
  Status CheckParentLocked(const std::string& path) const;
  // Opens (creating if absent, truncating when asked) the file at a normalised path.
  Result<std::shared_ptr<Inode>> OpenFileLocked(const std::string& path, bool truncate);
  // The WriteFileAtomically steps; `path` names the file in the journal.
  Status AppendLocked(const std::string& path, Inode& inode, std::string_view data);
  Status SyncLocked(const std::string& path, Inode& inode);
  Status TruncateLocked(const std::string& path, Inode& inode, uint64_t size);
  Status UnlinkLocked(const std::string& path);
  Status RenameLocked(const std::string& from, const std::string& to);
  Status SyncDirectoryLocked(const std::string& directory);
  // Blocks while a held sync is pending (releases and retakes `lock`).
  void MaybeHoldSync(std::unique_lock<std::mutex>& lock);

  const power_loss::Image base_;  // the durable disk this file system started from
  mutable std::mutex mutex_;
  std::condition_variable hold_cv_;
  std::vector<power_loss::Op> journal_;
  std::set<std::string> directories_;
  std::map<std::string, std::shared_ptr<Inode>> files_;
  uint64_t next_inode_ = 1;
  uint64_t syncs_ = 0;
  bool hold_armed_ = false;
  std::thread::id hold_owner_;  // the thread that armed the hold
  bool holding_ = false;
  InProcessFileLocks locks_;
};

}  // namespace wal::testing
