// The embedded, segmented, checksummed write-ahead log: wal's default backend.
//
// One Log is one directory holding segment files and a consumer checkpoint. The
// on-disk format is documented in docs/log-format.md.
//
// Durability contract: an Append's callback reports Durability::kTrue only after
// the fdatasync() that covers the entry has returned success. Concurrent appends
// are group-committed: one commit thread gathers every waiting append, writes
// them with one write and one fdatasync, then runs their callbacks.
//
// Failure contract:
//   * fdatasync fails      -> every append in that group gets kUnknown, and the log
//                             is poisoned: later appends get kFalse with a
//                             FAILED_PRECONDITION message until the log is reopened
//                             (recovery then decides what survived).
//   * write fails (ENOSPC, short write, EIO) -> the group's appends get kFalse; the
//                             segment is truncated back to its last synced size and
//                             that truncate is synced before anyone is answered, so
//                             a rolled-back write can never reappear after a power
//                             loss; the log keeps serving. If the truncate or its
//                             sync fails, the appends get kUnknown and the log is
//                             poisoned.
//   * disk full            -> see "Space reserve" below: control appends and
//                             checkpoints may use a reserve that data appends
//                             cannot, so retention can always free space.
//   * id space used up     -> an append that would need an id at or past
//                             kEntryIdLimit (2^63, log/record_format.h) gets
//                             kFalse/kResourceExhausted and nothing is written;
//                             ids never wrap. The appends of its group that
//                             still fit are written.
//   * preallocation fails  -> ignored: it is an optimisation, never a precondition
//                             (a full disk does not stop Open).
//
// Recovery trusts only the on-disk format (docs/log-format.md), never the
// options: max_record_bytes limits new appends only.
//
// Space reserve (LogOptions::reserve_bytes): the log keeps that much disk space
// preallocated in a file of its directory. When a write of a group that holds
// control appends (AppendClass::kControl) or a checkpoint fails with ENOSPC,
// the log releases the reserve and retries the control part (data appends of the
// group get kFalse/kNoSpace). While the reserve is released, data appends are
// refused with kFalse/kNoSpace unless the reserve can be taken back first; it is
// taken back after CommitConsumed deletes segments, or at the next data append
// that finds room. So data can never eat the space that retirements and
// checkpoints need to let retention reclaim the disk.
//
// Threading: all public methods are thread-safe. Callbacks run on the log's
// commit thread; they must not block for long and must not call Close().
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/durability.h"
#include "common/file_system.h"
#include "common/status.h"

namespace wal::log {

struct LogOptions {
  std::string directory;                       // created if absent
  uint64_t segment_bytes = 64ull << 20;        // roll to a new segment past this size
  bool preallocate = true;                     // fallocate each new segment to segment_bytes
  uint64_t max_batch_bytes = 4ull << 20;       // cap on one group commit's write
  // Append refuses larger payloads with kFalse/kInvalidArgument. New appends
  // only: recovery and reads accept any record the format allows. At most
  // kMaxRecordBytes (log/record_format.h, 256 MiB).
  uint64_t max_record_bytes = 16ull << 20;
  // Disk space held back for control appends and checkpoints (see "Space
  // reserve" above). 0 turns the reserve off.
  uint64_t reserve_bytes = 4ull << 20;
};

// What an append is for. Only kControl appends may use the space reserve: give
// that class to records whose loss would stop space reclamation (retirements,
// acknowledgements, reschedules), never to new user data.
enum class AppendClass {
  kData,
  kControl,
};

struct AppendResult {
  Durability durability = Durability::kUnknown;
  uint64_t id = 0;        // the entry's position in the log; valid when durability != kFalse
  Status status;          // why, when durability != kTrue
};

using AppendCallback = std::function<void(const AppendResult&)>;

struct LogEntry {
  uint64_t id = 0;
  std::string payload;
};

// What Open found. A non-empty `corruption` means Open failed: mid-log damage is
// never skipped silently.
struct RecoveryReport {
  uint64_t segments = 0;
  uint64_t entries = 0;              // entries present after recovery
  uint64_t truncated_tail_bytes = 0; // bytes of a torn tail that were cut away
  std::string corruption;            // description (file, offset) of mid-log damage
};

struct LogStats {
  uint64_t first_id = 0;      // oldest id still stored
  uint64_t next_id = 0;       // id the next append will get (the log end)
  uint64_t consumed_id = 0;   // every id < consumed_id is consumed (checkpointed)
  uint64_t segments = 0;
  uint64_t bytes = 0;         // bytes of records on disk
  uint64_t fsyncs = 0;        // fdatasync calls since open
  uint64_t appends = 0;       // entries made durable since open
  bool poisoned = false;
  bool reserve_held = true;          // false while the space reserve is released (disk full)
  uint64_t reserve_releases = 0;     // times the reserve was released since open
  uint64_t pending_removals = 0;     // consumed segments whose unlink failed; retried by CommitConsumed
};

// Observability hook (metrics): called on the commit thread after every
// group-commit fdatasync with its duration and whether it succeeded. Process-wide;
// set once at start-up before logs open (nullptr: none). Must be cheap.
using FsyncObserver = void (*)(std::chrono::nanoseconds elapsed, bool ok);
void SetFsyncObserver(FsyncObserver observer);

class Log {
 public:
  Log() = default;
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;
  virtual ~Log() = default;

