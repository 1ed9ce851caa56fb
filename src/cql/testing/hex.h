// Test-only: bytes written as hex ("00 04 0a", spaces ignored) and [string]s, so that expected
// frames are spelled out byte by byte from the protocol spec's layouts rather
// than produced by the code under test.
#pragma once

#include <cctype>
#include <stdexcept>
#include <string>
#include <string_view>

namespace wal::cql::testing {

inline std::string Hex(std::string_view text) {
  std::string out;
  int high = -1;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    int digit = std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : std::tolower(c) - 'a' + 10;
    if (digit < 0 || digit > 15) throw std::invalid_argument("not hex: " + std::string(text));
    if (high < 0) {
      high = digit;
    } else {
      out.push_back(static_cast<char>(high * 16 + digit));
      high = -1;
    }
  }
  if (high >= 0) throw std::invalid_argument("odd number of hex digits: " + std::string(text));
  return out;
}

// A [string]: the [short] length, then the bytes.
inline std::string Str(std::string_view s) {
  return std::string{static_cast<char>(s.size() >> 8), static_cast<char>(s.size() & 0xff)} + std::string(s);
}

}  // namespace wal::cql::testing
