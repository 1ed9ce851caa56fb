// UTF-8 checks for text that comes from outside (request paths, broker and
// SQS responses) and must become a protobuf string field or JSON text, both of
// which require well-formed UTF-8.
//
// Threading: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace wal {

// True when `text` is well-formed UTF-8: no overlong forms, surrogates, values
// past U+10FFFF or truncated sequences.
bool IsValidUtf8(std::string_view text);

// The first Unicode noncharacter (U+FDD0..U+FDEF, or U+xFFFE/U+xFFFF in any
// plane) in well-formed `text`, or 0 when there is none. Noncharacters are for
// a program's internal use, and YAML emitters (yaml-cpp's among them) replace
// them, so config text that holds one would not survive a save and reload.
uint32_t FirstNoncharacter(std::string_view text);

// `text` with every byte that is not part of a well-formed sequence replaced by
// U+FFFD; well-formed text comes back unchanged.
std::string SanitizeUtf8(std::string_view text);

}  // namespace wal
