// The byte layout of log segments, records and the consumer checkpoint.
// docs/log-format.md is the prose version of this file; keep the two in step.
//
// All integers are little-endian.
//
//   segment header (32 bytes)
//     0  u64 magic "WALSEG\0\1"
//     8  u32 format version (1)
//     12 u32 header length (32)
//     16 u64 first entry id (equals the number in the file name)
//     24 u32 masked crc32c of bytes [0, 24)
//     28 u32 zero
//
//   record (16-byte header + payload)
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
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr size_t kSegmentHeaderSize = 32;
inline constexpr size_t kRecordHeaderSize = 16;
inline constexpr std::string_view kCheckpointMagicBytes = "WALCKPT1";
inline constexpr size_t kCheckpointSize = 24;
inline constexpr std::string_view kSegmentSuffix = ".seg";
inline constexpr std::string_view kCheckpointFileName = "consumer.checkpoint";

// "00000000000000000042.seg" for first_id 42: 20 digits so names sort by id.
std::string SegmentFileName(uint64_t first_id);
// The first id encoded in a segment file name, or nullopt if `name` is not one.
std::optional<uint64_t> ParseSegmentFileName(std::string_view name);

std::string EncodeSegmentHeader(uint64_t first_id);
// Validates magic, version, length and checksum; returns the first id.
Result<uint64_t> DecodeSegmentHeader(std::string_view header);

// Appends the encoded record to *out.
void AppendRecord(uint64_t id, std::string_view payload, std::string* out);
inline size_t EncodedRecordSize(size_t payload_size) { return kRecordHeaderSize + payload_size; }

enum class RecordParse {
  kOk,
  kIncomplete,   // the buffer ends before the record does
  kBadLength,    // the length field exceeds max_record_bytes
  kBadChecksum,  // the checksum does not match
};

struct ParsedRecord {
  uint64_t id = 0;
  std::string_view payload;  // points into the parsed buffer
  size_t encoded_size = 0;
};

// Parses one record at the start of `buffer`.
RecordParse ParseRecord(std::string_view buffer, uint64_t max_record_bytes, ParsedRecord* record);
// How many bytes the record starting at `buffer` claims to occupy, or 0 if the
// buffer is shorter than a record header.
size_t ClaimedRecordSize(std::string_view buffer);

std::string EncodeCheckpoint(uint64_t consumed_id);
Result<uint64_t> DecodeCheckpoint(std::string_view contents);

}  // namespace wal::log
