// The memcached target's settings: `target: {type: memcached, servers, ...}`
// (docs/configuration.md#target). The shape is module_config.h's. The
// replication target uses the same cache settings for every region.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/host_port.h"
#include "config/module_config.h"
#include "config/object_reader.h"

namespace wal::target {

struct MemcachedTargetConfig {
  static constexpr std::string_view kType = "memcached";
  // Longest key memcached accepts.
  static constexpr size_t kMaxKeyBytes = 250;

  std::vector<HostPort> servers;               // required; keys spread by consistent hashing
  std::chrono::milliseconds timeout{1000};     // connect and each reply
  std::string key_prefix;
  uint64_t max_item_bytes = 1 << 20;           // the servers' item size limit (memcached -I)

  Status Read(config::ObjectReader& reader, const config::DecodeContext& context);
  Status Validate(const std::string& path) const;
  void Write(config::Json& object) const;
  bool operator==(const MemcachedTargetConfig&) const = default;

  // The settings besides `servers` (timeout, key_prefix, max_item_bytes),
  // which a replication target shares between its regions.
  Status ReadCacheSettings(config::ObjectReader& reader);
  Status ValidateCacheSettings(const std::string& path) const;
  void WriteCacheSettings(config::Json& object) const;
};

}  // namespace wal::target
