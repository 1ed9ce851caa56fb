// Test-only internals of PowerLossFileSystem (power_loss_file_system.h): the
// recorded operations and the durable image a file system starts from. Shared
// by the live file system (power_loss_file_system.cc) and the crash-state
// builder (power_loss_crash.cc); nothing else includes this.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>

namespace wal::testing::power_loss {

enum class OpType {
  kCreate,       // path, inode: a new empty file gets a directory entry
  kWrite,        // inode, offset, data
  kTruncate,     // inode, size
  kPreallocate,  // inode, size (KEEP_SIZE: nothing visible changes)
  kSync,         // inode: fdatasync
  kRename,       // path -> path2 (atomic; replaces path2's file)
  kUnlink,       // path
  kMkdir,        // path
  kRmdir,        // path
  kSyncDir,      // path: fsync on a directory
};

struct Op {
  OpType type = OpType::kWrite;
  uint64_t inode = 0;
  std::string path;
  std::string path2;
  uint64_t offset = 0;
  uint64_t size = 0;
  std::string data;
};

// What is on the disk when a file system is made: every entry and byte in it
// counts as durable.
struct Image {
  std::set<std::string> directories;        // normalised paths; the root is implicit
  std::map<std::string, uint64_t> files;    // path -> inode
  std::map<uint64_t, std::string> contents; // inode -> bytes
};

// "a//b/" -> "a/b"; "/" stays "/".
std::string NormalisePath(const std::string& path);
// The directory holding `path` ("" for a bare name, "/" for "/x").
std::string ParentOf(const std::string& path);
// A one-line description of `op` for failure messages.
std::string Describe(const Op& op);

}  // namespace wal::testing::power_loss
