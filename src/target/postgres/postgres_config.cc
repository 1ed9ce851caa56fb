#include "target/postgres/postgres_config.h"

#include "common/sql_identifier.h"
#include "config/duration.h"

namespace wal::target {
namespace {

Status CheckIdentifier(const std::string& path, const std::string& name) {
  if (IsSqlIdentifier(name, 63)) return Status::Ok();
  return config::FieldError(path, "must match [A-Za-z_][A-Za-z0-9_]{0,62}, got " + config::Quoted(name));
}

}  // namespace

Status PostgresTargetConfig::Read(config::ObjectReader& reader, const config::DecodeContext& /*context*/) {
  WAL_RETURN_IF_ERROR(reader.NonEmptyField("dsn", &dsn));
  WAL_RETURN_IF_ERROR(reader.Field("schema", &schema));
  WAL_RETURN_IF_ERROR(reader.Field("table", &table));
  WAL_RETURN_IF_ERROR(reader.Field("create_tables", &create_tables));
  WAL_RETURN_IF_ERROR(reader.Field("timeout", &timeout));
  return reader.Field("max_connections", &max_connections);
}

Status PostgresTargetConfig::Validate(const std::string& path) const {
  WAL_RETURN_IF_ERROR(config::CheckRequired(path + ".dsn", dsn, "target type 'postgres'"));
  WAL_RETURN_IF_ERROR(CheckIdentifier(path + ".schema", schema));
  WAL_RETURN_IF_ERROR(CheckIdentifier(path + ".table", table));
  WAL_RETURN_IF_ERROR(config::CheckPositive(path + ".timeout", timeout));
  return config::CheckRange<uint64_t>(path + ".max_connections", max_connections, 1, 256);
}

void PostgresTargetConfig::Write(config::Json& object) const {
  object["dsn"] = dsn;
  object["schema"] = schema;
  object["table"] = table;
  object["create_tables"] = create_tables;
  object["timeout"] = config::FormatDuration(timeout);
  object["max_connections"] = max_connections;
}

}  // namespace wal::target
