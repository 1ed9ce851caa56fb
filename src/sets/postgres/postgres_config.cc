#include "sets/postgres/postgres_config.h"

#include "common/sql_identifier.h"

namespace wal::sets {

Status PostgresSetStoreConfig::Read(config::ObjectReader& reader, const config::DecodeContext& /*context*/) {
  WAL_RETURN_IF_ERROR(reader.Field("dsn", &dsn));
  return reader.Field("table", &table);
}

Status PostgresSetStoreConfig::Validate(const std::string& path) const {
  WAL_RETURN_IF_ERROR(config::CheckRequired(path + ".dsn", dsn, "durable_storage type 'postgres'"));
  // The table gets suffixes appended ("_progress").
  if (!IsSqlIdentifier(table, 48)) {
    return config::FieldError(path + ".table", "must match [A-Za-z_][A-Za-z0-9_]{0,47}, got " + config::Quoted(table));
  }
  return Status::Ok();
}

void PostgresSetStoreConfig::Write(config::Json& object) const {
  object["dsn"] = dsn;
  object["table"] = table;
}

}  // namespace wal::sets
