// Values: what a request binds to its markers ([value], spec 4.1.4) and how the
// common column types are serialized (spec section 6).
//
// Supported types: varchar/text, ascii, blob, bigint, counter, int, boolean,
// timestamp (milliseconds since the Unix epoch), uuid and timeuuid. Other types
// can be bound as pre-serialized bytes (Value::Serialized) and read as raw bytes.
//
// Failure: the decoders return kInvalidArgument naming the type when the bytes
// have the wrong size; they never read past their input.
// Threading: values are plain data.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "cql/wire.h"

namespace wal::cql {

class Value {
 public:
  enum class Kind { kBytes, kNull, kUnset };

  static Value Null() { return Value(Kind::kNull, {}); }
  // "not set" (length -2): the column keeps its stored value.
  static Value Unset() { return Value(Kind::kUnset, {}); }
  // Bytes already in the column type's serialization.
  static Value Serialized(std::string bytes) { return Value(Kind::kBytes, std::move(bytes)); }
  static Value Text(std::string_view utf8) { return Serialized(std::string(utf8)); }
  static Value Blob(std::string_view bytes) { return Serialized(std::string(bytes)); }
  static Value BigInt(int64_t value);
  static Value Int(int32_t value);
  static Value Boolean(bool value);
  static Value Timestamp(int64_t millis_since_epoch) { return BigInt(millis_since_epoch); }
  static Value FromUuid(const Uuid& uuid);

  Kind kind() const { return kind_; }
  const std::string& bytes() const { return bytes_; }
  bool operator==(const Value&) const = default;

 private:
  Value(Kind kind, std::string bytes) : kind_(kind), bytes_(std::move(bytes)) {}

  Kind kind_;
  std::string bytes_;
};

// Appends `value` as a [value].
void WriteValue(WireWriter& writer, const Value& value);

Result<int64_t> DecodeBigInt(std::string_view bytes);  // bigint, counter, timestamp
Result<int32_t> DecodeInt(std::string_view bytes);
Result<bool> DecodeBoolean(std::string_view bytes);
Result<Uuid> DecodeUuid(std::string_view bytes);  // uuid, timeuuid

// "550e8400-e29b-41d4-a716-446655440000" (lower case).
std::string UuidToString(const Uuid& uuid);
// The 36-character form, either case.
Result<Uuid> ParseUuid(std::string_view text);

}  // namespace wal::cql
