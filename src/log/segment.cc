#include "log/segment.h"

#include <algorithm>

#include "log/record_format.h"

namespace wal::log {
namespace {

std::string Where(const std::string& path, uint64_t offset) {
  return path + " at offset " + std::to_string(offset);
}

std::string_view DescribeParse(RecordParse parse) {
  switch (parse) {
    case RecordParse::kOk: return "ok";
    case RecordParse::kIncomplete: return "record is cut short";
    case RecordParse::kBadLength: return "record length exceeds max_record_bytes";
    case RecordParse::kBadChecksum: return "record checksum mismatch";
  }
  return "unknown";
}

// Looks for any well-formed record with id >= min_id starting anywhere in
// [start, file_end). Finding one after a bad record proves the damage is not a
// torn tail: something valid was written after it.
Result<bool> ValidRecordFollows(const RandomAccessFile& file, uint64_t start, uint64_t file_end,
                                uint64_t max_record_bytes, uint64_t min_id, uint64_t* found_offset,
                                uint64_t* found_id) {
  if (start >= file_end) return false;
  std::string rest;
  WAL_RETURN_IF_ERROR(file.ReadAt(start, file_end - start, &rest));
  std::string_view view(rest);
  for (size_t position = 0; position + kRecordHeaderSize <= view.size(); ++position) {
    ParsedRecord record;
    if (ParseRecord(view.substr(position), max_record_bytes, &record) == RecordParse::kOk && record.id >= min_id) {
      *found_offset = start + position;
      *found_id = record.id;
      return true;
    }
  }
  return false;
}

}  // namespace

const IndexPoint* FindIndexPoint(const std::vector<IndexPoint>& index, uint64_t id) {
  auto after = std::upper_bound(index.begin(), index.end(), id,
                                [](uint64_t value, const IndexPoint& point) { return value < point.id; });
  if (after == index.begin()) return nullptr;
  return &*(after - 1);
}

Status BufferedFileReader::View(uint64_t offset, size_t length, std::string_view* out) {
  uint64_t wanted_end = std::min<uint64_t>(offset + length, file_end_);
  if (offset >= wanted_end) {
    *out = {};
    return Status::Ok();
  }
  if (offset < buffer_offset_ || wanted_end > buffer_offset_ + buffer_.size()) {
    size_t to_read = static_cast<size_t>(std::min<uint64_t>(std::max<uint64_t>(length, chunk_bytes_), file_end_ - offset));
    WAL_RETURN_IF_ERROR(file_->ReadAt(offset, to_read, &buffer_));
    buffer_offset_ = offset;
  }
  size_t start = static_cast<size_t>(offset - buffer_offset_);
  size_t available = buffer_.size() - std::min(buffer_.size(), start);
  *out = std::string_view(buffer_).substr(std::min(buffer_.size(), start), std::min<size_t>(length, available));
  return Status::Ok();
}

Result<SegmentScan> ScanSegment(FileSystem* file_system, const std::string& path, uint64_t first_id,
                                uint64_t max_record_bytes, bool is_last_segment) {
  WAL_ASSIGN_OR_RETURN(auto file, file_system->OpenRandomAccess(path));
  WAL_ASSIGN_OR_RETURN(uint64_t file_bytes, file->Size());
  SegmentScan scan;
  scan.file_bytes = file_bytes;
  scan.end_id = first_id;

  std::string header;
  WAL_RETURN_IF_ERROR(file->ReadAt(0, kSegmentHeaderSize, &header));
  Result<uint64_t> header_id = DecodeSegmentHeader(header);
  if (!header_id.ok()) {
    // A crash while a new segment's header was being written leaves a short or
    // all-zero file; anything else in a header is damage.
    bool only_zeros = std::all_of(header.begin(), header.end(), [](char c) { return c == '\0'; });
    if (is_last_segment && (file_bytes < kSegmentHeaderSize || (only_zeros && file_bytes == kSegmentHeaderSize))) {
      scan.torn_header = true;
      return scan;
    }
    return Corruption(Where(path, 0) + ": " + header_id.status().message());
  }
  if (header_id.value() != first_id) {
    return Corruption(Where(path, 0) + ": header first id " + std::to_string(header_id.value()) +
                      " does not match the file name");
  }

  BufferedFileReader reader(file.get(), file_bytes, 256 * 1024);
  uint64_t offset = kSegmentHeaderSize;
  uint64_t expected_id = first_id;
  uint64_t last_indexed_offset = 0;
  while (offset < file_bytes) {
    std::string_view view;
    WAL_RETURN_IF_ERROR(reader.View(offset, kRecordHeaderSize, &view));
    size_t claimed = ClaimedRecordSize(view);
    if (claimed > 0 && claimed - kRecordHeaderSize <= max_record_bytes) {
      WAL_RETURN_IF_ERROR(reader.View(offset, claimed, &view));
    }
    ParsedRecord record;
    RecordParse parse = ParseRecord(view, max_record_bytes, &record);
    if (parse == RecordParse::kOk && record.id == expected_id) {
      if (scan.index.empty() || offset - last_indexed_offset >= kIndexSpacingBytes) {
        scan.index.push_back({record.id, offset});
        last_indexed_offset = offset;
      }
      offset += record.encoded_size;
      ++expected_id;
      continue;
    }
    if (parse == RecordParse::kOk) {
      return Corruption(Where(path, offset) + ": record id " + std::to_string(record.id) + ", expected " +
                        std::to_string(expected_id));
    }
    std::string reason(DescribeParse(parse));
    if (!is_last_segment) return Corruption(Where(path, offset) + ": " + reason + " in a non-final segment");
    uint64_t later_offset = 0;
    uint64_t later_id = 0;
    WAL_ASSIGN_OR_RETURN(bool later_valid, ValidRecordFollows(*file, offset + 1, file_bytes, max_record_bytes,
                                                              expected_id, &later_offset, &later_id));
    if (later_valid) {
      return Corruption(Where(path, offset) + ": " + reason + ", followed by valid record id " +
                        std::to_string(later_id) + " at offset " + std::to_string(later_offset));
    }
    scan.torn_tail = true;
    break;
  }
  scan.end_id = expected_id;
  scan.valid_bytes = offset;
  return scan;
}

}  // namespace wal::log
