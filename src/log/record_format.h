// The byte layout of log segments, records and the consumer checkpoint.
// docs/log-format.md is the prose version of this file; keep the two in step.
//
// All integers are little-endian. Entry ids are below 2^63 (kEntryIdLimit): a
// segment whose first id, or one of whose records, lies outside that space is
// corruption, and an append that would need an id there is refused.
//
// New segments are written in format version 2;
// version 1 segments (written before group framing existed) are still read.
//
//   segment header, version 2 (40 bytes)
//     0  u64 magic "WALSEG\0\1"
//     8  u32 format version (2)
//     12 u32 header length (40)
//     16 u64 first entry id (equals the number in the file name)
//     24 u64 gap start id: equals the first id, except in a segment written by
//            repair after lost ids: then ids [gap start, first id) are gone
//     32 u32 masked crc32c of bytes [0, 32)
//     36 u32 zero
//
//   record, version 2 (24-byte header + payload)
//     0  u32 masked crc32c of bytes [4, 24 + length)
//     4  u32 payload length (<= kMaxRecordBytes)
//     8  u64 entry id
//     16 u32 index of the record in its group (0 = first)
//     20 u32 number of records in the group (>= 1)
//     24 payload
//
//   A group is what one write + fdatasync committed. Its last record
//   (index = count - 1) is its commit marker: recovery keeps a group only whole.
//
//   segment header, version 1 (32 bytes; read only)
//     0  u64 magic "WALSEG\0\1"
//     8  u32 format version (1)
//     12 u32 header length (32)
//     16 u64 first entry id
//     24 u32 masked crc32c of bytes [0, 24)
//     28 u32 zero
//
//   record, version 1 (16-byte header + payload; read only)
//     0  u32 masked crc32c of bytes [4, 16 + length)
//     4  u32 payload length
//     8  u64 entry id
//     16 payload
//
//   consumer checkpoint (24 bytes)
//     0  u64 magic "WALCKPT1"
//     8  u64 consumed id
//     16 u32 masked crc32c of bytes [0, 16)
//     20 u32 zero
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace wal::log {

inline constexpr uint64_t kSegmentMagic = 0x0100'4745'534c'4157ull;  // "WALSEG\0\1" little-endian
inline constexpr uint32_t kFormatVersionV1 = 1;
inline constexpr uint32_t kFormatVersion = 2;  // what new segments are written in
inline constexpr size_t kSegmentHeaderSizeV1 = 32;
inline constexpr size_t kSegmentHeaderSize = 40;
inline constexpr size_t kRecordHeaderSizeV1 = 16;
inline constexpr size_t kRecordHeaderSize = 24;
// The format's own bound on a version 2 payload. Recovery and reads use it, never
// a configured limit: a record that was valid when written stays valid.
inline constexpr uint64_t kMaxRecordBytes = 256ull << 20;
// The id space: every entry id is below kEntryIdLimit, so a log's end (one past
// its last id) is at most kEntryIdLimit and no id arithmetic can wrap. 2^63
// ids are more than any log can hand out (a million appends a second for
// 290,000 years); the bound keeps a damaged or hostile first id near 2^64 from
// wrapping the log end to 0.
inline constexpr uint64_t kEntryIdLimit = uint64_t{1} << 63;
inline constexpr uint64_t kMaxEntryId = kEntryIdLimit - 1;
inline constexpr std::string_view kCheckpointMagicBytes = "WALCKPT1";
inline constexpr size_t kCheckpointSize = 24;
inline constexpr std::string_view kSegmentSuffix = ".seg";
inline constexpr std::string_view kCheckpointFileName = "consumer.checkpoint";
// Held (FileSystem::LockFile) by the one Log, or repair, that has the directory open.
inline constexpr std::string_view kLockFileName = "log.lock";

size_t SegmentHeaderSize(uint32_t version);
size_t RecordHeaderSize(uint32_t version);
// The largest payload a record of `version` can carry.
uint64_t MaxRecordBytes(uint32_t version);

// "00000000000000000042.seg" for first_id 42: 20 digits so names sort by id.
std::string SegmentFileName(uint64_t first_id);
// The first id encoded in a segment file name, or nullopt if `name` is not one.
std::optional<uint64_t> ParseSegmentFileName(std::string_view name);

struct SegmentHeader {
  uint32_t version = kFormatVersion;
  uint64_t first_id = 0;
  uint64_t gap_start_id = 0;  // == first_id unless ids were lost before this segment
  size_t size = kSegmentHeaderSize;
};

// A version 2 header. `gap_start_id` <= `first_id`; pass first_id for no gap.
std::string EncodeSegmentHeader(uint64_t first_id, uint64_t gap_start_id);
inline std::string EncodeSegmentHeader(uint64_t first_id) { return EncodeSegmentHeader(first_id, first_id); }
// A version 1 header: only tests and tools that produce old logs need it.
std::string EncodeSegmentHeaderV1(uint64_t first_id);
// Validates magic, version, length and checksum. `header` is the start of the
// file (at least kSegmentHeaderSize bytes unless the file is shorter).
Result<SegmentHeader> DecodeSegmentHeader(std::string_view header);

// Appends a version 2 record, number `group_index` of a group of `group_count`.
void AppendRecord(uint64_t id, uint32_t group_index, uint32_t group_count, std::string_view payload,
                  std::string* out);
// Appends a version 1 record (tests and tools that produce old logs).
void AppendRecordV1(uint64_t id, std::string_view payload, std::string* out);
inline size_t EncodedRecordSize(size_t payload_size) { return kRecordHeaderSize + payload_size; }

enum class RecordParse {
  kOk,
  kIncomplete,   // the buffer ends before the record does
  kBadLength,    // the length field exceeds the format's maximum
  kBadGroup,     // group index/count impossible (count 0, index >= count)
  kBadChecksum,  // the checksum does not match
};
std::string_view DescribeRecordParse(RecordParse parse);

struct ParsedRecord {
  uint64_t id = 0;
  uint32_t group_index = 0;  // version 1 records: 0
  uint32_t group_count = 1;  // version 1 records: 1
  std::string_view payload;  // points into the parsed buffer
  size_t encoded_size = 0;
  // The id of the first record of this record's group.
  uint64_t group_first_id() const { return id - group_index; }
};

// Parses one record of segment format `version` at the start of `buffer`.
RecordParse ParseRecord(std::string_view buffer, uint32_t version, ParsedRecord* record);
// How many bytes the record starting at `buffer` claims to occupy, or 0 if the
// buffer is shorter than a record header.
size_t ClaimedRecordSize(std::string_view buffer, uint32_t version);

std::string EncodeCheckpoint(uint64_t consumed_id);
Result<uint64_t> DecodeCheckpoint(std::string_view contents);

}  // namespace wal::log
