#include "target/sqlite/sqlite_target.h"

#include <sqlite3.h>

#include <cctype>
#include <filesystem>
#include <system_error>

#include "common/sql_identifier.h"
#include "common/time.h"
#include "target/mutation_util.h"
#include "target/target_settings.h"

namespace wal::target {
namespace {

constexpr std::string_view kOpaqueTable = SqliteTargetConfig::kOpaqueTable;
// How often each table is swept for expired rows; reads already hide them, so
// this only bounds how long dead rows take up space.
constexpr int64_t kPurgeIntervalMillis = 60'000;

// Errors that come from the environment (disk, locks, the file itself) and may
// clear up; everything else (constraint, type mismatch, misuse, SQL errors such
// as a table with a foreign schema) fails the same way for the same input.
bool IsRetryableCode(int code) {
  switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_NOMEM:
    case SQLITE_PROTOCOL:
    case SQLITE_INTERRUPT:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return true;
    default:
      return false;
  }
}

std::string QuoteIdentifier(std::string_view name) {
  // Names are validated to [A-Za-z0-9_], so quoting only guards keywords.
  return "\"" + std::string(name) + "\"";
}

// Binds text that must not become SQL NULL: an empty string_view may carry a
// null pointer, which SQLite would bind as NULL.
void BindText(sqlite3_stmt* statement, int index, std::string_view text) {
  sqlite3_bind_text(statement, index, text.empty() ? "" : text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}

// Likewise for blobs: a zero-length blob with a null pointer binds as NULL.
void BindBlob(sqlite3_stmt* statement, int index, std::string_view bytes) {
  if (bytes.empty()) {
    sqlite3_bind_zeroblob(statement, index, 0);
  } else {
    sqlite3_bind_blob(statement, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_STATIC);
  }
}

std::string ColumnBytes(sqlite3_stmt* statement, int column) {
  const void* bytes = sqlite3_column_blob(statement, column);
  int size = sqlite3_column_bytes(statement, column);
  return bytes != nullptr ? std::string(static_cast<const char*>(bytes), static_cast<size_t>(size)) : std::string();
}

}  // namespace

bool SqliteTarget::IsValidTableName(std::string_view name) { return IsSqlIdentifier(name, 64); }

Result<std::unique_ptr<SqliteTarget>> SqliteTarget::Create(Options options) {
  if (!options.now_millis) options.now_millis = [] { return ToMillis(SystemClock().Now()); };
  return std::unique_ptr<SqliteTarget>(new SqliteTarget(std::move(options)));
}

Result<std::unique_ptr<SqliteTarget>> SqliteTarget::FromSettings(std::string_view settings_json) {
  return CreateFromSettingsJson<SqliteTarget, SqliteTargetConfig>(settings_json);
}

TargetModule SqliteTarget::Module() {
  return TargetModuleOf<SqliteTargetConfig>([](const SqliteTargetConfig& settings, const TargetEnvironment& environment) {
    Options options = OptionsWith<Options>(settings);
    if (!environment.data_dir.empty() && std::filesystem::path(options.path).is_relative()) {
      options.path = (std::filesystem::path(environment.data_dir) / options.path).lexically_normal().string();
    }
    return Create(std::move(options));
  });
}

SqliteTarget::SqliteTarget(Options options) : options_(std::move(options)) {}

SqliteTarget::~SqliteTarget() {
  std::lock_guard lock(mutex_);
  CloseLocked();
}

std::string SqliteTarget::FullTableName(std::string_view table) const {
  return options_.table_prefix + std::string(table.empty() ? std::string_view(options_.table) : table);
}

void SqliteTarget::CloseLocked() {
  for (auto& [sql, statement] : statements_) sqlite3_finalize(statement);
  statements_.clear();
  ensured_tables_.clear();
  if (db_ != nullptr) sqlite3_close_v2(db_);
  db_ = nullptr;
}

void SqliteTarget::ForgetConnectionIfBrokenLocked(int code) {
  switch (code & 0xff) {
    case SQLITE_IOERR:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_CANTOPEN:
      CloseLocked();
      break;
    default:
      break;
  }
}

SqliteTarget::SqlError SqliteTarget::LastErrorLocked(int code) const {
  return SqlError{code, db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(code)};
}

std::optional<SqliteTarget::SqlError> SqliteTarget::EnsureOpenLocked() {
  if (db_ != nullptr) return std::nullopt;
  std::filesystem::path parent = std::filesystem::path(options_.path).parent_path();
  if (!parent.empty()) {
    std::error_code error;
    std::filesystem::create_directories(parent, error);
    if (error) {
      return SqlError{SQLITE_CANTOPEN, "cannot create directory " + parent.string() + ": " + error.message()};
    }
  }
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;  // mutex_ serialises use
  int code = sqlite3_open_v2(options_.path.c_str(), &db_, flags, nullptr);
  if (code != SQLITE_OK) {
    SqlError error{code, "cannot open " + options_.path + ": " +
                             (db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(code))};
    sqlite3_close_v2(db_);
    db_ = nullptr;
    return error;
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, static_cast<int>(options_.busy_timeout.count()));
  // WAL lets readers (walctl, the README demo) run beside the writer;
  // synchronous=FULL because the engine completes an entry once the apply
  // returns, so a write lost to a power cut would be lost for good.
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL"}) {
    char* message = nullptr;
    code = sqlite3_exec(db_, pragma, nullptr, nullptr, &message);
    if (code != SQLITE_OK) {
      SqlError error{code, std::string(pragma) + ": " + (message != nullptr ? message : sqlite3_errstr(code))};
      sqlite3_free(message);
      CloseLocked();
      return error;
    }
  }
  return std::nullopt;
}

