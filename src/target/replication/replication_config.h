// The cross-region replication target's settings:
// `target: {type: replication, regions: {R: {servers: [...]}}, ...}`
// (docs/configuration.md#target, docs/kafka.md#cross-region-replication).
// The shape is module_config.h's.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/host_port.h"
#include "config/module_config.h"
#include "config/object_reader.h"
#include "target/memcached/memcached_config.h"

namespace wal::target {

struct ReplicationTargetConfig {
  static constexpr std::string_view kType = "replication";
  static constexpr std::string_view kAliases[] = {"evc-replication"};

  std::map<std::string, std::vector<HostPort>> regions;  // required: region -> its memcached servers
  std::string local_region;        // origin assumed for records that carry none; one of `regions`
  bool skip_local_region = false;  // do not apply a record in the region it was written in
  // timeout, key_prefix, max_item_bytes: as for memcached, for every region
  // (its `servers` are unused).
  MemcachedTargetConfig cache;

  Status Read(config::ObjectReader& reader, const config::DecodeContext& context);
  Status Validate(const std::string& path) const;
  void Write(config::Json& object) const;
  bool operator==(const ReplicationTargetConfig&) const = default;
};

}  // namespace wal::target
