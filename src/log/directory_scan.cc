#include "log/directory_scan.h"

#include <algorithm>

#include "log/record_format.h"

namespace wal::log {

Result<std::vector<uint64_t>> ListSegmentFirstIds(FileSystem* file_system, const std::string& directory) {
  WAL_ASSIGN_OR_RETURN(std::vector<std::string> names, file_system->ListDirectory(directory));
  std::vector<uint64_t> first_ids;
  for (const std::string& name : names) {
    if (auto first_id = ParseSegmentFileName(name)) first_ids.push_back(*first_id);
  }
  std::sort(first_ids.begin(), first_ids.end());
  return first_ids;
}

namespace {

Status FindLogDirectoriesUnder(FileSystem* file_system, const std::string& directory, int depth,
                               std::vector<std::string>* found) {
  // ListDirectory fails on anything that is not a directory: that is the test.
  Result<std::vector<std::string>> names = file_system->ListDirectory(directory);
  if (!names.ok()) return Status::Ok();
  bool holds_segments = false;
  for (const std::string& name : names.value()) {
    if (ParseSegmentFileName(name)) {
      holds_segments = true;
    } else if (depth > 0) {
      WAL_RETURN_IF_ERROR(FindLogDirectoriesUnder(file_system, JoinPath(directory, name), depth - 1, found));
    }
  }
  if (holds_segments) found->push_back(directory);
  return Status::Ok();
}

}  // namespace

Result<std::vector<std::string>> FindLogDirectories(FileSystem* file_system, const std::string& root) {
  std::vector<std::string> found;
  WAL_RETURN_IF_ERROR(FindLogDirectoriesUnder(file_system, root, 4, &found));
  std::sort(found.begin(), found.end());
  return found;
}

Result<DirectoryScan> ScanLogDirectory(FileSystem* file_system, const std::string& directory) {
  DirectoryScan result;
  // The checkpoint is read first: it decides whether a gap between segments is
  // damage or the trace of an interrupted retention.
  const std::string checkpoint_path = JoinPath(directory, kCheckpointFileName);
  if (file_system->Exists(checkpoint_path)) {
    WAL_ASSIGN_OR_RETURN(std::string contents, file_system->ReadFile(checkpoint_path));
    Result<uint64_t> consumed = DecodeCheckpoint(contents);
    if (!consumed.ok()) return consumed.status().WithContext(checkpoint_path);
    result.consumed_id = consumed.value();
  }

  WAL_ASSIGN_OR_RETURN(std::vector<uint64_t> first_ids, ListSegmentFirstIds(file_system, directory));
  uint64_t expected_first_id = first_ids.empty() ? 0 : first_ids.front();
  for (size_t i = 0; i < first_ids.size(); ++i) {
    const uint64_t first_id = first_ids[i];
    const std::string path = JoinPath(directory, SegmentFileName(first_id));
    WAL_ASSIGN_OR_RETURN(SegmentScan scan, ScanSegment(file_system, path, first_id, i + 1 == first_ids.size()));
    // Ids are contiguous across segments, except where repair dropped some and
    // said so in the header of the segment after the gap, or where every missing
    // id was already consumed: retention unlinks consumed segments oldest first
    // and syncs the directory once, and a file system that does not persist
    // directory changes in order can lose a newer unlink and keep an older one
    // (a failed unlink leaves one behind too). Such segments lie wholly below
    // the checkpoint; they are dropped from the log and removed later.
    if (first_id != expected_first_id && scan.gap_start_id != expected_first_id) {
      const bool consumed_gap = result.consumed_id && first_id > expected_first_id && first_id <= *result.consumed_id;
      if (!consumed_gap) {
        return Corruption(path + " at offset 0: segment starts at id " + std::to_string(first_id) +
                          " but the previous segment ends at id " + std::to_string(expected_first_id));
      }
      for (ScannedSegment& stale : result.segments) result.stale_segment_paths.push_back(std::move(stale.path));
      result.segments.clear();
    }
    expected_first_id = scan.end_id;
    result.segments.push_back({first_id, path, std::move(scan)});
  }
  return result;
}

}  // namespace wal::log
