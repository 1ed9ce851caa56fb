#include "sets/cassandra/cassandra_config.h"

namespace wal::sets {

Status CassandraSetStoreConfig::Read(config::ObjectReader& reader, const config::DecodeContext& /*context*/) {
  WAL_RETURN_IF_ERROR(connection.Read(reader));
  return reader.Field("table", &table);
}

Status CassandraSetStoreConfig::Validate(const std::string& path) const {
  WAL_RETURN_IF_ERROR(connection.Validate(path, "durable_storage type 'cassandra'"));
  // The table gets "_progress" appended, within Cassandra's 48 characters.
  if (!cassandra::IsCqlName(table) || table.size() > 39) {
    return config::FieldError(path + ".table", "must match [A-Za-z0-9_]{1,39}, got " + config::Quoted(table));
  }
  return Status::Ok();
}

void CassandraSetStoreConfig::Write(config::Json& object) const {
  connection.Write(object);
  object["table"] = table;
}

}  // namespace wal::sets
