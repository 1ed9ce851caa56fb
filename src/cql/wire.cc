#include "cql/wire.h"

#include <limits>
#include <utility>

namespace wal::cql {

bool WireReader::Need(size_t n, std::string_view what) {
  if (!ok()) return false;
  if (remaining() >= n) return true;
  Fail(std::string(what) + " needs " + std::to_string(n) + " bytes, " + std::to_string(remaining()) + " left");
  return false;
}

void WireReader::Fail(std::string_view message) {
  if (!ok()) return;
  status_ = Corruption("malformed CQL frame body at offset " + std::to_string(offset_) + ": " + std::string(message));
}

bool WireReader::CheckCount(int64_t count, size_t min_bytes_each, std::string_view what) {
  if (!ok()) return false;
  if (count < 0) {
    Fail(std::string(what) + " count " + std::to_string(count) + " is negative");
    return false;
  }
  if (min_bytes_each > 0 && static_cast<uint64_t>(count) > remaining() / min_bytes_each) {
    Fail(std::string(what) + " count " + std::to_string(count) + " exceeds the " + std::to_string(remaining()) +
         " bytes left");
    return false;
  }
  return true;
}

uint8_t WireReader::Byte() {
  if (!Need(1, "[byte]")) return 0;
  return static_cast<uint8_t>(input_[offset_++]);
}

uint16_t WireReader::Short() {
  if (!Need(2, "[short]")) return 0;
  uint16_t value = static_cast<uint16_t>((static_cast<uint8_t>(input_[offset_]) << 8) |
                                         static_cast<uint8_t>(input_[offset_ + 1]));
  offset_ += 2;
  return value;
}

int16_t WireReader::SignedShort() { return static_cast<int16_t>(Short()); }

int32_t WireReader::Int() {
  if (!Need(4, "[int]")) return 0;
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value = (value << 8) | static_cast<uint8_t>(input_[offset_ + i]);
  offset_ += 4;
  return static_cast<int32_t>(value);
}

int64_t WireReader::Long() {
  if (!Need(8, "[long]")) return 0;
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | static_cast<uint8_t>(input_[offset_ + i]);
  offset_ += 8;
  return static_cast<int64_t>(value);
}

std::string_view WireReader::Raw(size_t n) {
  if (!Need(n, "raw bytes")) return {};
  std::string_view out = input_.substr(offset_, n);
  offset_ += n;
  return out;
}

std::string_view WireReader::String() {
  uint16_t n = Short();
  if (!Need(n, "[string]")) return {};
  return Raw(n);
}

std::string_view WireReader::LongString() {
  int32_t n = Int();
  if (!ok()) return {};
  if (n < 0) {
    Fail("[long string] length " + std::to_string(n) + " is negative");
    return {};
  }
  if (!Need(static_cast<size_t>(n), "[long string]")) return {};
  return Raw(static_cast<size_t>(n));
}

std::optional<std::string_view> WireReader::Bytes() {
  int32_t n = Int();
  if (!ok() || n < 0) return std::nullopt;
  if (!Need(static_cast<size_t>(n), "[bytes]")) return std::nullopt;
  return Raw(static_cast<size_t>(n));
}

std::string_view WireReader::ShortBytes() {
  uint16_t n = Short();
  if (!Need(n, "[short bytes]")) return {};
  return Raw(n);
}

Uuid WireReader::ReadUuid() {
  Uuid out{};
  if (!Need(16, "[uuid]")) return out;
  for (size_t i = 0; i < 16; ++i) out[i] = static_cast<uint8_t>(input_[offset_ + i]);
  offset_ += 16;
  return out;
}

Inet WireReader::ReadInet() {
  Inet out;
  uint8_t size = Byte();
  if (!ok()) return out;
  if (size != 4 && size != 16) {
    Fail("[inet] address size " + std::to_string(size) + " is neither 4 nor 16");
    return out;
  }
  out.address = std::string(Raw(size));
  out.port = Int();
  return out;
}

std::vector<std::string> WireReader::StringList() {
  std::vector<std::string> out;
  uint16_t n = Short();
  if (!CheckCount(n, 2, "[string list]")) return out;
  out.reserve(n);
  for (uint16_t i = 0; i < n && ok(); ++i) out.emplace_back(String());
  return out;
}

std::map<std::string, std::string> WireReader::StringMap() {
  std::map<std::string, std::string> out;
  uint16_t n = Short();
  if (!CheckCount(n, 4, "[string map]")) return out;
  for (uint16_t i = 0; i < n && ok(); ++i) {
    std::string key(String());
    std::string value(String());
    if (ok()) out[std::move(key)] = std::move(value);
  }
  return out;
}

std::map<std::string, std::vector<std::string>> WireReader::StringMultimap() {
  std::map<std::string, std::vector<std::string>> out;
  uint16_t n = Short();
  if (!CheckCount(n, 4, "[string multimap]")) return out;
  for (uint16_t i = 0; i < n && ok(); ++i) {
    std::string key(String());
    std::vector<std::string> values = StringList();
    if (ok()) out[std::move(key)] = std::move(values);
  }
  return out;
}

std::map<std::string, std::optional<std::string>> WireReader::BytesMap() {
  std::map<std::string, std::optional<std::string>> out;
  uint16_t n = Short();
  if (!CheckCount(n, 6, "[bytes map]")) return out;
  for (uint16_t i = 0; i < n && ok(); ++i) {
    std::string key(String());
    std::optional<std::string_view> value = Bytes();
    if (ok()) out[std::move(key)] = value ? std::optional<std::string>(std::string(*value)) : std::nullopt;
  }
  return out;
}

void WireWriter::Fail(std::string message) {
  if (ok()) status_ = InvalidArgument(std::move(message));
}

void WireWriter::Byte(uint8_t value) {
  if (ok()) data_.push_back(static_cast<char>(value));
}

void WireWriter::Short(uint16_t value) {
  if (!ok()) return;
  data_.push_back(static_cast<char>(value >> 8));
  data_.push_back(static_cast<char>(value & 0xFF));
}

void WireWriter::Int(int32_t value) {
  if (!ok()) return;
  uint32_t v = static_cast<uint32_t>(value);
  for (int shift = 24; shift >= 0; shift -= 8) data_.push_back(static_cast<char>((v >> shift) & 0xFF));
}

void WireWriter::Long(int64_t value) {
  if (!ok()) return;
  uint64_t v = static_cast<uint64_t>(value);
  for (int shift = 56; shift >= 0; shift -= 8) data_.push_back(static_cast<char>((v >> shift) & 0xFF));
}

void WireWriter::Raw(std::string_view bytes) {
  if (ok()) data_.append(bytes);
}

void WireWriter::String(std::string_view value) {
  if (value.size() > std::numeric_limits<uint16_t>::max()) {
    Fail("a [string] of " + std::to_string(value.size()) + " bytes exceeds the protocol's 65535");
    return;
  }
  Short(static_cast<uint16_t>(value.size()));
  Raw(value);
}

void WireWriter::LongString(std::string_view value) {
  if (value.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    Fail("a [long string] of " + std::to_string(value.size()) + " bytes exceeds the protocol's 2^31-1");
    return;
  }
  Int(static_cast<int32_t>(value.size()));
  Raw(value);
}

void WireWriter::Bytes(std::optional<std::string_view> value) {
  if (!value) {
    Int(-1);
    return;
  }
  if (value->size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    Fail("a [bytes] of " + std::to_string(value->size()) + " bytes exceeds the protocol's 2^31-1");
    return;
  }
  Int(static_cast<int32_t>(value->size()));
  Raw(*value);
}

void WireWriter::ShortBytes(std::string_view value) {
  if (value.size() > std::numeric_limits<uint16_t>::max()) {
    Fail("[short bytes] of " + std::to_string(value.size()) + " bytes exceed the protocol's 65535");
    return;
  }
  Short(static_cast<uint16_t>(value.size()));
  Raw(value);
}

void WireWriter::WriteUuid(const Uuid& value) {
  Raw(std::string_view(reinterpret_cast<const char*>(value.data()), value.size()));
}

void WireWriter::StringList(const std::vector<std::string>& values) {
  if (values.size() > std::numeric_limits<uint16_t>::max()) {
    Fail("a [string list] of " + std::to_string(values.size()) + " entries exceeds the protocol's 65535");
    return;
  }
  Short(static_cast<uint16_t>(values.size()));
  for (const std::string& value : values) String(value);
}

void WireWriter::StringMap(const std::map<std::string, std::string>& values) {
  if (values.size() > std::numeric_limits<uint16_t>::max()) {
    Fail("a [string map] of " + std::to_string(values.size()) + " entries exceeds the protocol's 65535");
    return;
  }
  Short(static_cast<uint16_t>(values.size()));
  for (const auto& [key, value] : values) {
    String(key);
    String(value);
  }
}

Result<std::string> WireWriter::Finish() {
  if (!ok()) return status_;
  return std::move(data_);
}

}  // namespace wal::cql
