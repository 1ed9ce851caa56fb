// Where this instance's shard map comes from, for the admin API (GetShardMap,
// ApplyShardMap) and, when the config store keeps the map, for keeping the map
// in force in step with the store.
//
//   * not sharded: Get() shows no map; Apply() is refused.
//   * a file (server config `shard_map`): the file reloader keeps the map in
//     force; Apply() is refused (edit the file), Refresh() does nothing.
//   * the config store (`shard` without `shard_map`, config_store.type
//     postgres): Apply() validates, stores, and installs the map here at once;
//     every other instance installs it on its next Refresh(), which the config
//     watcher runs on each poll and on each store notification.
//
// A map is installed only if it parses and lists this instance's shard; a
// stored map that does not is logged once (per revision) and the map in force
// stays. Before any map is stored, the instance serves every namespace it has.
//
// Threading: thread-safe. Ownership: `store` outlives this object.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "control/namespace_store.h"
#include "server/shard_map.h"
#include "server/swappable.h"

namespace wal::server {

class ShardMapControl {
 public:
  // Not sharded.
  ShardMapControl() = default;
  // The map lives in `path`, kept in `holder` by a file reloader.
  static std::unique_ptr<ShardMapControl> ForFile(std::shared_ptr<Swappable<ShardMap>> holder, std::string shard,
                                                  std::string path);
  // The map lives in `store`.
  static std::unique_ptr<ShardMapControl> ForStore(std::shared_ptr<Swappable<ShardMap>> holder, std::string shard,
                                                   control::NamespaceStore* store);

  struct View {
    std::string text;    // empty: no map in force
    std::string source;  // "file <path>", the store's description, or "none"
    std::string shard;
  };
  View Get() const;

  // Store-held maps only: kInvalidArgument for a map that does not parse or
  // leaves out this instance's shard, kFailedPrecondition for file-held or no
  // sharding, the store's error (kUnavailable) when it cannot save. On failure
  // nothing changes anywhere.
  Status Apply(const std::string& text);

  // Store-held maps: installs the stored map if its revision changed. Returns
  // the reason a map was not installed (kNotFound: none stored yet), so
  // start-up can report it; repeated failures for one revision log once.
  Status Refresh();

 private:
  enum class Source { kNone, kFile, kStore };
  ShardMapControl(Source source, std::shared_ptr<Swappable<ShardMap>> holder, std::string shard, std::string where,
                  control::NamespaceStore* store)
      : source_(source), holder_(std::move(holder)), shard_(std::move(shard)), where_(std::move(where)), store_(store) {}
  Result<ShardMap> Validate(const std::string& text, std::string_view origin) const;

  const Source source_ = Source::kNone;
  const std::shared_ptr<Swappable<ShardMap>> holder_;
  const std::string shard_;
  const std::string where_;
  control::NamespaceStore* const store_ = nullptr;

  std::mutex refresh_mutex_;
  std::string installed_revision_;
  std::string reported_revision_;  // the revision whose refusal was last logged
};

}  // namespace wal::server
