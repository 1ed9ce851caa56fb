#include "common/utf8.h"

#include <cstdint>

namespace wal {
namespace {

// The length of the well-formed sequence at the start of `text`, or 0; its
// code point goes to *decoded when that is given.
size_t SequenceLength(std::string_view text, uint32_t* decoded = nullptr) {
  const auto byte = static_cast<unsigned char>(text[0]);
  if (byte < 0x80) {
    if (decoded != nullptr) *decoded = byte;
    return 1;
  }
  size_t length = 0;
  uint32_t code_point = 0;
  if ((byte & 0xE0) == 0xC0) {
    length = 2;
    code_point = byte & 0x1F;
  } else if ((byte & 0xF0) == 0xE0) {
    length = 3;
    code_point = byte & 0x0F;
  } else if ((byte & 0xF8) == 0xF0) {
    length = 4;
    code_point = byte & 0x07;
  } else {
    return 0;
  }
  if (text.size() < length) return 0;
  for (size_t k = 1; k < length; ++k) {
    const auto continuation = static_cast<unsigned char>(text[k]);
    if ((continuation & 0xC0) != 0x80) return 0;
    code_point = (code_point << 6) | (continuation & 0x3F);
  }
  static constexpr uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (code_point < kSmallest[length] || code_point > 0x10FFFF || (code_point >= 0xD800 && code_point <= 0xDFFF)) {
    return 0;
  }
  if (decoded != nullptr) *decoded = code_point;
  return length;
}

}  // namespace

bool IsValidUtf8(std::string_view text) {
  while (!text.empty()) {
    const size_t length = SequenceLength(text);
    if (length == 0) return false;
    text.remove_prefix(length);
  }
  return true;
}

uint32_t FirstNoncharacter(std::string_view text) {
  while (!text.empty()) {
    uint32_t code_point = 0;
    const size_t length = SequenceLength(text, &code_point);
    if (length == 0) {
      text.remove_prefix(1);
      continue;
    }
    if ((code_point >= 0xFDD0 && code_point <= 0xFDEF) || (code_point & 0xFFFE) == 0xFFFE) return code_point;
    text.remove_prefix(length);
  }
  return 0;
}

std::string SanitizeUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    const size_t length = SequenceLength(text);
    if (length == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      text.remove_prefix(1);
    } else {
      out.append(text.substr(0, length));
      text.remove_prefix(length);
    }
  }
  return out;
}

}  // namespace wal
