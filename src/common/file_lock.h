// Implementations of FileSystem::LockFile (common/file_system.h): the POSIX one
// (flock) and one for file systems that live in memory (tests, fuzzing), which
// gives the same answers within one process.
//
// Threading: both are safe to call from any thread; a FileLock may be destroyed
// on any thread.
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "common/file_system.h"

namespace wal {

// The error every LockFile returns when the lock is taken: kUnavailable, naming
// `path`, and `holder` ("pid 42") when it is known.
Status LockHeldStatus(const std::string& path, const std::string& holder);

// flock(LOCK_EX | LOCK_NB) on `path`, opened (created if absent) for the lock's
// lifetime. The holder writes its pid into the file, so that a process that
// finds the lock taken can say who has it; the contents mean nothing else.
Result<std::unique_ptr<FileLock>> LockFileWithFlock(const std::string& path);

// Locks by path within this process, for in-memory file systems. A lock may
// outlive the InProcessFileLocks that handed it out.
class InProcessFileLocks {
 public:
  InProcessFileLocks() = default;
  InProcessFileLocks(const InProcessFileLocks&) = delete;
  InProcessFileLocks& operator=(const InProcessFileLocks&) = delete;

  Result<std::unique_ptr<FileLock>> Lock(const std::string& path);

 private:
  struct Held {
    std::mutex mutex;
    std::set<std::string> paths;  // guarded by mutex
  };
  std::shared_ptr<Held> held_ = std::make_shared<Held>();
};

}  // namespace wal
