#include "server/file_reloader.h"

#include <spdlog/spdlog.h>

namespace wal::server {
namespace {

// Linux stamps mtimes from a clock that ticks every few milliseconds, so two
// writes that close together can share one. A file modified less than this
// before it was read may have changed since without its stat changing.
constexpr std::chrono::seconds kRecent{2};

bool IsRecent(const FileInfo& info, std::chrono::system_clock::time_point now) {
  const auto modified = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::nanoseconds(info.mtime_ns)));
  return modified > now - kRecent;  // a future mtime (clock skew) counts as recent too
}

std::string JoinPaths(const std::vector<std::string>& paths) {
  std::string joined;
  for (const std::string& path : paths) {
    if (!joined.empty()) joined += ", ";
    joined += path;
  }
  return joined;
}

}  // namespace

std::string_view ReloadOutcomeName(ReloadOutcome outcome) {
  switch (outcome) {
    case ReloadOutcome::kUnchanged: return "unchanged";
    case ReloadOutcome::kApplied: return "applied";
    case ReloadOutcome::kRefused: return "refused";
    case ReloadOutcome::kUnreadable: return "unreadable";
  }
  return "unknown";
}

FileReloader::FileReloader(std::string what, FileSystem* file_system, std::vector<std::string> paths,
                           std::chrono::milliseconds interval, Apply apply)
    : what_(std::move(what)),
      file_system_(file_system),
      paths_(std::move(paths)),
      interval_(interval),
      apply_(std::move(apply)) {}

FileReloader::~FileReloader() { Stop(); }

FileReloader::Identity FileReloader::StatAll(Status* first_error) const {
  Identity identity;
  identity.reserve(paths_.size());
  for (const std::string& path : paths_) {
    auto info = file_system_->Stat(path);
    identity.push_back(info.ok() ? std::optional<FileInfo>(info.value()) : std::nullopt);
    if (!info.ok() && first_error != nullptr && first_error->ok()) *first_error = info.status();
  }
  return identity;
}

Status FileReloader::Read(Identity* identity, std::vector<std::string>* contents) const {
  // Stat before reading: a write that lands between the two then shows up as a
  // change on the next poll instead of hiding behind the identity recorded here.
  Status stat_error;
  *identity = StatAll(&stat_error);
  if (!stat_error.ok()) return stat_error;
  contents->clear();
  for (const std::string& path : paths_) {
    auto text = file_system_->ReadFile(path);
    if (!text.ok()) return text.status();
    contents->push_back(std::move(text).value());
  }
  return Status::Ok();
}

Status FileReloader::Load() {
  std::lock_guard lock(poll_mutex_);
  Identity identity;
  std::vector<std::string> contents;
  WAL_RETURN_IF_ERROR(Read(&identity, &contents));
  auto applied = apply_(contents);
  if (!applied.ok()) return applied.status();
  const auto now = std::chrono::system_clock::now();
  recent_ = false;
  for (const auto& info : identity) recent_ = recent_ || IsRecent(*info, now);
  seen_identity_ = std::move(identity);
  seen_contents_ = contents;
  applied_contents_ = std::move(contents);
  last_error_.clear();
  return Status::Ok();
}

void FileReloader::ReportError(const std::string& message) {
  spdlog::error("{}: not reloaded, the previous version stays in force: {}", what_, message);
  last_error_ = message;
}

ReloadOutcome FileReloader::PollOnce() {
  std::lock_guard lock(poll_mutex_);
  const auto now = std::chrono::system_clock::now();
  Identity identity = StatAll(nullptr);
  if (identity == seen_identity_ && !recent_) return ReloadOutcome::kUnchanged;

  std::vector<std::string> contents;
  Status read = Read(&identity, &contents);
  if (!read.ok()) {
    // Keeping the previous version matters most here: a deleted tokens file
    // must not turn auth off.
    const bool report = identity != seen_identity_ || read.message() != last_error_;
    seen_identity_ = std::move(identity);
    seen_contents_.clear();
    recent_ = false;
    if (!report) return ReloadOutcome::kUnchanged;
    ReportError(read.message());
    return ReloadOutcome::kUnreadable;
  }
  recent_ = false;
  for (const auto& info : identity) recent_ = recent_ || IsRecent(*info, now);
  if (identity == seen_identity_ && contents == seen_contents_) return ReloadOutcome::kUnchanged;
  seen_identity_ = std::move(identity);
  seen_contents_ = contents;
  if (applied_contents_ && contents == *applied_contents_) {
    // Touched, or put back after a refused edit: nothing new to apply.
    if (!last_error_.empty()) {
      spdlog::info("{}: {} match the version in force again", what_, JoinPaths(paths_));
      last_error_.clear();
    }
    return ReloadOutcome::kUnchanged;
  }
  auto applied = apply_(contents);
  if (!applied.ok()) {
    ReportError(applied.status().message());
    return ReloadOutcome::kRefused;
  }
  applied_contents_ = std::move(contents);
  last_error_.clear();
  spdlog::info("{}: reloaded from {}{}{}", what_, JoinPaths(paths_), applied->empty() ? "" : ": ", *applied);
  return ReloadOutcome::kApplied;
}

void FileReloader::Start() {
  std::lock_guard lock(thread_mutex_);
  if (interval_.count() <= 0 || thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] {
    std::unique_lock lock(thread_mutex_);
    while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
      lock.unlock();
      PollOnce();
      lock.lock();
    }
  });
}

void FileReloader::Stop() {
  {
    std::lock_guard lock(thread_mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace wal::server
