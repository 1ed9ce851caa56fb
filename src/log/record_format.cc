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

std::string EncodeSegmentHeader(uint64_t first_id) {
  std::string header(kSegmentHeaderSize, '\0');
  PutFixed64(&header[0], kSegmentMagic);
  PutFixed32(&header[8], kFormatVersion);
  PutFixed32(&header[12], static_cast<uint32_t>(kSegmentHeaderSize));
  PutFixed64(&header[16], first_id);
  PutFixed32(&header[24], crc32c::Mask(crc32c::Value(header.data(), 24)));
  return header;
}

Result<uint64_t> DecodeSegmentHeader(std::string_view header) {
  if (header.size() < kSegmentHeaderSize) return Corruption("segment header is truncated");
  if (GetFixed64(&header[0]) != kSegmentMagic) return Corruption("bad segment magic");
  if (crc32c::Unmask(GetFixed32(&header[24])) != crc32c::Value(header.data(), 24)) {
    return Corruption("segment header checksum mismatch");
  }
  if (GetFixed32(&header[8]) != kFormatVersion) {
    return Corruption("unsupported segment format version " + std::to_string(GetFixed32(&header[8])));
  }
  if (GetFixed32(&header[12]) != kSegmentHeaderSize) return Corruption("unexpected segment header length");
  return GetFixed64(&header[16]);
}

void AppendRecord(uint64_t id, std::string_view payload, std::string* out) {
  size_t start = out->size();
  out->resize(start + kRecordHeaderSize);
  out->append(payload);
  char* record = out->data() + start;
  PutFixed32(record + 4, static_cast<uint32_t>(payload.size()));
  PutFixed64(record + 8, id);
  // The checksum covers length and id as well as the payload, so a record whose
  // header was damaged cannot pass as a different, valid record.
  uint32_t crc = crc32c::Value(record + 4, kRecordHeaderSize - 4 + payload.size());
  PutFixed32(record, crc32c::Mask(crc));
}

size_t ClaimedRecordSize(std::string_view buffer) {
  if (buffer.size() < kRecordHeaderSize) return 0;
  return kRecordHeaderSize + GetFixed32(buffer.data() + 4);
}

RecordParse ParseRecord(std::string_view buffer, uint64_t max_record_bytes, ParsedRecord* record) {
  if (buffer.size() < kRecordHeaderSize) return RecordParse::kIncomplete;
  uint32_t length = GetFixed32(buffer.data() + 4);
  if (length > max_record_bytes) return RecordParse::kBadLength;
  if (buffer.size() - kRecordHeaderSize < length) return RecordParse::kIncomplete;
  uint32_t expected = crc32c::Unmask(GetFixed32(buffer.data()));
  if (crc32c::Value(buffer.data() + 4, kRecordHeaderSize - 4 + length) != expected) return RecordParse::kBadChecksum;
  record->id = GetFixed64(buffer.data() + 8);
  record->payload = buffer.substr(kRecordHeaderSize, length);
  record->encoded_size = kRecordHeaderSize + length;
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