sqlite3_stmt* SqliteTarget::StatementLocked(const std::string& sql, SqlError* error) {
  if (auto found = statements_.find(sql); found != statements_.end()) {
    sqlite3_reset(found->second);
    sqlite3_clear_bindings(found->second);
    return found->second;
  }
  sqlite3_stmt* statement = nullptr;
  int code = sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &statement, nullptr);
  if (code != SQLITE_OK) {
    *error = LastErrorLocked(code);
    return nullptr;
  }
  statements_.emplace(sql, statement);
  return statement;
}

std::optional<SqliteTarget::SqlError> SqliteTarget::ExecLocked(const std::string& sql) {
  char* message = nullptr;
  int code = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
  if (code == SQLITE_OK) return std::nullopt;
  SqlError error{code, message != nullptr ? message : sqlite3_errstr(code)};
  sqlite3_free(message);
  return error;
}

std::optional<SqliteTarget::SqlError> SqliteTarget::EnsureTableLocked(const std::string& full_table_name) {
  if (auto error = EnsureOpenLocked()) return error;
  if (ensured_tables_.contains(full_table_name)) return std::nullopt;
  std::string table = QuoteIdentifier(full_table_name);
  std::string index = QuoteIdentifier(full_table_name + "_expires_at");
  // The partial index keeps the expiry sweep cheap without indexing rows that
  // never expire.
  std::string sql = "CREATE TABLE IF NOT EXISTS " + table +
                    " (partition_key TEXT NOT NULL, key BLOB NOT NULL, value BLOB, expires_at INTEGER NULL,"
                    " PRIMARY KEY (partition_key, key));"
                    "CREATE INDEX IF NOT EXISTS " + index + " ON " + table +
                    " (expires_at) WHERE expires_at IS NOT NULL;";
  if (auto error = ExecLocked(sql)) return error;
  ensured_tables_.insert(full_table_name);
  return std::nullopt;
}

std::optional<SqliteTarget::SqlError> SqliteTarget::EnsureOpaqueTableLocked() {
  if (auto error = EnsureOpenLocked()) return error;
  std::string full_name = options_.table_prefix + std::string(kOpaqueTable);
  if (ensured_tables_.contains(full_name)) return std::nullopt;
  std::string sql = "CREATE TABLE IF NOT EXISTS " + QuoteIdentifier(full_name) +
                    " (namespace TEXT NOT NULL, entry_id INTEGER NOT NULL, payload BLOB NOT NULL,"
                    " delivered_at INTEGER NOT NULL, PRIMARY KEY (namespace, entry_id))";
  if (auto error = ExecLocked(sql)) return error;
  ensured_tables_.insert(full_name);
  return std::nullopt;
}

Result<bool> SqliteTarget::TableExistsLocked(const std::string& full_table_name) {
  if (ensured_tables_.contains(full_table_name)) return true;
  SqlError error;
  sqlite3_stmt* statement =
      StatementLocked("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", &error);
  if (statement == nullptr) return IOError("sqlite: " + error.message);
  BindText(statement, 1, full_table_name);
  int code = sqlite3_step(statement);
  bool exists = code == SQLITE_ROW;
  if (code != SQLITE_ROW && code != SQLITE_DONE) return IOError("sqlite: " + LastErrorLocked(code).message);
  sqlite3_reset(statement);
  return exists;
}

void SqliteTarget::PurgeExpiredLocked(const std::string& full_table_name, int64_t now) {
  int64_t& last = last_purge_millis_[full_table_name];
  if (now - last < kPurgeIntervalMillis) return;
  last = now;
  SqlError error;
  sqlite3_stmt* statement = StatementLocked(
      "DELETE FROM " + QuoteIdentifier(full_table_name) + " WHERE expires_at IS NOT NULL AND expires_at <= ?1",
      &error);
  if (statement == nullptr) return;
  sqlite3_bind_int64(statement, 1, now);
  // Best effort: a failed sweep is retried at the next interval, and reads
  // hide expired rows regardless.
  sqlite3_step(statement);
  sqlite3_reset(statement);
}

