// The Cassandra set store's settings: `durable_storage: {type: cassandra,
// contact_points, keyspace, table, ...}` (docs/cassandra.md#the-set-store),
// flat beside every store's limits (chunk_bytes, ...). The connection fields
// are CassandraConnectionSettings' (target/cassandra/). The shape is
// module_config.h's.
#pragma once

#include <string>
#include <string_view>

#include "config/module_config.h"
#include "config/object_reader.h"
#include "target/cassandra/cassandra_connection_config.h"

namespace wal::sets {

struct CassandraSetStoreConfig {
  static constexpr std::string_view kType = "cassandra";

  cassandra::CassandraConnectionSettings connection;  // flat: contact_points, keyspace, consistency, ...
  std::string table = "wal_sets";  // chunks; progress in <table>_progress; [A-Za-z0-9_]{1,39}

  Status Read(config::ObjectReader& reader, const config::DecodeContext& context);
  Status Validate(const std::string& path) const;
  void Write(config::Json& object) const;
  bool operator==(const CassandraSetStoreConfig&) const = default;
};

}  // namespace wal::sets
