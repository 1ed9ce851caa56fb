// Standard base64 (RFC 4648, with padding), as SQS message bodies, the HTTP
// target's JSON and protobuf's JSON mapping of bytes use it.
//
// Threading: pure functions. Failure: Base64Decode returns INVALID_ARGUMENT for
// text that is not canonical padded base64; it never throws.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace wal {

std::string Base64Encode(std::string_view bytes);
Result<std::string> Base64Decode(std::string_view text);

}  // namespace wal
