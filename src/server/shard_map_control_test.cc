// ShardMapControl over an in-memory store: what the admin API may change, and
// how a stored map becomes the map in force.
#include "server/shard_map_control.h"

#include <gtest/gtest.h>

namespace wal::server {
namespace {

// Holds a shard map document in memory, with a revision per save.
class MemoryStore final : public control::NamespaceStore {
 public:
  std::string Describe() const override { return "memory"; }
  Result<control::StoreContents> LoadAll() override { return control::StoreContents{}; }
  Result<std::map<std::string, std::string>> Revisions() override { return std::map<std::string, std::string>{}; }
  Result<config::NamespaceConfig> Load(const std::string& name) override { return NotFound(name); }
  Status Save(const config::NamespaceConfig&) override { return Status::Ok(); }
  Status Remove(const std::string& name) override { return NotFound(name); }
  bool HoldsShardMap() const override { return true; }
  Result<StoredDocument> LoadShardMap() override {
    if (!reachable) return Unavailable("memory store is down");
    if (revision == 0) return NotFound("no shard map");
    return StoredDocument{text, std::to_string(revision)};
  }
  Status SaveShardMap(const std::string& new_text) override {
    if (!reachable) return Unavailable("memory store is down");
    text = new_text;
    ++revision;
    return Status::Ok();
  }
  std::string text;
  int revision = 0;
  bool reachable = true;
};

const char* kMapAB = "shards:\n  a: {addresses: ['127.0.0.1:1'], namespaces: [orders]}\n"
                     "  b: {addresses: ['127.0.0.1:2'], namespaces: [audit]}\n";
const char* kMapWithoutA = "shards:\n  b: {addresses: ['127.0.0.1:2'], namespaces: [orders]}\n";

std::string OwnerOf(const Swappable<ShardMap>& holder, const std::string& name) {
  auto map = holder.Get();
  if (!map) return "";
  const Shard* shard = map->ShardOf(name);
  return shard == nullptr ? "" : shard->name;
}

TEST(ShardMapControl, NotShardedOrFileHeldRefusesApply) {
  ShardMapControl none;
  EXPECT_EQ(none.Apply(kMapAB).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(none.Get().source, "none");
  auto holder = std::make_shared<Swappable<ShardMap>>();
  auto file = ShardMapControl::ForFile(holder, "a", "/etc/wal/shards.yaml");
  Status refused = file->Apply(kMapAB);
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.message().find("/etc/wal/shards.yaml"), std::string::npos);
  EXPECT_TRUE(file->Refresh().ok());
}

TEST(ShardMapControl, ApplyValidatesStoresAndInstalls) {
  MemoryStore store;
  auto holder = std::make_shared<Swappable<ShardMap>>();
  auto control = ShardMapControl::ForStore(holder, "a", &store);
  EXPECT_EQ(control->Refresh().code(), StatusCode::kNotFound);
  EXPECT_EQ(control->Apply("shards: [").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(control->Apply(kMapWithoutA).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store.revision, 0);  // nothing stored
  EXPECT_EQ(holder->Get(), nullptr);
  store.reachable = false;
  EXPECT_EQ(control->Apply(kMapAB).code(), StatusCode::kUnavailable);
  EXPECT_EQ(holder->Get(), nullptr);  // not installed when it could not be stored
  store.reachable = true;
  ASSERT_TRUE(control->Apply(kMapAB).ok());
  EXPECT_EQ(store.revision, 1);
  EXPECT_EQ(OwnerOf(*holder, "audit"), "b");
  EXPECT_EQ(control->Get().text, kMapAB);
  EXPECT_EQ(control->Get().source, "memory");
}

TEST(ShardMapControl, RefreshInstallsNewRevisionsAndKeepsTheMapOnABadOne) {
  MemoryStore store;
  auto holder = std::make_shared<Swappable<ShardMap>>();
  auto control = ShardMapControl::ForStore(holder, "a", &store);
  ASSERT_TRUE(store.SaveShardMap(kMapAB).ok());  // another instance stored it
  ASSERT_TRUE(control->Refresh().ok());
  EXPECT_EQ(OwnerOf(*holder, "orders"), "a");
  const auto installed = holder->Get();
  ASSERT_TRUE(control->Refresh().ok());
  EXPECT_EQ(holder->Get(), installed);  // same revision: not re-installed

  ASSERT_TRUE(store.SaveShardMap(kMapWithoutA).ok());  // leaves this shard out
  EXPECT_EQ(control->Refresh().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(holder->Get(), installed);
  store.reachable = false;
  EXPECT_EQ(control->Refresh().code(), StatusCode::kUnavailable);
  EXPECT_EQ(holder->Get(), installed);
  store.reachable = true;
  ASSERT_TRUE(store.SaveShardMap(std::string(kMapAB) + "  c: {addresses: ['127.0.0.1:3'], namespaces: [x]}\n").ok());
  ASSERT_TRUE(control->Refresh().ok());
  EXPECT_EQ(OwnerOf(*holder, "x"), "c");
}

}  // namespace
}  // namespace wal::server
