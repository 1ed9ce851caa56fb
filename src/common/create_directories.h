// How FileSystem::CreateDirectories makes new directories durable, separated from
// the system calls so tests can record the steps.
//
// mkdir() only adds an entry to the parent directory's page cache: until the
// parent is fsynced, a power loss can take the new directory away together with
// every file later created and synced inside it. So after each directory it
// creates, CreateDirectoriesDurably fsyncs that directory's parent.
#pragma once

#include <string>

#include "common/status.h"

namespace wal {

class DirectorySteps {
 public:
  virtual ~DirectorySteps() = default;
  // mkdir(path): true if it created the directory, false if a directory was
  // already there; an error if something else is there or mkdir failed.
  virtual Result<bool> MakeDirectory(const std::string& path) = 0;
  // fsync() of the directory `path`.
  virtual Status SyncDirectory(const std::string& path) = 0;
};

// Creates `directory` and its missing ancestors, outermost first, and fsyncs the
// parent of each one it creates before creating the next. Directories that
// already existed are left alone (no fsync). Fails on the first step that fails.
Status CreateDirectoriesDurably(const std::string& directory, DirectorySteps& steps);

}  // namespace wal
