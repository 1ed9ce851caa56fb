// Offline check and repair of a log directory with mid-log damage.
//
// Log::Open never skips damage: a bad record followed by acknowledged data, a
// missing segment or a damaged checkpoint fail it with kCorruption and leave the
// files as found. RepairLog is the operator's way out (`wald --repair`,
// docs/operations.md): it keeps every record that is still intact, drops exactly
// the damaged bytes, and reports what went with them.
//
// What repair does, per segment, in id order:
//   * a segment that scans clean is kept as it is (a torn tail of the last
//     segment is left for Open, which cuts it);
//   * a damaged segment is read record by record: runs of intact records with
//     consecutive ids are kept, the bytes between them are dropped. Each run is
//     written to a new segment file (named by its first id; records re-framed
//     one per group in the current format); the damaged file is replaced;
//   * ids that are gone (inside dropped bytes, or a whole missing segment) leave
//     a gap; the segment after the gap records it in its header ("gap start"),
//     rewriting that segment if needed, so Open accepts exactly that gap;
//   * in the last segment, records after the last intact group boundary that no
//     later record vouches for are a torn tail, as in recovery;
//   * a segment whose first id is outside the id space (log/record_format.h)
//     is removed whole and reported: the log never writes one, so it holds no
//     acknowledged entry; records with ids outside the space are dropped as
//     damage;
//   * a damaged checkpoint is removed: every stored entry then counts as not
//     consumed (redelivered rather than lost).
// New files are written to a temporary name, synced and renamed into place
// before any original is removed, so a crash during repair loses nothing more;
// running repair again finishes the job.
//
// Threading/ownership: run it only while no Log has the directory open (wald
// stopped, or the namespace not loaded): RepairLog takes the directory's lock
// (log.lock, as Log::Open does) and fails with kUnavailable while a Log, in any
// process, holds it. `file_system` is borrowed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/file_system.h"
#include "common/status.h"
#include "log/directory_scan.h"
#include "log/log.h"

namespace wal::log {

// What repair dropped at one place.
struct RepairDrop {
  std::string segment;       // file name of the segment the bytes were in ("" for a missing segment)
  uint64_t offset = 0;       // first dropped byte in that file
  uint64_t bytes = 0;        // number of dropped bytes
  uint64_t first_lost_id = 0;  // ids [first_lost_id, end_lost_id) are gone;
  uint64_t end_lost_id = 0;    // an empty range: no id is known to be lost here
  std::string reason;        // what was wrong
};

struct RepairReport {
  bool changed = false;                  // false: the log opened already; nothing was touched
  std::string damage;                    // what Open reported before the repair
  std::vector<RepairDrop> dropped;
  std::vector<std::string> written;      // segment files (re)written
  std::vector<std::string> removed;      // segment files removed (nothing in them survived, or replaced)
  std::string checkpoint_removed;        // non-empty: the checkpoint was damaged (why) and removed
  uint64_t ids_lost = 0;                 // total size of the lost id ranges
  // Human-readable, one line per fact, for the operator.
  std::string Describe() const;
};

// What Open would find, without changing anything: entries, segments, the torn
// tail it would cut; `corruption` is set (and the result still OK) when Open
// would fail.
Result<RecoveryReport> CheckLog(FileSystem* file_system, const std::string& directory);

// Repairs the log in `directory` as described above. Returns the report, or an
// error if the directory cannot be read or written, or if the result still does
// not check clean (nothing is left half-done: see above).
Result<RepairReport> RepairLog(FileSystem* file_system, const std::string& directory);

}  // namespace wal::log
