#include "server/shard_map.h"

#include <gtest/gtest.h>

namespace wal::server {
namespace {

TEST(ShardMapTest, RejectsNamespaceInTwoShards) {
  auto map = ShardMap::Parse("shards: {a: {addresses: ['h:1'], namespaces: [x]}, b: {addresses: ['h:2'], namespaces: [x]}}",
                             config::Format::kYaml, "m.yaml");
  ASSERT_FALSE(map.ok());
  EXPECT_NE(map.status().message().find("already assigned to shard 'a'"), std::string::npos) << map.status().message();
  EXPECT_FALSE(ShardMap::Parse("shards: {a: {namespaces: [x]}}", config::Format::kYaml, "m.yaml").ok());
  EXPECT_FALSE(ShardMap::Parse("shards: {a: {addresses: [nohost]}}", config::Format::kYaml, "m.yaml").ok());
}

}  // namespace
}  // namespace wal::server
