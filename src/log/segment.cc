#include "log/segment.h"

#include <algorithm>

#include "log/record_format.h"

namespace wal::log {
namespace {

std::string Where(const std::string& path, uint64_t offset) {
  return path + " at offset " + std::to_string(offset);
}

// Reads the file from `start` to its end.
Result<std::string> ReadRest(const RandomAccessFile& file, uint64_t start, uint64_t file_end) {
  std::string rest;
  if (start < file_end) WAL_RETURN_IF_ERROR(file.ReadAt(start, file_end - start, &rest));
  return rest;
}

// True when some well-formed record of either version with an id >= min_id
// starts in [start, file_end): the file held records, so its header was synced.
Result<bool> AnyRecordFollows(const RandomAccessFile& file, uint64_t start, uint64_t file_end, uint64_t min_id) {
  WAL_ASSIGN_OR_RETURN(std::string rest, ReadRest(file, start, file_end));
  bool found = false;
  for (uint32_t version : {kFormatVersion, kFormatVersionV1}) {
    ForEachPlausibleRecord(rest, start, version, min_id, [&](uint64_t, const ParsedRecord&) {
      found = true;
      return false;
    });
  }
  return found;
}

// A record after damage at `damage_offset` that proves the damage is not a torn
// tail. Version 2: a record of a group other than `torn_group_first_id` (the
// group the damage is in), since a later group is only written once the earlier
// one was synced. Version 1: any record with an id >= min_id.
struct Witness {
  uint64_t offset = 0;
  uint64_t id = 0;
  uint64_t group_first_id = 0;
};
Result<std::optional<Witness>> FindWitness(const RandomAccessFile& file, uint64_t damage_offset, uint64_t file_end,
                                           uint32_t version, uint64_t min_id, uint64_t torn_group_first_id) {
  WAL_ASSIGN_OR_RETURN(std::string rest, ReadRest(file, damage_offset + 1, file_end));
  std::optional<Witness> witness;
  ForEachPlausibleRecord(rest, damage_offset + 1, version, min_id, [&](uint64_t offset, const ParsedRecord& record) {
    if (version != kFormatVersionV1 && record.group_first_id() == torn_group_first_id) return true;
    witness = Witness{offset, record.id, record.group_first_id()};
    return false;
  });
  return witness;
}

}  // namespace

void ForEachPlausibleRecord(std::string_view bytes, uint64_t bytes_offset, uint32_t version, uint64_t min_id,
                            const std::function<bool(uint64_t offset, const ParsedRecord& record)>& visit) {
  const size_t header_size = RecordHeaderSize(version);
  // Every record takes at least a header, so ids beyond this cannot be real; the
  // bound makes a garbage id cost one comparison instead of a checksum.
  const uint64_t max_id = min_id + bytes.size() / header_size + 1;
  for (size_t position = 0; position + header_size <= bytes.size(); ++position) {
    std::string_view view = bytes.substr(position);
    uint64_t id = 0;
    for (int i = 0; i < 8; ++i) id |= static_cast<uint64_t>(static_cast<uint8_t>(view[8 + i])) << (8 * i);
    if (id < min_id || id > max_id) continue;
    ParsedRecord record;
    if (ParseRecord(view, version, &record) != RecordParse::kOk) continue;
    if (!visit(bytes_offset + position, record)) return;
    position += record.encoded_size - 1;
  }
}

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
                                bool is_last_segment) {
  // Checked before anything else, torn headers included: a segment that starts
  // outside the id space cannot have been written by the log, and accepting it
  // would let the log end wrap past 2^64 to 0.
  if (first_id > kMaxEntryId) {
    return Corruption(Where(path, 0) + ": first id " + std::to_string(first_id) +
                      " is outside the id space (ids are below 2^63)");
  }
  WAL_ASSIGN_OR_RETURN(auto file, file_system->OpenRandomAccess(path));
  WAL_ASSIGN_OR_RETURN(uint64_t file_bytes, file->Size());
  SegmentScan scan;
  scan.file_bytes = file_bytes;
  scan.end_id = first_id;
  scan.gap_start_id = first_id;

  std::string header_bytes;
  WAL_RETURN_IF_ERROR(file->ReadAt(0, kSegmentHeaderSize, &header_bytes));
  Result<SegmentHeader> header = DecodeSegmentHeader(header_bytes);
  if (!header.ok()) {
    // A new segment's header is synced before any record is written to it, so a
    // bad header with no record after it is a crash while the segment was being
    // created; with records after it, it is damage.
    if (is_last_segment) {
      WAL_ASSIGN_OR_RETURN(bool records_follow, AnyRecordFollows(*file, 0, file_bytes, first_id));
      if (!records_follow) {
        scan.torn_header = true;
        return scan;
      }
    }
    return Corruption(Where(path, 0) + ": " + header.status().message());
  }
  if (header->first_id != first_id) {
    return Corruption(Where(path, 0) + ": header first id " + std::to_string(header->first_id) +
                      " does not match the file name");
  }
  const uint32_t version = header->version;
  scan.version = version;
  scan.header_bytes = header->size;
  scan.gap_start_id = header->gap_start_id;

  BufferedFileReader reader(file.get(), file_bytes, 256 * 1024);
  uint64_t offset = header->size;
  uint64_t expected_id = first_id;
  uint64_t last_indexed_offset = 0;
  // Version 2 group framing: the group being read, and the end of the last
  // complete one (everything up to there is committed).
  bool in_group = false;
  uint64_t group_first_id = first_id;
  uint32_t group_count = 0;
  uint64_t committed_offset = offset;
  uint64_t committed_id = first_id;
  std::string damage;  // why the scan stopped before the end of the file
  while (offset < file_bytes) {
    std::string_view view;
    WAL_RETURN_IF_ERROR(reader.View(offset, RecordHeaderSize(version), &view));
    size_t claimed = ClaimedRecordSize(view, version);
    if (claimed > 0 && claimed - RecordHeaderSize(version) <= MaxRecordBytes(version)) {
      WAL_RETURN_IF_ERROR(reader.View(offset, claimed, &view));
    }
    ParsedRecord record;
    RecordParse parse = ParseRecord(view, version, &record);
    if (parse == RecordParse::kOk) {
      if (record.id > kMaxEntryId) {
        return Corruption(Where(path, offset) + ": record id " + std::to_string(record.id) +
                          " is outside the id space (ids are below 2^63)");
      }
      const bool in_place = record.id == expected_id &&
                            (in_group ? record.group_index == expected_id - group_first_id &&
                                            record.group_count == group_count
                                      : record.group_index == 0);
      if (!in_place) {
        return Corruption(Where(path, offset) + ": record id " + std::to_string(record.id) + " (record " +
                          std::to_string(record.group_index) + " of a group of " + std::to_string(record.group_count) +
                          "), expected id " + std::to_string(expected_id) +
                          (in_group ? " in the group starting at id " + std::to_string(group_first_id) : ""));
      }
      if (!in_group) {
        in_group = true;
        group_first_id = record.id;
        group_count = record.group_count;
      }
      if (scan.index.empty() || offset - last_indexed_offset >= kIndexSpacingBytes) {
        scan.index.push_back({record.id, offset});
        last_indexed_offset = offset;
      }
      offset += record.encoded_size;
      ++expected_id;
      if (record.group_index + 1 == record.group_count) {
        in_group = false;
        committed_offset = offset;
        committed_id = expected_id;
      }
      continue;
    }
    damage = std::string(DescribeRecordParse(parse));
    break;
  }

  if (damage.empty() && !in_group) {
    scan.end_id = expected_id;
    scan.valid_bytes = offset;
    return scan;
  }
  if (damage.empty()) damage = "the segment ends inside a group of " + std::to_string(group_count) + " records";
  if (!is_last_segment) return Corruption(Where(path, offset) + ": " + damage + " in a non-final segment");
  if (offset < file_bytes) {
    const uint64_t torn_group = in_group ? group_first_id : expected_id;
    WAL_ASSIGN_OR_RETURN(std::optional<Witness> witness,
                         FindWitness(*file, offset, file_bytes, version, expected_id, torn_group));
    if (witness) {
      std::string what = version == kFormatVersionV1
                             ? "valid record id " + std::to_string(witness->id)
                             : "valid record id " + std::to_string(witness->id) + " of a later group (starting at id " +
                                   std::to_string(witness->group_first_id) + ")";
      return Corruption(Where(path, offset) + ": " + damage + ", followed by " + what + " at offset " +
                        std::to_string(witness->offset));
    }
  }
  // A torn tail. Version 1 keeps every whole record before the damage; version 2
  // keeps only whole groups.
  scan.torn_tail = true;
  if (version == kFormatVersionV1) {
    committed_offset = offset;
    committed_id = expected_id;
  }
  scan.end_id = committed_id;
  scan.valid_bytes = committed_offset;
  while (!scan.index.empty() && scan.index.back().id >= committed_id) scan.index.pop_back();
  return scan;
}

}  // namespace wal::log
