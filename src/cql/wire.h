// The notations of the CQL native protocol (spec section 3): readers and writers of
// [byte] [short] [int] [long] [string] [long string] [bytes] [short bytes]
// [string list] [string map] [string multimap] [bytes map] [inet] [uuid], all
// big-endian.
//
// Failure: both classes keep the first error and become inert after it (a
// "sticky" error): reads then return zero/empty values and writes append nothing.
// A decoder reads a whole structure and checks ok() once; a count taken from the
// input is checked against the bytes left (CheckCount) before any loop, so a
// hostile count cannot make a decoder loop or allocate beyond its input.
//
// Threading: none; one instance per thread. A reader borrows its input, which
// must outlive it.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace wal::cql {

using Uuid = std::array<uint8_t, 16>;

// [inet]: a node address as raw bytes (4 for IPv4, 16 for IPv6) and a port.
struct Inet {
  std::string address;
  int32_t port = 0;
  bool operator==(const Inet&) const = default;
};

class WireReader {
 public:
  explicit WireReader(std::string_view input) : input_(input) {}
  // A reader borrows its input: a temporary string would dangle.
  explicit WireReader(std::string&&) = delete;

  uint8_t Byte();
  uint16_t Short();
  int16_t SignedShort();
  int32_t Int();
  int64_t Long();
  std::string_view String();
  std::string_view LongString();
  std::optional<std::string_view> Bytes();  // nullopt for a negative length (null)
  std::string_view ShortBytes();
  Uuid ReadUuid();
  Inet ReadInet();
  std::vector<std::string> StringList();
  std::map<std::string, std::string> StringMap();
  std::map<std::string, std::vector<std::string>> StringMultimap();
  std::map<std::string, std::optional<std::string>> BytesMap();
  // The next n bytes as they are.
  std::string_view Raw(size_t n);

  // Fails unless 0 <= count and count * min_bytes_each <= remaining(): what a
  // decoder calls before it loops `count` times over elements of at least
  // min_bytes_each bytes. Returns ok().
  bool CheckCount(int64_t count, size_t min_bytes_each, std::string_view what);

  size_t offset() const { return offset_; }
  size_t remaining() const { return input_.size() - offset_; }
  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  // Records `message` (with the current offset) as the error, unless one is set.
  void Fail(std::string_view message);

 private:
  bool Need(size_t n, std::string_view what);

  std::string_view input_;
  size_t offset_ = 0;
  Status status_;
};

class WireWriter {
 public:
  void Byte(uint8_t value);
  void Short(uint16_t value);
  void Int(int32_t value);
  void Long(int64_t value);
  void String(std::string_view value);      // fails past 65535 bytes
  void LongString(std::string_view value);  // fails past 2^31-1 bytes
  void Bytes(std::optional<std::string_view> value);  // nullopt writes length -1
  void ShortBytes(std::string_view value);
  void WriteUuid(const Uuid& value);
  void StringList(const std::vector<std::string>& values);
  void StringMap(const std::map<std::string, std::string>& values);
  void Raw(std::string_view bytes);

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  void Fail(std::string message);
  const std::string& data() const { return data_; }
  std::string Take() { return std::move(data_); }
  // The result: the bytes, or the first error.
  Result<std::string> Finish();

 private:
  std::string data_;
  Status status_;
};

}  // namespace wal::cql
