// A PostgreSQL target, via libpq.
//
// Settings (postgres_config.h): `dsn` (required; libpq connection string or
// URI), `schema` (default "public"), `table` (the table used when a mutation
// names none; default "kv"), `create_tables` (default true), `timeout`
// (connect and per-statement; default 5s), `max_connections` (idle pool size,
// 1..256; default 8).
//
// Each mutation table is `<schema>.<table>`:
//   (partition_key TEXT, sort_key BYTEA, value BYTEA, expires_at TIMESTAMPTZ NULL,
//    PRIMARY KEY (partition_key, sort_key))
// PUT upserts (INSERT .. ON CONFLICT DO UPDATE), DELETE deletes (a missing row
// is fine), a TTL sets expires_at = now() + ttl. With create_tables: true a
// table is created on first use (CREATE TABLE IF NOT EXISTS); with false it
// must exist with those columns, else the apply fails permanently naming it.
// Opaque payloads have no meaning here and are refused.
//
// Failures: connection errors, serialization failures, deadlocks, resource
// exhaustion and shutdowns are retryable; constraint, syntax, type and missing
// table errors are permanent.
//
// Threading: a pool of connections; every method is thread-safe. Connections
// are made on first use.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "target/postgres/postgres_config.h"
#include "target/target.h"

namespace wal::pg {
class PgPool;
}

namespace wal::target {

class PostgresTarget final : public Target {
 public:
  using Options = PostgresTargetConfig;

  // The settings must have passed PostgresTargetConfig::Validate (decoding
  // does that); nothing here checks them again. Connects on first use.
  static Result<std::unique_ptr<PostgresTarget>> Create(Options options);
  // Decodes and validates settings JSON (see the file comment), then Create.
  static Result<std::unique_ptr<PostgresTarget>> FromSettings(std::string_view settings_json);
  // The module: type `postgres`, PostgresTargetConfig, Create. Registered in src/modules/.
  static TargetModule Module();

  ~PostgresTarget() override;

  ApplyResult ApplyMutation(const v1::Mutation& mutation, const DeliveryContext& context) override;
  ApplyResult DeliverOpaque(std::string_view payload, const DeliveryContext& context) override;
  Status ValidatePayload(const v1::Payload& payload) const override;
  Status Probe() override;

  // The live (unexpired) value under (table, partition_key, key), for tests and tools.
  Result<std::optional<std::string>> Get(std::string_view table, std::string_view partition_key,
                                         std::string_view key);

  // [A-Za-z_][A-Za-z0-9_]{0,62}
  static bool IsValidIdentifier(std::string_view name);

 private:
  explicit PostgresTarget(Options options);
  std::string QualifiedTable(std::string_view table) const;
  // Creates or validates the table once; nullopt when it is ready.
  std::optional<ApplyResult> EnsureTable(const std::string& table);

  const Options options_;
  std::unique_ptr<pg::PgPool> pool_;
  std::mutex tables_mutex_;
  std::set<std::string> ready_tables_;
};

}  // namespace wal::target
