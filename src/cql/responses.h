// The parts of a response body before its message (by header flag, in this
// order: a [uuid] tracing id, a [string list] of warnings, a [bytes map] custom
// payload) and the bodies of the small responses:
//
//   READY           empty
//   AUTHENTICATE    [string] authenticator class
//   SUPPORTED       [string multimap] STARTUP options and their values
//   AUTH_CHALLENGE  [bytes] token
//   AUTH_SUCCESS    [bytes] token
//   EVENT           [string] type, then a type-specific body (not decoded here)
//
// RESULT is in result.h and ERROR in error.h.
// Failure: kCorruption on a truncated body. Threading: pure functions.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "cql/frame.h"
#include "cql/wire.h"

namespace wal::cql {

struct ResponseEnvelope {
  std::optional<Uuid> tracing_id;
  std::vector<std::string> warnings;
  std::map<std::string, std::optional<std::string>> custom_payload;
  std::string_view message;  // the rest: the opcode's own body (borrows the input)
};

Result<ResponseEnvelope> SplitResponseBody(const FrameHeader& header, std::string_view body);

Result<std::string> DecodeAuthenticate(std::string_view message);
Result<std::map<std::string, std::vector<std::string>>> DecodeSupported(std::string_view message);
// AUTH_CHALLENGE and AUTH_SUCCESS: the token, nullopt for a null token.
Result<std::optional<std::string>> DecodeAuthToken(std::string_view message);
// The event type of an EVENT ("SCHEMA_CHANGE", ...).
Result<std::string> DecodeEventType(std::string_view message);

}  // namespace wal::cql