  // Opens (creating if needed) the log in options.directory and recovers it.
  // First it locks the directory (FileSystem::LockFile on log.lock) until
  // Close: while one Log has it open, another Open of it, in any process or in
  // this one, fails with kUnavailable ("... held by another process") and
  // touches nothing. Then it
  // validates every segment, truncates a torn tail of the last segment (at most
  // its last, unsynced group), fails with kCorruption on damage anywhere else
  // (log/repair.h can cut such damage out, offline), and reads the consumer
  // checkpoint. Segments of format version 1 are read; new records always go to a
  // version 2 segment (the first write after Open starts one if needed). `file_system` must outlive the Log. `report` may be null.
  static Result<std::unique_ptr<Log>> Open(FileSystem* file_system, const LogOptions& options,
                                           RecoveryReport* report);

  // Queues `payload` for the next group commit. `callback` runs exactly once, on
  // the commit thread (or inline on the caller's thread when the log is closed,
  // poisoned or the payload is over max_record_bytes, with kFalse).
  // `append_class` says whether it may use the space reserve (see above).
  virtual void Append(std::string payload, AppendCallback callback, AppendClass append_class) = 0;
  void Append(std::string payload, AppendCallback callback) {
    Append(std::move(payload), std::move(callback), AppendClass::kData);
  }

  // Returns up to `max_entries` durable entries with id >= from_id, stopping after
  // `max_bytes` of payload (at least one entry is returned if any exists). Entries
  // below first_id are gone; reading from there starts at first_id.
  virtual Result<std::vector<LogEntry>> Read(uint64_t from_id, size_t max_entries, size_t max_bytes) = 0;

  // Records that every entry with id < consumed_id has been consumed. The position
  // is checkpointed atomically (temp file + fsync + rename; on ENOSPC the space
  // reserve is released for it), then whole segments that hold only consumed
  // entries are deleted. consumed_id never moves backwards: a smaller value is
  // ignored, but every call retries the unlinks that failed before. An unlink
  // failure does not stop the other deletions; it is returned (the position is
  // already durable) and retried on the next call.
  virtual Status CommitConsumed(uint64_t consumed_id) = 0;

  virtual LogStats Stats() const = 0;

  // The first id of every stored segment, oldest first (the last one is the
  // active segment). Consumers use it to see which ids pin which segment.
  virtual std::vector<uint64_t> SegmentFirstIds() const { return {}; }

  // Waits for queued appends to finish (their callbacks run), then closes files
  // and releases the directory's lock. Appends after Close() get kFalse.
  // Idempotent.
  virtual Status Close() = 0;
};

}  // namespace wal::log
