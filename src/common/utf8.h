// UTF-8 checks for text that comes from outside (request paths, broker and
// SQS responses) and must become a protobuf string field or JSON text, both of
// which require well-formed UTF-8.
//
// Threading: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace wal {

// True when `text` is well-formed UTF-8: no overlong forms, surrogates, values
// past U+10FFFF or truncated sequences.
bool IsValidUtf8(std::string_view text);

// `text` with every byte that is not part of a well-formed sequence replaced by
// U+FFFD; well-formed text comes back unchanged.
std::string SanitizeUtf8(std::string_view text);

}  // namespace wal
