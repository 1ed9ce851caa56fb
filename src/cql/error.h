// ERROR responses (spec 4.2.1 and section 9), decoded into a typed ServerError,
// and how each error maps onto a wal Status.
//
// Body: [int] code, [string] message, then per code:
//   0x1000 Unavailable      [consistency] cl, [int] required, [int] alive
//   0x1100 Write_timeout    [consistency] cl, [int] received, [int] blockfor, [string] write type
//   0x1200 Read_timeout     [consistency] cl, [int] received, [int] blockfor, [byte] data present
//   0x1300 Read_failure     [consistency] cl, [int] received, [int] blockfor, [int] failures, [byte] data present
//   0x1400 Function_failure [string] keyspace, [string] function, [string list] argument types
//   0x1500 Write_failure    [consistency] cl, [int] received, [int] blockfor, [int] failures, [string] write type
//   0x2400 Already_exists   [string] keyspace, [string] table ("" for a keyspace)
//   0x2500 Unprepared       [short bytes] the unknown prepared id
//   others                  nothing more
//
// Classification (ToStatus/IsRetryable): the request may succeed if sent again
// later for Unavailable, Overloaded, Is_bootstrapping, Write/Read_timeout,
// Read/Write_failure, Truncate_error, Server_error and Unprepared (the client
// re-prepares); connection errors are retryable too (kUnavailable from the
// connection). The rest is permanent: Syntax_error, Invalid (an unknown keyspace
// or table is an Invalid whose message says so: kNotFound), Unauthorized,
// Bad credentials, Config_error, Already_exists, Function_failure, Protocol_error.
//
// Threading: plain data and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "cql/protocol.h"

namespace wal::cql {

enum class ErrorCode : int32_t {
  kServerError = 0x0000,
  kProtocolError = 0x000A,
  kBadCredentials = 0x0100,
  kUnavailable = 0x1000,
  kOverloaded = 0x1001,
  kIsBootstrapping = 0x1002,
  kTruncateError = 0x1003,
  kWriteTimeout = 0x1100,
  kReadTimeout = 0x1200,
  kReadFailure = 0x1300,
  kFunctionFailure = 0x1400,
  kWriteFailure = 0x1500,
  kSyntaxError = 0x2000,
  kUnauthorized = 0x2100,
  kInvalid = 0x2200,
  kConfigError = 0x2300,
  kAlreadyExists = 0x2400,
  kUnprepared = 0x2500,
};

// "Unavailable", "Write_timeout", ... (the spec's names) or "Error 0x????".
std::string ErrorCodeName(ErrorCode code);

struct ServerError {
  ErrorCode code = ErrorCode::kServerError;
  std::string message;  // the server's own text
  // Unavailable, timeouts and failures:
  Consistency consistency = Consistency::kAny;
  int32_t required = 0;  // Unavailable
  int32_t alive = 0;     // Unavailable
  int32_t received = 0;
  int32_t block_for = 0;
  int32_t failures = 0;
  bool data_present = false;
  std::string write_type;  // "SIMPLE", "BATCH", "UNLOGGED_BATCH", "COUNTER", "BATCH_LOG", ...
  // Function_failure:
  std::string function_keyspace;
  std::string function_name;
  std::vector<std::string> argument_types;
  // Already_exists:
  std::string keyspace;
  std::string table;
  // Unprepared:
  std::string unprepared_id;
};

// Decodes an ERROR body. Fails (kCorruption) on a truncated body; an unknown
// code decodes with its code and message only.
Result<ServerError> DecodeError(std::string_view body);

bool IsRetryable(const ServerError& error);

// The error as a Status: "<Name> (0x....): <server message>[; details]" with a
// code IsRetryable(Status) agrees with: kUnavailable, kDeadlineExceeded,
// kResourceExhausted (retryable); kInvalidArgument, kNotFound, kAlreadyExists,
// kPermissionDenied, kUnauthenticated, kFailedPrecondition (permanent).
Status ToStatus(const ServerError& error);

// Whether a Status from this client (or any wal module) is worth retrying:
// kUnavailable, kDeadlineExceeded, kResourceExhausted and kIOError.
bool IsRetryable(const Status& status);

}  // namespace wal::cql
