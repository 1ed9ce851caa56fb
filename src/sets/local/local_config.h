// The local set store's settings: `durable_storage: {type: local}`
// (docs/configuration.md#durable-storage). It has none of its own: the limits
// (chunk_bytes, ...) are every store's. The shape is module_config.h's.
#pragma once

#include <string>
#include <string_view>

#include "config/module_config.h"
#include "config/object_reader.h"

namespace wal::sets {

struct LocalSetStoreConfig {
  static constexpr std::string_view kType = "local";

  Status Read(config::ObjectReader& /*reader*/, const config::DecodeContext& /*context*/) { return Status::Ok(); }
  Status Validate(const std::string& /*path*/) const { return Status::Ok(); }
  void Write(config::Json& /*object*/) const {}
  bool operator==(const LocalSetStoreConfig&) const = default;
};

}  // namespace wal::sets
