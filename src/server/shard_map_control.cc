#include "server/shard_map_control.h"

#include <spdlog/spdlog.h>

namespace wal::server {

std::unique_ptr<ShardMapControl> ShardMapControl::ForFile(std::shared_ptr<Swappable<ShardMap>> holder,
                                                          std::string shard, std::string path) {
  return std::unique_ptr<ShardMapControl>(
      new ShardMapControl(Source::kFile, std::move(holder), std::move(shard), "file " + path, nullptr));
}

std::unique_ptr<ShardMapControl> ShardMapControl::ForStore(std::shared_ptr<Swappable<ShardMap>> holder,
                                                           std::string shard, control::NamespaceStore* store) {
  return std::unique_ptr<ShardMapControl>(
      new ShardMapControl(Source::kStore, std::move(holder), std::move(shard), store->Describe(), store));
}

ShardMapControl::View ShardMapControl::Get() const {
  View view;
  view.source = source_ == Source::kNone ? "none" : where_;
  view.shard = shard_;
  if (holder_) {
    if (auto map = holder_->Get()) view.text = map->text();
  }
  return view;
}

Result<ShardMap> ShardMapControl::Validate(const std::string& text, std::string_view origin) const {
  // JSON is YAML, so one parser takes both.
  WAL_ASSIGN_OR_RETURN(ShardMap map, ShardMap::Parse(text, config::Format::kYaml, origin));
  WAL_RETURN_IF_ERROR(map.CheckLists(shard_, origin));
  return map;
}

Status ShardMapControl::Apply(const std::string& text) {
  if (source_ == Source::kNone) {
    return FailedPrecondition("this instance is not sharded: set shard (and shard_map, or a postgres config store)");
  }
  if (source_ == Source::kFile) {
    return FailedPrecondition("this instance reads its shard map from " + where_ +
                              "; edit that file (it is reloaded when it changes)");
  }
  WAL_ASSIGN_OR_RETURN(ShardMap map, Validate(text, "shard map"));
  std::lock_guard lock(refresh_mutex_);
  WAL_RETURN_IF_ERROR(store_->SaveShardMap(text).WithContext("saving the shard map"));
  holder_->Set(std::make_shared<const ShardMap>(std::move(map)));
  spdlog::info("shard map applied and stored in {}", where_);
  return Status::Ok();
}

Status ShardMapControl::Refresh() {
  if (source_ != Source::kStore) return Status::Ok();
  std::lock_guard lock(refresh_mutex_);
  auto stored = store_->LoadShardMap();
  if (!stored.ok()) return stored.status();
  if (stored->revision == installed_revision_) return Status::Ok();
  auto map = Validate(stored->text, "stored shard map");
  if (!map.ok()) {
    if (reported_revision_ != stored->revision) {
      spdlog::error("{} not applied: {}; the shard map in force stays", where_, map.status().message());
      reported_revision_ = stored->revision;
    }
    return map.status();
  }
  const size_t shards = map->shards().size();
  holder_->Set(std::make_shared<const ShardMap>(std::move(map).value()));
  installed_revision_ = stored->revision;
  spdlog::info("shard map from {} in force ({} shards, this instance in {})", where_, shards, shard_);
  return Status::Ok();
}

}  // namespace wal::server
