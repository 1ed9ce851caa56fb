#include "target/cassandra/cassandra_config.h"

namespace wal::target {
namespace {

using cassandra::IsCqlName;

Status ReadColumns(config::ObjectReader& reader, CassandraTableMapping* mapping) {
  WAL_RETURN_IF_ERROR(reader.Field("partition_key_column", &mapping->partition_key_column));
  WAL_RETURN_IF_ERROR(reader.Field("clustering_key_column", &mapping->clustering_key_column));
  return reader.Field("value_column", &mapping->value_column);
}

Status CheckName(const std::string& path, const std::string& name) {
  if (IsCqlName(name)) return Status::Ok();
  return config::FieldError(path, "must match [A-Za-z0-9_]{1,48}, got " + config::Quoted(name));
}

Status CheckMapping(const std::string& path, const CassandraTableMapping& mapping) {
  WAL_RETURN_IF_ERROR(CheckName(path + ".table", mapping.table));
  WAL_RETURN_IF_ERROR(CheckName(path + ".partition_key_column", mapping.partition_key_column));
  WAL_RETURN_IF_ERROR(CheckName(path + ".clustering_key_column", mapping.clustering_key_column));
  WAL_RETURN_IF_ERROR(CheckName(path + ".value_column", mapping.value_column));
  // Cassandra folds unquoted names to lower case but we quote them, so only
  // exact repeats collide.
  if (mapping.partition_key_column == mapping.clustering_key_column ||
      mapping.partition_key_column == mapping.value_column ||
      mapping.clustering_key_column == mapping.value_column) {
    return config::FieldError(path, "partition_key_column, clustering_key_column and value_column must differ");
  }
  return Status::Ok();
}

void WriteColumns(const CassandraTableMapping& mapping, config::Json& object) {
  object["partition_key_column"] = mapping.partition_key_column;
  object["clustering_key_column"] = mapping.clustering_key_column;
  object["value_column"] = mapping.value_column;
}

}  // namespace

CassandraTableMapping CassandraTargetConfig::MappingFor(std::string_view mutation_table) const {
  if (mutation_table.empty()) return defaults;
  if (auto found = tables.find(std::string(mutation_table)); found != tables.end()) return found->second;
  CassandraTableMapping unmapped = defaults;
  unmapped.table = std::string(mutation_table);
  return unmapped;
}

Status CassandraTargetConfig::Read(config::ObjectReader& reader, const config::DecodeContext& /*context*/) {
  WAL_RETURN_IF_ERROR(connection.Read(reader));
  WAL_RETURN_IF_ERROR(reader.Field("table", &defaults.table));
  WAL_RETURN_IF_ERROR(ReadColumns(reader, &defaults));
  WAL_RETURN_IF_ERROR(reader.Field("create_tables", &create_tables));
  const config::Json* mapped = reader.Take("tables");
  if (mapped == nullptr) return Status::Ok();
  if (!mapped->is_object()) {
    return config::FieldError(reader.PathOf("tables"), "must be a mapping of mutation table to "
                                                      "{table, partition_key_column, clustering_key_column, "
                                                      "value_column}, got " + config::Describe(*mapped));
  }
  tables.clear();
  for (const auto& [name, value] : mapped->items()) {
    WAL_ASSIGN_OR_RETURN(config::ObjectReader entry, config::ObjectReader::Open(value, reader.PathOf("tables") + "." + name));
    CassandraTableMapping mapping;
    mapping.table = name;  // absent: the same name
    WAL_RETURN_IF_ERROR(entry.Field("table", &mapping.table));
    WAL_RETURN_IF_ERROR(ReadColumns(entry, &mapping));
    WAL_RETURN_IF_ERROR(entry.RejectUnknownFields());
    tables[name] = std::move(mapping);
  }
  return Status::Ok();
}

Status CassandraTargetConfig::Validate(const std::string& path) const {
  WAL_RETURN_IF_ERROR(connection.Validate(path, "target type 'cassandra'"));
  WAL_RETURN_IF_ERROR(CheckMapping(path, defaults));
  for (const auto& [name, mapping] : tables) {
    if (name.empty()) return config::FieldError(path + ".tables", "a mutation table name must not be empty");
    WAL_RETURN_IF_ERROR(CheckMapping(path + ".tables." + name, mapping));
  }
  return Status::Ok();
}

void CassandraTargetConfig::Write(config::Json& object) const {
  connection.Write(object);
  object["table"] = defaults.table;
  WriteColumns(defaults, object);
  object["create_tables"] = create_tables;
  config::Json mapped = config::Json::object();
  for (const auto& [name, mapping] : tables) {
    config::Json entry = config::Json::object();
    entry["table"] = mapping.table;
    WriteColumns(mapping, entry);
    mapped[name] = std::move(entry);
  }
  object["tables"] = std::move(mapped);
}

}  // namespace wal::target
