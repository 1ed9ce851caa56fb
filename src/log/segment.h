// Reading segment files: a buffered sequential reader, the sparse id -> offset
// index, and the recovery scan that tells a torn tail from mid-log corruption.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/file_system.h"
#include "common/status.h"
#include "log/record_format.h"

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
  uint32_t version = 0;       // segment format version (0 when the header is torn)
  uint64_t header_bytes = 0;  // size of the header
  uint64_t gap_start_id = 0;  // from the header: ids [gap_start_id, first id) were lost to repair
  uint64_t end_id = 0;        // one past the last kept record's id
  uint64_t valid_bytes = 0;   // offset just past the last kept record
  uint64_t file_bytes = 0;    // size of the file as found
  bool torn_tail = false;     // bytes after valid_bytes are a torn tail (last segment only)
  bool torn_header = false;   // the header itself is torn: the segment must be rewritten empty
  std::vector<IndexPoint> index;
};

// Validates the segment `path` whose file name says it starts at `first_id`:
// header, every record's checksum and length (against the format's own maximum,
// never a configured one), id continuity and, in version 2, group framing.
// A first id or a record id outside the id space (kEntryIdLimit) is corruption.
//
// Only the last segment can hold a torn tail, and only its last group can be
// torn, because the commit thread writes a group only after the previous one
// was synced. So in the last segment:
//   * version 2: a group that is incomplete or damaged is a torn tail, cut whole
//     from its first record, unless a valid record of a *later* group follows
//     the damage (that group proves the damaged one had been synced);
//   * version 1 (no group framing): a bad record with no valid record of an id
//     >= the expected one anywhere after it is a torn tail, cut from that record.
// Any other damage returns kCorruption naming the file and offset.
Result<SegmentScan> ScanSegment(FileSystem* file_system, const std::string& path, uint64_t first_id,
                                bool is_last_segment);

// Calls `visit(offset, record)`, in file order, for every well-formed record of
// format `version` that starts anywhere in `bytes` (which holds the file from
// offset `bytes_offset` on) and whose id is at least `min_id` and small enough
// to fit in what follows. Stops when `visit` returns false. Used to tell a torn
// tail from damage that later records prove, and by repair to resynchronise.
void ForEachPlausibleRecord(std::string_view bytes, uint64_t bytes_offset, uint32_t version, uint64_t min_id,
                            const std::function<bool(uint64_t offset, const ParsedRecord& record)>& visit);

}  // namespace wal::log
