// SegmentedLog: recovery at Open and the creation of new segments.
#include "log/directory_scan.h"
#include "log/segmented_log.h"

namespace wal::log::internal {

Status SegmentedLog::Recover(RecoveryReport* report) {
  RecoveryReport local_report;
  if (report == nullptr) report = &local_report;
  *report = RecoveryReport{};

  WAL_RETURN_IF_ERROR(file_system_->CreateDirectories(options_.directory));
  Result<DirectoryScan> scanned = ScanLogDirectory(file_system_, options_.directory);
  if (!scanned.ok()) {
    if (scanned.status().code() != StatusCode::kCorruption) return scanned.status();
    report->corruption = scanned.status().message();
    return Status(StatusCode::kCorruption, scanned.status().message() +
                                               "; the files are left as found (`wald --repair` can cut the damage "
                                               "out, see docs/operations.md)");
  }
  std::vector<ScannedSegment>& scanned_segments = scanned->segments;
  for (size_t i = 0; i < scanned_segments.size(); ++i) {
    SegmentScan& scan = scanned_segments[i].scan;
    auto segment = std::make_shared<Segment>();
    segment->first_id = scanned_segments[i].first_id;
    segment->path = scanned_segments[i].path;
    segment->version = scan.torn_header ? kFormatVersion : scan.version;
    segment->header_bytes = scan.torn_header ? kSegmentHeaderSize : scan.header_bytes;
    segment->end_id = scan.end_id;
    segment->durable_bytes = scan.torn_header ? kSegmentHeaderSize : scan.valid_bytes;
    segment->index = std::move(scan.index);
    if (i + 1 == scanned_segments.size()) WAL_RETURN_IF_ERROR(OpenActiveSegment(segment, scan, report));
    WAL_ASSIGN_OR_RETURN(segment->reader, file_system_->OpenRandomAccess(segment->path));
    record_bytes_ += segment->durable_bytes - segment->header_bytes;
    segments_.push_back(std::move(segment));
  }

  // A non-empty last segment of an older version stays active until the first
  // write, which closes it and starts a current one (so Open itself needs no
  // space on a full disk).
  if (segments_.empty()) WAL_RETURN_IF_ERROR(StartNewSegment(0));
  durable_end_id_ = segments_.back()->end_id;
  next_id_ = durable_end_id_;
  consumed_id_ = scanned->consumed_id.value_or(0);
  // Left behind by an interrupted retention; the next checkpoint removes them.
  for (std::string& path : scanned->stale_segment_paths) pending_removals_.push_back(std::move(path));
  pending_removal_count_ = pending_removals_.size();
  (void)reserve_.Restore();  // a full disk at open is not an error: data waits for room

  report->segments = segments_.size();
  report->entries = durable_end_id_ - segments_.front()->first_id;
  return Status::Ok();
}

Status SegmentedLog::OpenActiveSegment(const std::shared_ptr<Segment>& active, const SegmentScan& scan,
                                       RecoveryReport* report) {
  Segment& segment = *active;
  WAL_ASSIGN_OR_RETURN(active_file_, file_system_->OpenAppendable(segment.path));
  if (scan.torn_header || scan.torn_tail) {
    // Cut the torn bytes away before anything new is appended after them;
    // otherwise a later recovery would see garbage followed by valid records.
    uint64_t keep = scan.torn_header ? 0 : scan.valid_bytes;
    report->truncated_tail_bytes = scan.file_bytes - keep;
    WAL_RETURN_IF_ERROR(active_file_->Truncate(keep));
    if (scan.torn_header) WAL_RETURN_IF_ERROR(active_file_->Append(EncodeSegmentHeader(segment.first_id)));
    WAL_RETURN_IF_ERROR(active_file_->Sync());
  }
  if (segment.version == kFormatVersion) {
    PreallocateActive();
  } else if (segment.end_id == segment.first_id) {
    // An empty segment of an older version cannot be closed and followed by a
    // new one of the same first id: rewrite its header in the current format.
    // A crash in between leaves a torn header, which recovery rewrites too.
    WAL_RETURN_IF_ERROR(active_file_->Truncate(0));
    WAL_RETURN_IF_ERROR(active_file_->Append(EncodeSegmentHeader(segment.first_id)));
    WAL_RETURN_IF_ERROR(active_file_->Sync());
    segment.version = kFormatVersion;
    segment.header_bytes = kSegmentHeaderSize;
    segment.durable_bytes = kSegmentHeaderSize;
    PreallocateActive();
  }
  active_segment_ = active;
  return Status::Ok();
}

Status SegmentedLog::StartNewSegment(uint64_t first_id) {
  const std::string path = SegmentPath(first_id);
  WAL_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, file_system_->OpenAppendable(path));
  Status status = file->Truncate(0);  // a leftover from an earlier failed attempt is never reused
  // Preallocation only saves work later; on a full disk the header write below
  // decides whether the segment can be made.
  if (status.ok() && options_.preallocate) (void)file->Preallocate(options_.segment_bytes);
  if (status.ok()) status = file->Append(EncodeSegmentHeader(first_id));
  if (!status.ok()) {
    // Nothing was synced: drop the file so recovery never sees a half-made segment.
    file.reset();
    Status removed = file_system_->RemoveFile(path);
    if (!removed.ok()) Poison(removed.WithContext("cannot remove a failed new segment"));
    return status;
  }
  // The header and the directory entry must be durable before any record in this
  // segment is acknowledged, or a crash could lose the whole file.
  status = file->Sync();
  if (status.ok()) status = file_system_->SyncDirectory(options_.directory);
  if (!status.ok()) {
    Poison(status);
    return status;
  }
  auto segment = std::make_shared<Segment>();
  segment->first_id = first_id;
  segment->path = path;
  segment->end_id = first_id;
  segment->durable_bytes = kSegmentHeaderSize;
  WAL_ASSIGN_OR_RETURN(segment->reader, file_system_->OpenRandomAccess(path));

  if (active_file_ != nullptr) {
    // Every byte of the old segment was synced with its last group; a close error
    // here cannot lose acknowledged data.
    (void)active_file_->Close();
  }
  active_file_ = std::move(file);
  active_segment_ = segment;
  std::lock_guard lock(mutex_);
  segments_.push_back(std::move(segment));
  return Status::Ok();
}

}  // namespace wal::log::internal
