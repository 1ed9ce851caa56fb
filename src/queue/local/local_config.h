// The embedded-log backend's settings: `backend: {type: local, local: {...}}`
// (docs/configuration.md#backend). The shape is module_config.h's.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "config/module_config.h"
#include "config/object_reader.h"

namespace wal::queue::local {

struct LocalBackendConfig {
  static constexpr std::string_view kType = "local";

  uint64_t segment_bytes = 64ull << 20;  // 4 KiB..4 GiB: a segment is closed at this size
  bool preallocate = true;               // reserve each segment's space up front

  Status Read(config::ObjectReader& reader, const config::DecodeContext& context);
  Status Validate(const std::string& path) const;
  void Write(config::Json& object) const;
  bool operator==(const LocalBackendConfig&) const = default;
};

}  // namespace wal::queue::local
