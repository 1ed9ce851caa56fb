#include "cql/value.h"

namespace wal::cql {

Value Value::BigInt(int64_t value) {
  WireWriter writer;
  writer.Long(value);
  return Serialized(writer.Take());
}

Value Value::Int(int32_t value) {
  WireWriter writer;
  writer.Int(value);
  return Serialized(writer.Take());
}

Value Value::Boolean(bool value) { return Serialized(std::string(1, value ? '\x01' : '\x00')); }

Value Value::FromUuid(const Uuid& uuid) {
  return Serialized(std::string(reinterpret_cast<const char*>(uuid.data()), uuid.size()));
}

void WriteValue(WireWriter& writer, const Value& value) {
  switch (value.kind()) {
    case Value::Kind::kNull: writer.Int(-1); return;
    case Value::Kind::kUnset: writer.Int(-2); return;
    case Value::Kind::kBytes: writer.Bytes(value.bytes()); return;
  }
}

namespace {

Status WrongSize(std::string_view type, size_t expected, size_t got) {
  return InvalidArgument("a CQL " + std::string(type) + " value has " + std::to_string(expected) + " bytes, got " +
                         std::to_string(got));
}

}  // namespace

Result<int64_t> DecodeBigInt(std::string_view bytes) {
  if (bytes.size() != 8) return WrongSize("bigint", 8, bytes.size());
  return WireReader(bytes).Long();
}

Result<int32_t> DecodeInt(std::string_view bytes) {
  if (bytes.size() != 4) return WrongSize("int", 4, bytes.size());
  return WireReader(bytes).Int();
}

Result<bool> DecodeBoolean(std::string_view bytes) {
  if (bytes.size() != 1) return WrongSize("boolean", 1, bytes.size());
  return bytes[0] != 0;
}

Result<Uuid> DecodeUuid(std::string_view bytes) {
  if (bytes.size() != 16) return WrongSize("uuid", 16, bytes.size());
  return WireReader(bytes).ReadUuid();
}

std::string UuidToString(const Uuid& uuid) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (size_t i = 0; i < uuid.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[uuid[i] >> 4]);
    out.push_back(kHex[uuid[i] & 0x0F]);
  }
  return out;
}

Result<Uuid> ParseUuid(std::string_view text) {
  auto bad = [&] { return InvalidArgument("'" + std::string(text) + "' is not a UUID (8-4-4-4-12 hex digits)"); };
  if (text.size() != 36) return bad();
  Uuid out{};
  size_t byte = 0;
  for (size_t i = 0; i < text.size();) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return bad();
      ++i;
      continue;
    }
    int value = 0;
    for (int k = 0; k < 2; ++k, ++i) {
      char c = text[i];
      int digit = (c >= '0' && c <= '9') ? c - '0'
                  : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                  : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                           : -1;
      if (digit < 0) return bad();
      value = value * 16 + digit;
    }
    out[byte++] = static_cast<uint8_t>(value);
  }
  return out;
}

}  // namespace wal::cql
