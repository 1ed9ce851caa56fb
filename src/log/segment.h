// Reading segment files: a buffered sequential reader, the sparse id -> offset
// index, and the recovery scan that tells a torn tail from mid-log corruption.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/file_system.h"
#include "common/status.h"

namespace wal::log {

// One point of a segment's sparse index: the record holding `id` starts at `offset`.
struct IndexPoint {
  uint64_t id = 0;
  uint64_t offset = 0;
};

// A new index point is added once this many bytes follow the previous one, so a
// lookup scans at most about this much of a segment.
inline constexpr uint64_t kIndexSpacingBytes = 32 * 1024;

// The last point with id <= `id`, or nullptr if there is none.
const IndexPoint* FindIndexPoint(const std::vector<IndexPoint>& index, uint64_t id);

// Serves forward reads from a RandomAccessFile through a buffer so that walking
// many small records costs few system calls. Reads never go past `file_end`.
class BufferedFileReader {
 public:
  BufferedFileReader(const RandomAccessFile* file, uint64_t file_end, size_t chunk_bytes = 64 * 1024)
      : file_(file), file_end_(file_end), chunk_bytes_(chunk_bytes) {}

  // Points *out at bytes [offset, offset + length) of the file, or fewer when the
  // file (file_end) ends first. The view is valid until the next call.
  Status View(uint64_t offset, size_t length, std::string_view* out);

 private:
  const RandomAccessFile* file_;
  uint64_t file_end_;
  size_t chunk_bytes_;
  std::string buffer_;
  uint64_t buffer_offset_ = 0;
};

struct SegmentScan {
  uint64_t end_id = 0;        // one past the last valid record's id
  uint64_t valid_bytes = 0;   // offset just past the last valid record
  uint64_t file_bytes = 0;    // size of the file as found
  bool torn_tail = false;     // bytes after valid_bytes are a torn tail (last segment only)
  bool torn_header = false;   // the header itself is torn: the segment must be rewritten empty
  std::vector<IndexPoint> index;
};

// Validates the segment `path` whose file name says it starts at `first_id`:
// header, every record's checksum and id continuity. In the last segment a bad
// record with no valid later record (id >= the expected one) is a torn tail; any
// other damage returns kCorruption naming the file and offset.
Result<SegmentScan> ScanSegment(FileSystem* file_system, const std::string& path, uint64_t first_id,
                                uint64_t max_record_bytes, bool is_last_segment);

}  // namespace wal::log
