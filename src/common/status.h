// Status and Result<T>: how every module reports failure across its boundary.
//
// Modules never throw across their public interface. A function that can fail
// returns Status (no value) or Result<T> (a value or a Status). Both are cheap
// to move and safe to pass between threads once constructed.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace wal {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,    // the caller's input is wrong; retrying the same input fails again
  kNotFound,           // a named thing (namespace, file, entry) does not exist
  kAlreadyExists,
  kFailedPrecondition, // the system is not in a state to do this (e.g. a poisoned log)
  kCorruption,         // stored data failed a checksum or framing check
  kIOError,            // the operating system reported an I/O failure
  kNoSpace,            // ENOSPC/EDQUOT: nothing was written
  kUnavailable,        // a dependency is down; retrying later may succeed
  kDeadlineExceeded,
  kPermissionDenied,
  kUnauthenticated,
  kResourceExhausted,  // a limit (size, rate, backlog) refused the request
  kInternal,
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "CODE: message", for logs and error bodies.
  std::string ToString() const;

  // Returns a copy whose message is "context: original message".
  Status WithContext(std::string_view context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string message) { return {StatusCode::kInvalidArgument, std::move(message)}; }
inline Status NotFound(std::string message) { return {StatusCode::kNotFound, std::move(message)}; }
inline Status AlreadyExists(std::string message) { return {StatusCode::kAlreadyExists, std::move(message)}; }
inline Status FailedPrecondition(std::string message) { return {StatusCode::kFailedPrecondition, std::move(message)}; }
inline Status Corruption(std::string message) { return {StatusCode::kCorruption, std::move(message)}; }
inline Status IOError(std::string message) { return {StatusCode::kIOError, std::move(message)}; }
inline Status NoSpace(std::string message) { return {StatusCode::kNoSpace, std::move(message)}; }
inline Status Unavailable(std::string message) { return {StatusCode::kUnavailable, std::move(message)}; }
inline Status DeadlineExceeded(std::string message) { return {StatusCode::kDeadlineExceeded, std::move(message)}; }
inline Status ResourceExhausted(std::string message) { return {StatusCode::kResourceExhausted, std::move(message)}; }
inline Status Internal(std::string message) { return {StatusCode::kInternal, std::move(message)}; }

// Maps an errno value from a failed system call on `what` to a Status:
// ENOSPC/EDQUOT -> kNoSpace, ENOENT -> kNotFound, EACCES/EPERM -> kPermissionDenied,
// anything else -> kIOError.
Status ErrnoStatus(std::string_view what, int error_number);

// Either a value of type T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : state_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(state_).ok() && "Result needs a value or an error");
  }

  bool ok() const { return std::holds_alternative<T>(state_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(state_);
  }
  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }

 private:
  std::variant<T, Status> state_;
};

}  // namespace wal

#define WAL_RETURN_IF_ERROR(expr)               \
  do {                                          \
    ::wal::Status wal_status_ = (expr);         \
    if (!wal_status_.ok()) return wal_status_;  \
  } while (0)

#define WAL_CONCAT_INNER(a, b) a##b
#define WAL_CONCAT(a, b) WAL_CONCAT_INNER(a, b)
#define WAL_ASSIGN_OR_RETURN(lhs, expr) WAL_ASSIGN_OR_RETURN_IMPL(WAL_CONCAT(wal_result_, __LINE__), lhs, expr)
#define WAL_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()
