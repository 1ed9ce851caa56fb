// SegmentedLog: the consumer checkpoint and the deletion of consumed segments.
#include "log/segmented_log.h"

namespace wal::log::internal {

Status SegmentedLog::CommitConsumed(uint64_t consumed_id) {
  std::lock_guard checkpoint_lock(checkpoint_mutex_);
  bool advance = false;
  {
    std::lock_guard lock(mutex_);
    if (consumed_id > consumed_id_) {
      if (consumed_id > durable_end_id_) {
        return InvalidArgument("consumed id " + std::to_string(consumed_id) + " is past the durable end " +
                               std::to_string(durable_end_id_));
      }
      advance = true;
    }
  }
  if (advance) {
    // Persist the position before deleting anything it covers: after a crash the
    // checkpoint must never point into a segment that is gone.
    const std::string path = JoinPath(options_.directory, kCheckpointFileName);
    Status written = file_system_->WriteFileAtomically(path, EncodeCheckpoint(consumed_id));
    if (written.code() == StatusCode::kNoSpace && reserve_.Release()) {
      // A full disk must not stop retention, which is what frees space.
      {
        std::lock_guard lock(mutex_);
        ++reserve_releases_;
      }
      written = file_system_->WriteFileAtomically(path, EncodeCheckpoint(consumed_id));
    }
    WAL_RETURN_IF_ERROR(written);
  }

  std::vector<std::string> doomed = std::move(pending_removals_);
  pending_removals_.clear();
  {
    std::lock_guard lock(mutex_);
    if (advance) consumed_id_ = consumed_id;
    // The last segment is the active one and is never deleted.
    while (segments_.size() > 1 && segments_.front()->end_id <= consumed_id_) {
      record_bytes_ -= segments_.front()->durable_bytes - segments_.front()->header_bytes;
      doomed.push_back(segments_.front()->path);
      segments_.pop_front();
    }
  }
  if (doomed.empty()) return Status::Ok();
  return RemoveSegmentFiles(std::move(doomed));
}

Status SegmentedLog::RemoveSegmentFiles(std::vector<std::string> paths) {
  // Readers that already hold a segment keep their open descriptor, so unlinking
  // under them is safe. One failure must not keep the others on disk.
  Status first_error;
  size_t removed = 0;
  for (std::string& path : paths) {
    Status status = file_system_->RemoveFile(path);
    if (status.ok() || status.code() == StatusCode::kNotFound) {
      ++removed;
      continue;
    }
    if (first_error.ok()) first_error = status.WithContext("consumed segment kept until the next checkpoint");
    pending_removals_.push_back(std::move(path));
  }
  {
    std::lock_guard lock(mutex_);
    pending_removal_count_ = pending_removals_.size();
  }
  if (removed > 0) {
    Status synced = file_system_->SyncDirectory(options_.directory);
    if (first_error.ok()) first_error = synced;
    // Space came back: take the reserve again if it had been used.
    if (!reserve_.held()) (void)reserve_.Restore();
  }
  return first_error;
}

}  // namespace wal::log::internal
