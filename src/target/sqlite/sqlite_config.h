// The SQLite target's settings: `target: {type: sqlite, path, ...}`
// (docs/configuration.md#target). The shape is module_config.h's.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "config/module_config.h"
#include "config/object_reader.h"

namespace wal::target {

struct SqliteTargetConfig {
  static constexpr std::string_view kType = "sqlite";
  // The table opaque payloads go to, keyed by (namespace, entry id).
  static constexpr std::string_view kOpaqueTable = "opaque";

  std::string path;                            // required; parent directories are created
  std::string table = "kv";                    // used when a mutation names none; not "opaque"
  std::string table_prefix;                    // prepended to every table name
  std::chrono::milliseconds busy_timeout{5000};

  Status Read(config::ObjectReader& reader, const config::DecodeContext& context);
  Status Validate(const std::string& path) const;
  void Write(config::Json& object) const;
  bool operator==(const SqliteTargetConfig&) const = default;
};

}  // namespace wal::target
