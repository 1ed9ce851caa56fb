// A small libpq client shared by the PostgreSQL namespace store, the
// PostgreSQL mutation-set storage and the PostgreSQL target: a pool of blocking connections, parameterised
// statements (text or binary parameters), transactions, and error
// classification (retryable: connection loss, serialization failures,
// deadlocks, resource exhaustion, shutdown; permanent: everything else).
//
// Threading: PgPool is thread-safe; a PgSession belongs to one thread for the
// length of a call. Nothing here throws.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct pg_conn;

namespace wal::pg {

struct PgError {
  bool retryable = true;
  std::string sqlstate;  // five characters; empty for connection-level failures
  std::string message;   // safe to log: never contains the DSN's password
};

// One statement parameter: text (bytes as given) or binary (bytea). nullopt is NULL.
struct PgParam {
  std::optional<std::string_view> value;
  bool binary = false;
  static PgParam Text(std::string_view text) { return {text, false}; }
  static PgParam Bytes(std::string_view bytes) { return {bytes, true}; }
  static PgParam Null() { return {std::nullopt, false}; }
};

struct PgRows {
  // Cells as returned: with binary results every column arrives raw (cast
  // non-bytea columns to text in the query).
  std::vector<std::vector<std::optional<std::string>>> rows;
  uint64_t affected = 0;  // rows changed by INSERT/UPDATE/DELETE
};

// Either rows or an error.
struct PgResult {
  std::optional<PgError> error;
  PgRows rows;
  bool ok() const { return !error.has_value(); }
};

// A connection borrowed from the pool for one call.
class PgSession {
 public:
  PgResult Exec(const std::string& sql, const std::vector<PgParam>& params = {}, bool binary_results = false);

 private:
  friend class PgPool;
  explicit PgSession(pg_conn* connection) : connection_(connection) {}
  pg_conn* connection_;
  bool broken_ = false;
};

class PgPool {
 public:
  // `dsn` is a libpq connection string or URI. `timeout` bounds connecting
  // (connect_timeout) and each statement (statement_timeout).
  PgPool(std::string dsn, std::chrono::milliseconds timeout, size_t max_idle = 8);
  ~PgPool();
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  // One statement on a pooled connection (autocommit).
  PgResult Exec(const std::string& sql, const std::vector<PgParam>& params = {}, bool binary_results = false);

  // Runs `body` inside BEGIN .. COMMIT on one connection; a body error (or a
  // failed COMMIT) rolls back and is returned.
  std::optional<PgError> Transaction(const std::function<std::optional<PgError>(PgSession&)>& body);

  // Connects (or reuses) and runs SELECT 1.
  std::optional<PgError> Ping();

  // The DSN with any password=... / :password@ removed, for messages.
  static std::string RedactDsn(std::string_view dsn);
  // Classifies a SQLSTATE.
  static bool IsRetryableSqlState(std::string_view sqlstate);

 private:
  std::optional<PgError> Borrow(pg_conn** out);
  void Return(pg_conn* connection, bool broken);

  const std::string dsn_;
  const std::chrono::milliseconds timeout_;
  const size_t max_idle_;
  std::mutex mutex_;
  std::vector<pg_conn*> idle_;
};

}  // namespace wal::pg
