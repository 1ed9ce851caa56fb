#include "cql/error.h"

#include <cstdio>

#include "cql/wire.h"

namespace wal::cql {

std::string ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kServerError: return "Server_error";
    case ErrorCode::kProtocolError: return "Protocol_error";
    case ErrorCode::kBadCredentials: return "Bad_credentials";
    case ErrorCode::kUnavailable: return "Unavailable";
    case ErrorCode::kOverloaded: return "Overloaded";
    case ErrorCode::kIsBootstrapping: return "Is_bootstrapping";
    case ErrorCode::kTruncateError: return "Truncate_error";
    case ErrorCode::kWriteTimeout: return "Write_timeout";
    case ErrorCode::kReadTimeout: return "Read_timeout";
    case ErrorCode::kReadFailure: return "Read_failure";
    case ErrorCode::kFunctionFailure: return "Function_failure";
    case ErrorCode::kWriteFailure: return "Write_failure";
    case ErrorCode::kSyntaxError: return "Syntax_error";
    case ErrorCode::kUnauthorized: return "Unauthorized";
    case ErrorCode::kInvalid: return "Invalid";
    case ErrorCode::kConfigError: return "Config_error";
    case ErrorCode::kAlreadyExists: return "Already_exists";
    case ErrorCode::kUnprepared: return "Unprepared";
  }
  char buffer[24];
  std::snprintf(buffer, sizeof(buffer), "Error 0x%04x", static_cast<unsigned>(code));
  return buffer;
}

Result<ServerError> DecodeError(std::string_view body) {
  WireReader reader(body);
  ServerError error;
  error.code = static_cast<ErrorCode>(reader.Int());
  error.message = std::string(reader.String());
  switch (error.code) {
    case ErrorCode::kUnavailable:
      error.consistency = static_cast<Consistency>(reader.Short());
      error.required = reader.Int();
      error.alive = reader.Int();
      break;
    case ErrorCode::kWriteTimeout:
      error.consistency = static_cast<Consistency>(reader.Short());
      error.received = reader.Int();
      error.block_for = reader.Int();
      error.write_type = std::string(reader.String());
      break;
    case ErrorCode::kReadTimeout:
      error.consistency = static_cast<Consistency>(reader.Short());
      error.received = reader.Int();
      error.block_for = reader.Int();
      error.data_present = reader.Byte() != 0;
      break;
    case ErrorCode::kReadFailure:
      error.consistency = static_cast<Consistency>(reader.Short());
      error.received = reader.Int();
      error.block_for = reader.Int();
      error.failures = reader.Int();
      error.data_present = reader.Byte() != 0;
      break;
    case ErrorCode::kFunctionFailure:
      error.function_keyspace = std::string(reader.String());
      error.function_name = std::string(reader.String());
      error.argument_types = reader.StringList();
      break;
    case ErrorCode::kWriteFailure:
      error.consistency = static_cast<Consistency>(reader.Short());
      error.received = reader.Int();
      error.block_for = reader.Int();
      error.failures = reader.Int();
      error.write_type = std::string(reader.String());
      break;
    case ErrorCode::kAlreadyExists:
      error.keyspace = std::string(reader.String());
      error.table = std::string(reader.String());
      break;
    case ErrorCode::kUnprepared:
      error.unprepared_id = std::string(reader.ShortBytes());
      break;
    default:
      break;
  }
  if (!reader.ok()) return reader.status().WithContext("ERROR " + ErrorCodeName(error.code));
  return error;
}

bool IsRetryable(const ServerError& error) {
  switch (error.code) {
    case ErrorCode::kServerError:
    case ErrorCode::kUnavailable:
    case ErrorCode::kOverloaded:
    case ErrorCode::kIsBootstrapping:
    case ErrorCode::kTruncateError:
    case ErrorCode::kWriteTimeout:
    case ErrorCode::kReadTimeout:
    case ErrorCode::kReadFailure:
    case ErrorCode::kWriteFailure:
    case ErrorCode::kUnprepared:
      return true;
    default:
      return false;
  }
}

namespace {

// Cassandra reports an unknown keyspace, table or type as Invalid with these
// words ("Keyspace 'k' does not exist", "unconfigured table t", and for user
// types "Type 'k.t' doesn't exist").
bool NamesAMissingSchemaObject(std::string_view message) {
  for (std::string_view words : {"does not exist", "doesn't exist", "unconfigured table"}) {
    if (message.find(words) != std::string_view::npos) return true;
  }
  return false;
}

std::string Details(const ServerError& e) {
  const std::string cl(ConsistencyName(e.consistency));
  switch (e.code) {
    case ErrorCode::kUnavailable:
      return "; consistency " + cl + " needs " + std::to_string(e.required) + " replicas, " +
             std::to_string(e.alive) + " alive";
    case ErrorCode::kWriteTimeout:
      return "; consistency " + cl + ", " + std::to_string(e.received) + " of " + std::to_string(e.block_for) +
             " acknowledged, write type " + e.write_type;
    case ErrorCode::kReadTimeout:
      return "; consistency " + cl + ", " + std::to_string(e.received) + " of " + std::to_string(e.block_for) +
             " responded" + (e.data_present ? "" : ", no data");
    case ErrorCode::kReadFailure:
    case ErrorCode::kWriteFailure:
      return "; consistency " + cl + ", " + std::to_string(e.received) + " of " + std::to_string(e.block_for) +
             " responded, " + std::to_string(e.failures) + " failed" +
             (e.write_type.empty() ? "" : ", write type " + e.write_type);
    default:
      return "";
  }
}

}  // namespace

Status ToStatus(const ServerError& error) {
  char code[16];
  std::snprintf(code, sizeof(code), "0x%04x", static_cast<unsigned>(error.code));
  std::string text = ErrorCodeName(error.code) + " (" + code + "): " + error.message + Details(error);
  switch (error.code) {
    case ErrorCode::kWriteTimeout:
    case ErrorCode::kReadTimeout:
      return {StatusCode::kDeadlineExceeded, std::move(text)};
    case ErrorCode::kOverloaded:
      return {StatusCode::kResourceExhausted, std::move(text)};
    case ErrorCode::kServerError:
    case ErrorCode::kUnavailable:
    case ErrorCode::kIsBootstrapping:
    case ErrorCode::kTruncateError:
    case ErrorCode::kReadFailure:
    case ErrorCode::kWriteFailure:
    case ErrorCode::kUnprepared:
      return {StatusCode::kUnavailable, std::move(text)};
    case ErrorCode::kBadCredentials:
      return {StatusCode::kUnauthenticated, std::move(text)};
    case ErrorCode::kUnauthorized:
      return {StatusCode::kPermissionDenied, std::move(text)};
    case ErrorCode::kAlreadyExists:
      return {StatusCode::kAlreadyExists, std::move(text)};
    case ErrorCode::kInvalid:
      return {NamesAMissingSchemaObject(error.message) ? StatusCode::kNotFound : StatusCode::kInvalidArgument,
              std::move(text)};
    case ErrorCode::kProtocolError:
      return {StatusCode::kFailedPrecondition, std::move(text)};
    default:
      return {StatusCode::kInvalidArgument, std::move(text)};
  }
}

bool IsRetryable(const Status& status) {
  switch (status.code()) {
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
    case StatusCode::kResourceExhausted:
    case StatusCode::kIOError:
      return true;
    default:
      return false;
  }
}

}  // namespace wal::cql
