// The Redis target's settings: `target: {type: redis, address, ...}`
// (docs/configuration.md#target). The shape is module_config.h's.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/host_port.h"
#include "config/module_config.h"
#include "config/object_reader.h"

namespace wal::target {

struct RedisTargetConfig {
  static constexpr std::string_view kType = "redis";

  HostPort address;                            // required
  std::string password;                        // AUTH; empty: none
  int64_t db = 0;                              // SELECT; 0..1048576
  std::chrono::milliseconds timeout{1000};     // connect and each command
  std::string key_prefix;

  Status Read(config::ObjectReader& reader, const config::DecodeContext& context);
  Status Validate(const std::string& path) const;
  void Write(config::Json& object) const;
  bool operator==(const RedisTargetConfig&) const = default;
};

}  // namespace wal::target
