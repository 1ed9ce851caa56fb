// SpaceReserve: disk space a log holds back so that, when the disk fills up,
// control records (retirements, checkpoints) can still be written and space
// reclamation never stops.
//
// The reserve is a file in the log directory ("space.reserve") preallocated to
// the reserve size with FALLOC_FL_KEEP_SIZE: the blocks are taken from the free
// space but the file stays empty, so it costs no I/O and survives nothing that
// matters (it is re-made at every open). Release() unlinks it, which hands its
// blocks back to the file system for the write that needs them; Restore()
// preallocates it again once retention has freed space.
//
// On a file system without fallocate (FileSystem::Preallocate is a no-op there),
// or where the reserve file cannot be made for a reason other than ENOSPC, the
// reserve holds nothing: Release() then frees nothing and the control write fails
// with kNoSpace like any other; data is never refused on its account.
//
// Threading: all methods are thread-safe. Failure: Restore() reports whether the
// space is held; a failure to make the file is not an error of the log.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "common/file_system.h"

namespace wal::log {

inline constexpr std::string_view kSpaceReserveFileName = "space.reserve";

class SpaceReserve {
 public:
  // `bytes` == 0 disables the reserve: held() is then always true and Release()
  // never frees anything. Call Restore() to take the space the first time.
  SpaceReserve(FileSystem* file_system, std::string path, uint64_t bytes);
  SpaceReserve(const SpaceReserve&) = delete;
  SpaceReserve& operator=(const SpaceReserve&) = delete;

  // Gives the reserved space back to the file system. Returns true if it was
  // held (so a write that failed with ENOSPC is worth retrying), false if it was
  // already released, or the reserve is disabled.
  bool Release();

  // Takes the reserved space (again). Returns false only when there is no room
  // for it (ENOSPC); true when it is held (or cannot exist here, see above).
  bool Restore();

  bool held() const;
  uint64_t bytes() const { return bytes_; }

 private:
  FileSystem* const file_system_;
  const std::string path_;
  const uint64_t bytes_;
  mutable std::mutex mutex_;
  bool held_ = false;
};

}  // namespace wal::log
