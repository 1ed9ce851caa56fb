#include "log/record_format.h"

#include <cstdio>
#include <cstring>

#include "common/crc32c.h"

namespace wal::log {
namespace {

void PutFixed32(char* out, uint32_t value) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((value >> (8 * i)) & 0xFF);
}
void PutFixed64(char* out, uint64_t value) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((value >> (8 * i)) & 0xFF);
}
uint32_t GetFixed32(const char* in) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value |= static_cast<uint32_t>(static_cast<uint8_t>(in[i])) << (8 * i);
  return value;
}
uint64_t GetFixed64(const char* in) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value |= static_cast<uint64_t>(static_cast<uint8_t>(in[i])) << (8 * i);
  return value;
}

}  // namespace

std::string SegmentFileName(uint64_t first_id) {
  char name[32];
  std::snprintf(name, sizeof(name), "%020llu.seg", static_cast<unsigned long long>(first_id));
  return name;
}

std::optional<uint64_t> ParseSegmentFileName(std::string_view name) {
  if (name.size() != 20 + kSegmentSuffix.size() || name.substr(20) != kSegmentSuffix) return std::nullopt;
  uint64_t value = 0;
  for (size_t i = 0; i < 20; ++i) {
    char c = name[i];
    if (c < '0' || c > '9') return std::nullopt;
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

size_t SegmentHeaderSize(uint32_t version) {
  return version == kFormatVersionV1 ? kSegmentHeaderSizeV1 : kSegmentHeaderSize;
}

size_t RecordHeaderSize(uint32_t version) {
  return version == kFormatVersionV1 ? kRecordHeaderSizeV1 : kRecordHeaderSize;
}

uint64_t MaxRecordBytes(uint32_t version) {
  // Version 1 had no bound of its own beyond its 32-bit length field.
  return version == kFormatVersionV1 ? UINT32_MAX : kMaxRecordBytes;
}

std::string EncodeSegmentHeader(uint64_t first_id, uint64_t gap_start_id) {
  std::string header(kSegmentHeaderSize, '\0');
  PutFixed64(&header[0], kSegmentMagic);
  PutFixed32(&header[8], kFormatVersion);
  PutFixed32(&header[12], static_cast<uint32_t>(kSegmentHeaderSize));
  PutFixed64(&header[16], first_id);
  PutFixed64(&header[24], gap_start_id);
  PutFixed32(&header[32], crc32c::Mask(crc32c::Value(header.data(), 32)));
  return header;
}

std::string EncodeSegmentHeaderV1(uint64_t first_id) {
  std::string header(kSegmentHeaderSizeV1, '\0');
  PutFixed64(&header[0], kSegmentMagic);
  PutFixed32(&header[8], kFormatVersionV1);
  PutFixed32(&header[12], static_cast<uint32_t>(kSegmentHeaderSizeV1));
  PutFixed64(&header[16], first_id);
  PutFixed32(&header[24], crc32c::Mask(crc32c::Value(header.data(), 24)));
  return header;
}

Result<SegmentHeader> DecodeSegmentHeader(std::string_view header) {
  if (header.size() < kSegmentHeaderSizeV1) return Corruption("segment header is truncated");
  if (GetFixed64(&header[0]) != kSegmentMagic) return Corruption("bad segment magic");
  SegmentHeader decoded;
  decoded.version = GetFixed32(&header[8]);
  if (decoded.version != kFormatVersionV1 && decoded.version != kFormatVersion) {
    // The checksum's place depends on the version, so an unknown version is
    // reported as such even if it is a damaged known one.
    return Corruption("unsupported segment format version " + std::to_string(decoded.version));
  }
  decoded.size = SegmentHeaderSize(decoded.version);
  if (header.size() < decoded.size) return Corruption("segment header is truncated");
  const size_t crc_offset = decoded.size - 8;
  if (crc32c::Unmask(GetFixed32(&header[crc_offset])) != crc32c::Value(header.data(), crc_offset)) {
    return Corruption("segment header checksum mismatch");
  }
  if (GetFixed32(&header[12]) != decoded.size) return Corruption("unexpected segment header length");
  decoded.first_id = GetFixed64(&header[16]);
  decoded.gap_start_id = decoded.version == kFormatVersionV1 ? decoded.first_id : GetFixed64(&header[24]);
  if (decoded.gap_start_id > decoded.first_id) return Corruption("segment gap start is after its first id");
  return decoded;
}

void AppendRecord(uint64_t id, uint32_t group_index, uint32_t group_count, std::string_view payload,
                  std::string* out) {
  size_t start = out->size();
  out->resize(start + kRecordHeaderSize);
  out->append(payload);
  char* record = out->data() + start;
  PutFixed32(record + 4, static_cast<uint32_t>(payload.size()));
  PutFixed64(record + 8, id);
  PutFixed32(record + 16, group_index);
  PutFixed32(record + 20, group_count);
  // The checksum covers length, id and group fields as well as the payload, so a
  // record whose header was damaged cannot pass as a different, valid record.
  uint32_t crc = crc32c::Value(record + 4, kRecordHeaderSize - 4 + payload.size());
  PutFixed32(record, crc32c::Mask(crc));
}

void AppendRecordV1(uint64_t id, std::string_view payload, std::string* out) {
  size_t start = out->size();
  out->resize(start + kRecordHeaderSizeV1);
  out->append(payload);
  char* record = out->data() + start;
  PutFixed32(record + 4, static_cast<uint32_t>(payload.size()));
  PutFixed64(record + 8, id);
  uint32_t crc = crc32c::Value(record + 4, kRecordHeaderSizeV1 - 4 + payload.size());
  PutFixed32(record, crc32c::Mask(crc));
}

size_t ClaimedRecordSize(std::string_view buffer, uint32_t version) {
  const size_t header_size = RecordHeaderSize(version);
  if (buffer.size() < header_size) return 0;
  return header_size + GetFixed32(buffer.data() + 4);
}

std::string_view DescribeRecordParse(RecordParse parse) {
  switch (parse) {
    case RecordParse::kOk: return "ok";
    case RecordParse::kIncomplete: return "record is cut short";
    case RecordParse::kBadLength: return "record length exceeds the format maximum";
    case RecordParse::kBadGroup: return "record group fields are impossible";
    case RecordParse::kBadChecksum: return "record checksum mismatch";
  }
  return "unknown";
}

RecordParse ParseRecord(std::string_view buffer, uint32_t version, ParsedRecord* record) {
  const size_t header_size = RecordHeaderSize(version);
  if (buffer.size() < header_size) return RecordParse::kIncomplete;
  uint32_t length = GetFixed32(buffer.data() + 4);
  if (length > MaxRecordBytes(version)) return RecordParse::kBadLength;
  uint32_t group_index = 0;
  uint32_t group_count = 1;
  if (version != kFormatVersionV1) {
    group_index = GetFixed32(buffer.data() + 16);
    group_count = GetFixed32(buffer.data() + 20);
    // Checked before the checksum: it rejects zeros and most garbage cheaply.
    if (group_count == 0 || group_index >= group_count) return RecordParse::kBadGroup;
  }
  if (buffer.size() - header_size < length) return RecordParse::kIncomplete;
  uint32_t expected = crc32c::Unmask(GetFixed32(buffer.data()));
  if (crc32c::Value(buffer.data() + 4, header_size - 4 + length) != expected) return RecordParse::kBadChecksum;
  record->id = GetFixed64(buffer.data() + 8);
  if (group_index > record->id) return RecordParse::kBadGroup;  // the group would start before id 0
  record->group_index = group_index;
  record->group_count = group_count;
  record->payload = buffer.substr(header_size, length);
  record->encoded_size = header_size + length;
  return RecordParse::kOk;
}

std::string EncodeCheckpoint(uint64_t consumed_id) {
  std::string contents(kCheckpointSize, '\0');
  std::memcpy(contents.data(), kCheckpointMagicBytes.data(), 8);
  PutFixed64(&contents[8], consumed_id);
  PutFixed32(&contents[16], crc32c::Mask(crc32c::Value(contents.data(), 16)));
  return contents;
}

Result<uint64_t> DecodeCheckpoint(std::string_view contents) {
  if (contents.size() != kCheckpointSize) {
    return Corruption("consumer checkpoint has " + std::to_string(contents.size()) + " bytes, expected " +
                      std::to_string(kCheckpointSize));
  }
  if (contents.substr(0, 8) != kCheckpointMagicBytes) return Corruption("bad consumer checkpoint magic");
  if (crc32c::Unmask(GetFixed32(&contents[16])) != crc32c::Value(contents.data(), 16)) {
    return Corruption("consumer checkpoint checksum mismatch");
  }
  return GetFixed64(&contents[8]);
}

}  // namespace wal::log