ApplyResult SqliteTarget::Classify(const SqlError& error, std::string_view what) const {
  std::string reason = "sqlite " + std::string(what) + ": " + error.message + " (" + sqlite3_errstr(error.code) + ")";
  return IsRetryableCode(error.code) ? ApplyResult::Retryable(std::move(reason))
                                     : ApplyResult::Permanent(std::move(reason));
}

ApplyResult SqliteTarget::ApplyMutation(const v1::Mutation& mutation, const DeliveryContext& /*context*/) {
  if (Status valid = ValidateMutationBasics(mutation, "mutation"); !valid.ok()) {
    return ApplyResult::Permanent(valid.message());
  }
  if (!mutation.table().empty() && (!IsValidTableName(mutation.table()) || mutation.table() == kOpaqueTable)) {
    return ApplyResult::Permanent("mutation.table: invalid table name '" + Excerpt(mutation.table(), 80) + "'");
  }
  const std::string table = FullTableName(mutation.table());
  const bool is_put = mutation.op() == v1::Mutation::PUT;

  std::lock_guard lock(mutex_);
  if (auto error = EnsureTableLocked(table)) {
    ForgetConnectionIfBrokenLocked(error->code);
    return Classify(*error, "open " + table);
  }
  const int64_t now = options_.now_millis();
  SqlError error;
  sqlite3_stmt* statement = nullptr;
  if (is_put) {
    statement = StatementLocked("INSERT INTO " + QuoteIdentifier(table) +
                                    " (partition_key, key, value, expires_at) VALUES (?1, ?2, ?3, ?4)"
                                    " ON CONFLICT (partition_key, key) DO UPDATE SET"
                                    " value = excluded.value, expires_at = excluded.expires_at",
                                &error);
  } else {
    statement = StatementLocked(
        "DELETE FROM " + QuoteIdentifier(table) + " WHERE partition_key = ?1 AND key = ?2", &error);
  }
  if (statement == nullptr) return Classify(error, "prepare");

  const std::string& key = mutation.key();
  BindText(statement, 1, mutation.partition_key());
  BindBlob(statement, 2, key);
  if (is_put) {
    BindBlob(statement, 3, mutation.value());
    int64_t ttl = TtlMillis(mutation);
    if (ttl > 0) {
      sqlite3_bind_int64(statement, 4, now + ttl);
    } else {
      sqlite3_bind_null(statement, 4);
    }
  }
  int code = sqlite3_step(statement);
  if (code != SQLITE_DONE) {
    error = LastErrorLocked(code);
    sqlite3_reset(statement);
    ForgetConnectionIfBrokenLocked(code);
    return Classify(error, is_put ? "put" : "delete");
  }
  sqlite3_reset(statement);
  PurgeExpiredLocked(table, now);
  return ApplyResult::Ok();
}

ApplyResult SqliteTarget::DeliverOpaque(std::string_view payload, const DeliveryContext& context) {
  const std::string table = options_.table_prefix + std::string(kOpaqueTable);
  std::lock_guard lock(mutex_);
  if (auto error = EnsureOpaqueTableLocked()) {
    ForgetConnectionIfBrokenLocked(error->code);
    return Classify(*error, "open " + table);
  }
  SqlError error;
  // DO NOTHING: a redelivered entry carries the same bytes, so the first copy stands.
  sqlite3_stmt* statement = StatementLocked(
      "INSERT INTO " + QuoteIdentifier(table) +
          " (namespace, entry_id, payload, delivered_at) VALUES (?1, ?2, ?3, ?4)"
          " ON CONFLICT (namespace, entry_id) DO NOTHING",
      &error);
  if (statement == nullptr) return Classify(error, "prepare");
  BindText(statement, 1, context.namespace_name);
  // Entry ids are positions in a log, far below 2^63.
  sqlite3_bind_int64(statement, 2, static_cast<int64_t>(context.entry_id));
  BindBlob(statement, 3, payload);
  sqlite3_bind_int64(statement, 4, options_.now_millis());
  int code = sqlite3_step(statement);
  if (code != SQLITE_DONE) {
    error = LastErrorLocked(code);
    sqlite3_reset(statement);
    ForgetConnectionIfBrokenLocked(code);
    return Classify(error, "deliver opaque");
  }
  sqlite3_reset(statement);
  return ApplyResult::Ok();
}

