#include "target/postgres/postgres_target.h"

#include <cctype>

#include "common/sql_identifier.h"
#include "target/mutation_util.h"
#include "target/postgres/pg_client.h"
#include "target/target_settings.h"

namespace wal::target {
namespace {

std::string Quote(std::string_view identifier) { return "\"" + std::string(identifier) + "\""; }

ApplyResult FromError(const pg::PgError& error, const std::string& what) {
  std::string reason = what + ": " + Excerpt(error.message, 400);
  return error.retryable ? ApplyResult::Retryable(std::move(reason)) : ApplyResult::Permanent(std::move(reason));
}

}  // namespace

bool PostgresTarget::IsValidIdentifier(std::string_view name) { return IsSqlIdentifier(name, 63); }

Result<std::unique_ptr<PostgresTarget>> PostgresTarget::Create(Options options) {
  return std::unique_ptr<PostgresTarget>(new PostgresTarget(std::move(options)));
}

Result<std::unique_ptr<PostgresTarget>> PostgresTarget::FromSettings(std::string_view settings_json) {
  return CreateFromSettingsJson<PostgresTarget, PostgresTargetConfig>(settings_json);
}

TargetModule PostgresTarget::Module() {
  return TargetModuleOf<PostgresTargetConfig>([](const PostgresTargetConfig& settings, const TargetEnvironment&) {
    return Create(OptionsWith<Options>(settings));
  });
}

PostgresTarget::PostgresTarget(Options options)
    : options_(std::move(options)),
      pool_(std::make_unique<pg::PgPool>(options_.dsn, options_.timeout, options_.max_connections)) {}

PostgresTarget::~PostgresTarget() = default;

std::string PostgresTarget::QualifiedTable(std::string_view table) const {
  return Quote(options_.schema) + "." + Quote(table.empty() ? std::string_view(options_.table) : table);
}

std::optional<ApplyResult> PostgresTarget::EnsureTable(const std::string& table) {
  {
    std::lock_guard lock(tables_mutex_);
    if (ready_tables_.contains(table)) return std::nullopt;
  }
  const std::string qualified = options_.schema + "." + table;
  if (options_.create_tables) {
    std::string sql;
    if (options_.schema != "public") sql = "CREATE SCHEMA IF NOT EXISTS " + Quote(options_.schema) + "; ";
    const std::string create = sql + "CREATE TABLE IF NOT EXISTS " + QualifiedTable(table) +
                               " (partition_key TEXT NOT NULL, sort_key BYTEA NOT NULL, value BYTEA,"
                               " expires_at TIMESTAMPTZ NULL, PRIMARY KEY (partition_key, sort_key))";
    pg::PgResult created = pool_->Exec(create);
    if (!created.ok()) {
      // Two creators racing on a new table: one loses with a unique violation
      // on the catalog; the table exists all the same, so try again.
      if (created.error->sqlstate == "23505" || created.error->sqlstate == "42P07") {
        return ApplyResult::Retryable("postgres: creating " + qualified + " raced another creator; retrying");
      }
      return FromError(*created.error, "postgres: creating table " + qualified);
    }
  } else {
    pg::PgResult columns = pool_->Exec(
        "SELECT column_name::text, data_type::text FROM information_schema.columns"
        " WHERE table_schema = $1 AND table_name = $2",
        {pg::PgParam::Text(options_.schema), pg::PgParam::Text(table)});
    if (!columns.ok()) return FromError(*columns.error, "postgres: checking table " + qualified);
    if (columns.rows.rows.empty()) {
      return ApplyResult::Permanent("postgres: table " + qualified +
                                    " does not exist and create_tables is false; create it as (partition_key TEXT,"
                                    " sort_key BYTEA, value BYTEA, expires_at TIMESTAMPTZ, PRIMARY KEY"
                                    " (partition_key, sort_key))");
    }
    const std::pair<const char*, const char*> expected[] = {{"partition_key", "text"},
                                                            {"sort_key", "bytea"},
                                                            {"value", "bytea"},
                                                            {"expires_at", "timestamp with time zone"}};
    for (const auto& [name, type] : expected) {
      bool found = false;
      for (const auto& row : columns.rows.rows) {
        if (row.size() == 2 && row[0] == name) {
          if (row[1] != type) {
            return ApplyResult::Permanent("postgres: table " + qualified + " column " + name + " is " +
                                          row[1].value_or("?") + ", expected " + type);
          }
          found = true;
        }
      }
      if (!found) {
        return ApplyResult::Permanent("postgres: table " + qualified + " has no column " + name +
                                      " (create_tables is false, so it is not created)");
      }
    }
  }
  std::lock_guard lock(tables_mutex_);
  ready_tables_.insert(table);
  return std::nullopt;
}

ApplyResult PostgresTarget::ApplyMutation(const v1::Mutation& mutation, const DeliveryContext& /*context*/) {
  if (Status valid = ValidateMutationBasics(mutation, "mutation"); !valid.ok()) {
    return ApplyResult::Permanent(valid.message());
  }
  if (!mutation.table().empty() && !IsValidIdentifier(mutation.table())) {
    return ApplyResult::Permanent("mutation.table: invalid table name '" + Excerpt(mutation.table(), 80) + "'");
  }
  const std::string table = mutation.table().empty() ? options_.table : mutation.table();
  if (auto not_ready = EnsureTable(table)) return *not_ready;
  const bool is_put = mutation.op() == v1::Mutation::PUT;
  pg::PgResult result;
  if (is_put) {
    const int64_t ttl = TtlMillis(mutation);
    const std::string ttl_text = std::to_string(ttl);
    result = pool_->Exec("INSERT INTO " + QualifiedTable(table) +
                             " (partition_key, sort_key, value, expires_at) VALUES ($1, $2, $3,"
                             " CASE WHEN $4::bigint IS NULL THEN NULL ELSE now() + $4::bigint * interval '1 millisecond' END)"
                             " ON CONFLICT (partition_key, sort_key) DO UPDATE SET"
                             " value = EXCLUDED.value, expires_at = EXCLUDED.expires_at",
                         {pg::PgParam::Text(mutation.partition_key()), pg::PgParam::Bytes(mutation.key()),
                          pg::PgParam::Bytes(mutation.value()),
                          ttl > 0 ? pg::PgParam::Text(ttl_text) : pg::PgParam::Null()});
  } else {
    result = pool_->Exec("DELETE FROM " + QualifiedTable(table) + " WHERE partition_key = $1 AND sort_key = $2",
                         {pg::PgParam::Text(mutation.partition_key()), pg::PgParam::Bytes(mutation.key())});
  }
  if (result.ok()) return ApplyResult::Ok();
  if (result.error->sqlstate == "42P01") {
    // The table went away after it was checked: check (or create) it again.
    std::lock_guard lock(tables_mutex_);
    ready_tables_.erase(table);
  }
  return FromError(*result.error, is_put ? "postgres put" : "postgres delete");
}

ApplyResult PostgresTarget::DeliverOpaque(std::string_view /*payload*/, const DeliveryContext& /*context*/) {
  return ApplyResult::Permanent("postgres target cannot take opaque payloads; send a mutation");
}

Status PostgresTarget::ValidatePayload(const v1::Payload& payload) const {
  return ForEachMutation(
      payload,
      [](const v1::Mutation& mutation, const std::string& field) -> Status {
        WAL_RETURN_IF_ERROR(ValidateMutationBasics(mutation, field));
        if (!mutation.table().empty() && !IsValidIdentifier(mutation.table())) {
          return InvalidArgument(field + ".table: must match [A-Za-z_][A-Za-z0-9_]{0,62}, got '" +
                                 Excerpt(mutation.table(), 80) + "'");
        }
        return Status::Ok();
      },
      [] { return InvalidArgument("payload.opaque: target type 'postgres' takes mutations, not opaque payloads"); });
}

Status PostgresTarget::Probe() {
  if (auto error = pool_->Ping()) return Unavailable("postgres target is unavailable: " + error->message);
  return Status::Ok();
}

Result<std::optional<std::string>> PostgresTarget::Get(std::string_view table, std::string_view partition_key,
                                                       std::string_view key) {
  const std::string name(table.empty() ? std::string_view(options_.table) : table);
  if (!IsValidIdentifier(name)) return InvalidArgument("invalid table name");
  pg::PgResult result = pool_->Exec("SELECT value FROM " + QualifiedTable(name) +
                                        " WHERE partition_key = $1 AND sort_key = $2"
                                        " AND (expires_at IS NULL OR expires_at > now())",
                                    {pg::PgParam::Text(partition_key), pg::PgParam::Bytes(key)}, /*binary=*/true);
  if (!result.ok()) {
    if (result.error->sqlstate == "42P01") return std::optional<std::string>();
    return Unavailable(result.error->message);
  }
  if (result.rows.rows.empty() || !result.rows.rows[0][0]) return std::optional<std::string>();
  return std::optional<std::string>(*result.rows.rows[0][0]);
}

}  // namespace wal::target
