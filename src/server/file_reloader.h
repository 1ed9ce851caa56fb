// FileReloader: makes edits to a server-level file (the tokens file, the shard
// map, the TLS certificate and key) take effect without a restart.
//
// Every interval it stats its files (size, mtime, inode; FileSystem::Stat).
// When any of them changed it reads them all and hands their contents to
// `apply`, which parses and validates them and installs the new version. The
// files form one set so that a certificate and its key are judged together: a
// poll that catches the new certificate beside the old key is refused, and the
// set is tried again once the key changes too.
//
// Failure contract: the version in force changes only when `apply` succeeds. A
// file that is missing or unreadable, or a set that `apply` refuses, is logged
// as an error once per change and leaves the previous version in force; the
// next change is tried again. Each applied version is logged once at info with
// the paths and `apply`'s summary; contents never reach the log.
//
// A rewrite within the filesystem's timestamp granularity can leave size,
// mtime and inode all unchanged, so while a file's mtime is recent its contents
// are compared too.
//
// Threading: Load, Start and Stop from the owning thread. PollOnce runs on the
// polling thread after Start, or directly (tests); calls never overlap, and
// `apply` is never called concurrently with itself.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/file_system.h"
#include "common/status.h"

namespace wal::server {

enum class ReloadOutcome {
  kUnchanged,   // no file changed, or the contents equal the version in force
  kApplied,     // a new version is in force
  kRefused,     // `apply` rejected the new contents; the previous version stays
  kUnreadable,  // a file is missing or cannot be read; the previous version stays
};
std::string_view ReloadOutcomeName(ReloadOutcome outcome);

class FileReloader {
 public:
  // Gets the contents of the files, in the order of `paths`. Installs the new
  // version and returns a short summary for the log line ("3 tokens"), or
  // returns an error and leaves the version in force alone. Must not log the
  // contents.
  using Apply = std::function<Result<std::string>(const std::vector<std::string>& contents)>;

  // `what` names the files in log lines ("auth.tokens_file"). `interval` <= 0:
  // Start() does nothing (reloading off). `file_system` must outlive this.
  FileReloader(std::string what, FileSystem* file_system, std::vector<std::string> paths,
               std::chrono::milliseconds interval, Apply apply);
  ~FileReloader();
  FileReloader(const FileReloader&) = delete;
  FileReloader& operator=(const FileReloader&) = delete;

  // Reads and applies the files now and returns the error instead of logging
  // it, so start-up can refuse to run on bad files.
  Status Load();

  // One check; see ReloadOutcome.
  ReloadOutcome PollOnce();

  // Polls every interval on a thread of its own until Stop(). Idempotent.
  void Start();
  void Stop();

  const std::string& what() const { return what_; }

 private:
  using Identity = std::vector<std::optional<FileInfo>>;  // nullopt: could not stat

  // `first_error` (optional) gets the first failed stat's status.
  Identity StatAll(Status* first_error) const;
  Status Read(Identity* identity, std::vector<std::string>* contents) const;
  void ReportError(const std::string& message);

  const std::string what_;
  FileSystem* const file_system_;
  const std::vector<std::string> paths_;
  const std::chrono::milliseconds interval_;
  const Apply apply_;

  std::mutex poll_mutex_;  // serialises Load and PollOnce; guards the state below
  Identity seen_identity_;
  std::vector<std::string> seen_contents_;
  std::optional<std::vector<std::string>> applied_contents_;
  bool recent_ = false;     // some file's mtime was recent when last read: compare contents
  std::string last_error_;  // what was last logged as an error; "" once a version applies

  std::mutex thread_mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace wal::server
