#include "log/space_reserve.h"

namespace wal::log {

SpaceReserve::SpaceReserve(FileSystem* file_system, std::string path, uint64_t bytes)
    : file_system_(file_system), path_(std::move(path)), bytes_(bytes) {}

bool SpaceReserve::Release() {
  std::lock_guard lock(mutex_);
  if (bytes_ == 0 || !held_) return false;
  // Unlinking (rather than truncating) frees the blocks on every file system;
  // the file is not open, so nothing keeps them.
  held_ = false;
  return file_system_->RemoveFile(path_).ok();
}

bool SpaceReserve::Restore() {
  std::lock_guard lock(mutex_);
  if (bytes_ == 0 || held_) return true;
  auto file = file_system_->OpenAppendable(path_);
  Status reserved = file.ok() ? (*file)->Preallocate(bytes_) : file.status();
  if (file.ok()) (void)(*file)->Close();
  if (reserved.code() == StatusCode::kNoSpace) {
    // A partial allocation would hold space nobody can use: give it back.
    (void)file_system_->RemoveFile(path_);
    return false;
  }
  // Any other failure means this file system cannot hold a reserve at all: count
  // it as held (holding nothing), so data is never refused for a reserve that
  // cannot exist.
  held_ = true;
  return true;
}

bool SpaceReserve::held() const {
  std::lock_guard lock(mutex_);
  return bytes_ == 0 || held_;
}

}  // namespace wal::log
