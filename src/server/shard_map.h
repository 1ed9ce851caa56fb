// The shard map (docs/sharding.md): which group of wald instances serves which
// namespaces.
//
//   shards:
//     shard-a:
//       addresses: [10.0.0.1:7400, 10.0.0.2:7400]   # gRPC
//       http: [10.0.0.1:7401, 10.0.0.2:7401]        # optional
//       namespaces: [orders, payments]
//
// A namespace may be listed by one shard only. A namespace no shard lists is
// not routed: whichever instance has its config serves it.
//
// Threading: immutable after Parse(); share it by const pointer. An edited map
// file gives a new ShardMap that replaces the old one whole (RequestGate reads
// it through a Swappable).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/file_system.h"
#include "common/status.h"
#include "config/config.h"
#include "server/file_reloader.h"
#include "server/swappable.h"

namespace wal::server {

struct Shard {
  std::string name;
  std::vector<std::string> addresses;  // gRPC host:port, >= 1
  std::vector<std::string> http;       // HTTP host:port, may be empty
  std::vector<std::string> namespaces;
};

class ShardMap {
 public:
  static Result<ShardMap> Parse(std::string_view text, config::Format format, std::string_view source);
  static Result<ShardMap> Load(FileSystem* file_system, const std::string& path);

  // OK when the map lists `shard`. An instance whose shard left the map could not
  // tell its namespaces from the others', so start-up and reloads refuse such a map.
  Status CheckLists(const std::string& shard, std::string_view source) const;

  // The shard that lists `name`, or nullptr.
  const Shard* ShardOf(const std::string& name) const;
  const Shard* Find(const std::string& shard) const;
  const std::map<std::string, Shard>& shards() const { return shards_; }
  // The document it was parsed from (what GetShardMap shows).
  const std::string& text() const { return text_; }

 private:
  std::map<std::string, Shard> shards_;
  std::string text_;
  std::map<std::string, std::string> shard_of_namespace_;
};

// Keeps `shard_map` holding the map in `path` as the file changes, polling every
// `interval` once started. Call Load() before serving: it fails on a bad map.
// Later a map that fails to parse, no longer lists `shard` or is deleted is
// logged and the map in force stays.
std::unique_ptr<FileReloader> NewShardMapReloader(FileSystem* file_system, const std::string& path,
                                                  const std::string& shard, std::chrono::milliseconds interval,
                                                  std::shared_ptr<Swappable<ShardMap>> shard_map);

}  // namespace wal::server
