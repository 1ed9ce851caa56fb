// The Cassandra target's settings: `target: {type: cassandra, contact_points,
// keyspace, ...}` (docs/cassandra.md#target-settings). The shape is
// module_config.h's; the connection fields are CassandraConnectionSettings'.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "config/module_config.h"
#include "config/object_reader.h"
#include "target/cassandra/cassandra_connection_config.h"

namespace wal::target {

// Where one kind of mutation lands: a mutation's partition_key goes to
// `partition_key_column` (text), its key to `clustering_key_column` (blob) and
// its value to `value_column` (blob) of `table` in the keyspace.
struct CassandraTableMapping {
  std::string table;
  std::string partition_key_column = "partition_key";
  std::string clustering_key_column = "sort_key";
  std::string value_column = "value";
  bool operator==(const CassandraTableMapping&) const = default;
};

struct CassandraTargetConfig {
  static constexpr std::string_view kType = "cassandra";

  cassandra::CassandraConnectionSettings connection;  // flat: contact_points, keyspace, consistency, ...
  // For a mutation that names no table, and the columns of any table `tables`
  // does not map (a mutation's table is then the Cassandra table's name).
  CassandraTableMapping defaults{"kv"};
  std::map<std::string, CassandraTableMapping> tables;  // mutation table -> where it lands
  bool create_tables = true;  // CREATE TABLE IF NOT EXISTS on first use; false: tables must exist

  // The mapping for a mutation's `table` ("" is the default table).
  CassandraTableMapping MappingFor(std::string_view mutation_table) const;

  Status Read(config::ObjectReader& reader, const config::DecodeContext& context);
  Status Validate(const std::string& path) const;
  void Write(config::Json& object) const;
  bool operator==(const CassandraTargetConfig&) const = default;
};

}  // namespace wal::target
