// The embedded default target: a SQLite database file.
//
// Settings (sqlite_config.h): `path` (required; parent directories are
// created), `table` (the table used when a mutation names none; default "kv"),
// `table_prefix` (prepended to every table name, e.g. to share a file between
// namespaces), `busy_timeout` (duration; default 5s).
//
// Each mutation table is created on first use as
//   (partition_key TEXT, key BLOB, value BLOB, expires_at INTEGER NULL,
//    PRIMARY KEY(partition_key, key))
// PUT upserts, DELETE deletes (a missing row is fine), a TTL sets expires_at in
// unix milliseconds. Expired rows read as absent and are purged lazily. Opaque
// payloads go to the table "opaque" keyed by (namespace, entry id), so a
// redelivery stores nothing twice; "opaque" is therefore reserved.
//
// Threading: one connection guarded by a mutex; every method is thread-safe.
// The file is opened lazily, so construction never fails on an unwritable
// path: Probe or the first apply reports it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "target/sqlite/sqlite_config.h"
#include "target/target.h"

struct sqlite3;
struct sqlite3_stmt;

namespace wal::target {

class SqliteTarget final : public Target {
 public:
  struct Options : SqliteTargetConfig {
    // Unix time in milliseconds; tests replace it to expire rows without sleeping.
    std::function<int64_t()> now_millis;
  };

  // The settings must have passed SqliteTargetConfig::Validate (decoding does
  // that); nothing here checks them again, and nothing touches the file.
  static Result<std::unique_ptr<SqliteTarget>> Create(Options options);
  // Decodes and validates settings JSON (see the file comment), then Create.
  static Result<std::unique_ptr<SqliteTarget>> FromSettings(std::string_view settings_json);
  // The module: type `sqlite`, SqliteTargetConfig, Create. Registered in src/modules/.
  static TargetModule Module();

  ~SqliteTarget() override;

  ApplyResult ApplyMutation(const v1::Mutation& mutation, const DeliveryContext& context) override;
  ApplyResult DeliverOpaque(std::string_view payload, const DeliveryContext& context) override;
  Status ValidatePayload(const v1::Payload& payload) const override;
  Status Probe() override;

  // The read side, for tests, tools and the README demo. `table` empty means
  // the default table. An expired row reads as absent (and is purged).
  Result<std::optional<std::string>> Get(std::string_view table, std::string_view partition_key,
                                         std::string_view key);
  // The opaque payload stored for (namespace, entry id), if any.
  Result<std::optional<std::string>> GetOpaque(std::string_view namespace_name, uint64_t entry_id);

  // True when `name` is a valid table name: [A-Za-z_][A-Za-z0-9_]{0,63}.
  static bool IsValidTableName(std::string_view name);

 private:
  explicit SqliteTarget(Options options);

  // An SQLite failure, as the engine should treat it, plus the message.
  struct SqlError {
    int code = 0;
    std::string message;
  };

  // All below require mutex_ held.
  std::optional<SqlError> EnsureOpenLocked();
  // Runs `sql` (one or more statements) on the open connection.
  std::optional<SqlError> ExecLocked(const std::string& sql);
  std::optional<SqlError> EnsureTableLocked(const std::string& full_table_name);
  std::optional<SqlError> EnsureOpaqueTableLocked();
  Result<bool> TableExistsLocked(const std::string& full_table_name);
  // A cached prepared statement for `sql`, reset and with bindings cleared.
  sqlite3_stmt* StatementLocked(const std::string& sql, SqlError* error);
  SqlError LastErrorLocked(int code) const;
  void CloseLocked();
  void PurgeExpiredLocked(const std::string& full_table_name, int64_t now);
  // Drops the connection after errors that a fresh one may not repeat (the
  // file was replaced or removed, I/O error), so the next call reopens.
  void ForgetConnectionIfBrokenLocked(int code);

  std::string FullTableName(std::string_view table) const;
  ApplyResult Classify(const SqlError& error, std::string_view what) const;

  const Options options_;
  std::mutex mutex_;
  sqlite3* db_ = nullptr;
  std::map<std::string, sqlite3_stmt*, std::less<>> statements_;
  std::set<std::string, std::less<>> ensured_tables_;
  std::map<std::string, int64_t, std::less<>> last_purge_millis_;
};

}  // namespace wal::target