Status SqliteTarget::ValidatePayload(const v1::Payload& payload) const {
  return ForEachMutation(payload, [](const v1::Mutation& mutation, const std::string& field) -> Status {
    WAL_RETURN_IF_ERROR(ValidateMutationBasics(mutation, field));
    if (!mutation.table().empty() && (!IsValidTableName(mutation.table()) || mutation.table() == kOpaqueTable)) {
      return InvalidArgument(field + ".table: must match [A-Za-z_][A-Za-z0-9_]{0,63} and not be 'opaque', got '" +
                             Excerpt(mutation.table(), 80) + "'");
    }
    // SQLite's default limit on a string or blob is 1e9 bytes; payloads are
    // capped far below that by max_payload_bytes, so there is nothing to check.
    return Status::Ok();
  });
}

Status SqliteTarget::Probe() {
  std::lock_guard lock(mutex_);
  if (auto error = EnsureOpenLocked()) {
    return Unavailable("sqlite target " + options_.path + " is unavailable: " + error->message);
  }
  // Opening is lazy inside SQLite too; reading the schema touches the file.
  char* message = nullptr;
  int code = sqlite3_exec(db_, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, &message);
  if (code != SQLITE_OK) {
    std::string text = message != nullptr ? message : sqlite3_errstr(code);
    sqlite3_free(message);
    CloseLocked();
    return Unavailable("sqlite target " + options_.path + " is unavailable: " + text);
  }
  return Status::Ok();
}

Result<std::optional<std::string>> SqliteTarget::Get(std::string_view table, std::string_view partition_key,
                                                     std::string_view key) {
  if (!table.empty() && !IsValidTableName(table)) {
    return InvalidArgument("table: invalid table name '" + Excerpt(table, 80) + "'");
  }
  const std::string full_table = FullTableName(table);
  std::lock_guard lock(mutex_);
  if (auto error = EnsureOpenLocked()) return Unavailable("sqlite: " + error->message);
  WAL_ASSIGN_OR_RETURN(bool exists, TableExistsLocked(full_table));
  if (!exists) return std::optional<std::string>();

  SqlError error;
  sqlite3_stmt* statement = StatementLocked(
      "SELECT value, expires_at FROM " + QuoteIdentifier(full_table) + " WHERE partition_key = ?1 AND key = ?2",
      &error);
  if (statement == nullptr) return IOError("sqlite: " + error.message);
  BindText(statement, 1, partition_key);
  BindBlob(statement, 2, key);
  int code = sqlite3_step(statement);
  if (code == SQLITE_DONE) {
    sqlite3_reset(statement);
    return std::optional<std::string>();
  }
  if (code != SQLITE_ROW) {
    error = LastErrorLocked(code);
    sqlite3_reset(statement);
    return IOError("sqlite get: " + error.message);
  }
  const int64_t now = options_.now_millis();
  bool expired = sqlite3_column_type(statement, 1) != SQLITE_NULL && sqlite3_column_int64(statement, 1) <= now;
  std::optional<std::string> value;
  if (!expired) {
    value = ColumnBytes(statement, 0);
  }
  sqlite3_reset(statement);
  if (expired) {
    // Lazily drop the dead row; only if it is still the expired version.
    sqlite3_stmt* purge = StatementLocked("DELETE FROM " + QuoteIdentifier(full_table) +
                                              " WHERE partition_key = ?1 AND key = ?2 AND expires_at <= ?3",
                                          &error);
    if (purge != nullptr) {
      BindText(purge, 1, partition_key);
      BindBlob(purge, 2, key);
      sqlite3_bind_int64(purge, 3, now);
      sqlite3_step(purge);
      sqlite3_reset(purge);
    }
  }
  return value;
}

Result<std::optional<std::string>> SqliteTarget::GetOpaque(std::string_view namespace_name, uint64_t entry_id) {
  const std::string table = options_.table_prefix + std::string(kOpaqueTable);
  std::lock_guard lock(mutex_);
  if (auto error = EnsureOpenLocked()) return Unavailable("sqlite: " + error->message);
  WAL_ASSIGN_OR_RETURN(bool exists, TableExistsLocked(table));
  if (!exists) return std::optional<std::string>();
  SqlError error;
  sqlite3_stmt* statement = StatementLocked(
      "SELECT payload FROM " + QuoteIdentifier(table) + " WHERE namespace = ?1 AND entry_id = ?2", &error);
  if (statement == nullptr) return IOError("sqlite: " + error.message);
  BindText(statement, 1, namespace_name);
  sqlite3_bind_int64(statement, 2, static_cast<int64_t>(entry_id));
  int code = sqlite3_step(statement);
  std::optional<std::string> payload;
  if (code == SQLITE_ROW) {
    payload = ColumnBytes(statement, 0);
  } else if (code != SQLITE_DONE) {
    error = LastErrorLocked(code);
    sqlite3_reset(statement);
    return IOError("sqlite get opaque: " + error.message);
  }
  sqlite3_reset(statement);
  return payload;
}

}  // namespace wal::target
