// The PostgreSQL set store's settings: `durable_storage: {type: postgres,
// dsn, table}` (docs/configuration.md#durable-storage). The shape is
// module_config.h's.
#pragma once

#include <string>
#include <string_view>

#include "config/module_config.h"
#include "config/object_reader.h"

namespace wal::sets {

struct PostgresSetStoreConfig {
  static constexpr std::string_view kType = "postgres";

  std::string dsn;                 // required; libpq connection string
  std::string table = "wal_sets";  // chunk table; progress in <table>_progress; [A-Za-z_][A-Za-z0-9_]{0,47}

  Status Read(config::ObjectReader& reader, const config::DecodeContext& context);
  Status Validate(const std::string& path) const;
  void Write(config::Json& object) const;
  bool operator==(const PostgresSetStoreConfig&) const = default;
};

}  // namespace wal::sets
