// The PostgreSQL target's settings: `target: {type: postgres, dsn, ...}`
// (docs/configuration.md#target). The shape is module_config.h's.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/module_config.h"
#include "config/object_reader.h"

namespace wal::target {

struct PostgresTargetConfig {
  static constexpr std::string_view kType = "postgres";

  std::string dsn;                             // required; libpq connection string or URI
  std::string schema = "public";               // [A-Za-z_][A-Za-z0-9_]{0,62}
  std::string table = "kv";                    // used when a mutation names none; same form
  bool create_tables = true;                   // false: tables must exist
  std::chrono::milliseconds timeout{5000};     // connect and per statement
  uint64_t max_connections = 8;                // idle pool size, 1..256

  Status Read(config::ObjectReader& reader, const config::DecodeContext& context);
  Status Validate(const std::string& path) const;
  void Write(config::Json& object) const;
  bool operator==(const PostgresTargetConfig&) const = default;
};

}  // namespace wal::target
