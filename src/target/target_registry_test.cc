#include <gtest/gtest.h>

#include <filesystem>

#include "target/target.h"

namespace wal::target {
namespace {

using config::TargetConfig;
using config::TargetType;

TEST(TargetRegistryTest, BuildsEachTargetOfThisBuildWithoutConnecting) {
  std::string path = (std::filesystem::temp_directory_path() / "wal_registry_test" / "kv.db").string();
  for (const TargetConfig& config : {
           TargetConfig{TargetType::kSqlite, R"({"path": ")" + path + R"("})"},
           // Nothing listens on port 1: creation must still succeed (connections are lazy).
           TargetConfig{TargetType::kMemcached, R"({"servers": ["127.0.0.1:1"]})"},
           TargetConfig{TargetType::kRedis, R"({"address": "127.0.0.1:1", "db": 2})"},
           TargetConfig{TargetType::kHttp, R"({"url": "http://127.0.0.1:1/hook"})"},
           TargetConfig{TargetType::kPostgres, R"({"dsn": "host=127.0.0.1 port=1 dbname=wal", "create_tables": false})"},
       }) {
    auto target = CreateTarget(config);
    EXPECT_TRUE(target.ok()) << config::TargetTypeName(config.type) << ": " << target.status().ToString();
  }
  std::filesystem::remove_all(std::filesystem::temp_directory_path() / "wal_registry_test");
}

TEST(TargetRegistryTest, KafkaAndReplicationNeedTheirSettings) {
  // Both build in this build; without their required settings they name the setting.
  for (TargetType type : {TargetType::kKafka, TargetType::kReplication}) {
    auto target = CreateTarget(TargetConfig{type, "{}"});
    ASSERT_FALSE(target.ok());
    EXPECT_EQ(target.status().code(), StatusCode::kInvalidArgument) << target.status().ToString();
    EXPECT_NE(target.status().message().find("target."), std::string::npos) << target.status().message();
  }
}

TEST(TargetRegistryTest, BadSettingsNameTheSetting) {
  auto target = CreateTarget(TargetConfig{TargetType::kRedis, R"({"address": "localhost"})"});
  ASSERT_FALSE(target.ok());
  EXPECT_EQ(target.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(target.status().message().find("target.address"), std::string::npos) << target.status().message();

  EXPECT_EQ(CreateTarget(TargetConfig{TargetType::kNone, "{}"}).status().code(), StatusCode::kInvalidArgument);

  // Redis settings, checked here since redis has no other unit test binary.
  EXPECT_TRUE(CreateTarget(TargetConfig{TargetType::kRedis, R"({"address": "[::1]:6379", "password": "p", "db": "2",
                                                                 "timeout": "250ms", "key_prefix": "a:"})"})
                  .ok());
  for (const char* bad : {R"({"address": "h:1", "db": -1})", R"({"address": "h:1", "timeout": "fast"})",
                          R"({"address": "h:1", "passwd": "x"})", R"({"address": "h:0"})"}) {
    auto result = CreateTarget(TargetConfig{TargetType::kRedis, bad});
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(result.status().message().find("target."), std::string::npos) << result.status().message();
  }
}

}  // namespace
}  // namespace wal::target
