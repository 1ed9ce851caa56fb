// Reading a whole log directory without changing it: the segment list, every
// segment's scan, the continuity between segments and the consumer checkpoint.
// Log::Open (recovery), the offline check and repair all start from here, so
// they agree on what is damage.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/file_system.h"
#include "common/status.h"
#include "log/segment.h"

namespace wal::log {

// First ids of the segment files in `directory`, sorted.
Result<std::vector<uint64_t>> ListSegmentFirstIds(FileSystem* file_system, const std::string& directory);

// Every directory at or under `root` (up to 4 levels down) that holds segment
// files, sorted. A `root` that does not exist has none.
Result<std::vector<std::string>> FindLogDirectories(FileSystem* file_system, const std::string& root);

struct ScannedSegment {
  uint64_t first_id = 0;
  std::string path;
  SegmentScan scan;
};

struct DirectoryScan {
  std::vector<ScannedSegment> segments;  // oldest first
  std::optional<uint64_t> consumed_id;   // from the checkpoint, if there is one
  // Consumed segments left behind by an interrupted retention (before a gap
  // whose ids are all consumed): not part of the log, to be removed.
  std::vector<std::string> stale_segment_paths;
};

// Scans every segment (ScanSegment) and checks that ids continue from one
// segment to the next, except across a gap the later segment's header declares
// or one that lies wholly below the checkpoint (interrupted retention; the
// segments before it are listed as stale). Damage anywhere returns kCorruption naming the
// file and offset; a torn tail in the last segment is reported in its scan, not
// cut. Reads only.
Result<DirectoryScan> ScanLogDirectory(FileSystem* file_system, const std::string& directory);

}  // namespace wal::log
