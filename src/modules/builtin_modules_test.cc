// The built-in modules: every type is registered once, the factories build
// what the catalog decoded (without connecting), and they refuse what they
// cannot build.
#include "modules/builtin_modules.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "config/config.h"
#include "target/sqlite/sqlite_target.h"

namespace wal::modules {
namespace {

const config::ModuleCatalog& Catalog() { return BuiltinModules().catalog(); }

// A target block ({"type": ..., settings}) as the namespace parser reads it.
config::TargetConfig Target(const std::string& json) {
  auto decoded = config::TargetFromJson(json, "target", Catalog());
  EXPECT_TRUE(decoded.ok()) << json << ": " << decoded.status().ToString();
  return decoded.ok() ? decoded.value() : config::TargetConfig{};
}

TEST(BuiltinModulesTest, EveryTypeOfThisBuildIsRegistered) {
  using config::ModuleKind;
  EXPECT_EQ(Catalog().Types(ModuleKind::kBackend), (std::vector<std::string_view>{"local", "kafka", "sqs"}));
  EXPECT_EQ(Catalog().Types(ModuleKind::kTarget),
            (std::vector<std::string_view>{"sqlite", "memcached", "redis", "postgres", "kafka", "http", "replication",
                                             "cassandra"}));
  EXPECT_EQ(Catalog().Aliases(ModuleKind::kTarget), (std::vector<std::string_view>{"evc-replication"}));
  EXPECT_EQ(Catalog().Types(ModuleKind::kDurableStorage), (std::vector<std::string_view>{"local", "postgres", "cassandra"}));
}

TEST(BuiltinModulesTest, BuildsEachTargetOfThisBuildWithoutConnecting) {
  const std::filesystem::path directory = std::filesystem::temp_directory_path() / "wal_builtin_modules_test";
  for (const std::string& json : {
           R"({"type": "sqlite", "path": ")" + (directory / "kv.db").string() + R"("})",
           // Nothing listens on port 1: creation must still succeed (connections are lazy).
           std::string(R"({"type": "memcached", "servers": ["127.0.0.1:1"]})"),
           std::string(R"({"type": "redis", "address": "127.0.0.1:1", "db": 2})"),
           std::string(R"({"type": "http", "url": "http://127.0.0.1:1/hook"})"),
           std::string(R"({"type": "postgres", "dsn": "host=127.0.0.1 port=1 dbname=wal", "create_tables": false})"),
           std::string(R"({"type": "kafka", "bootstrap_servers": "127.0.0.1:1", "topic": "out"})"),
           std::string(R"({"type": "cassandra", "contact_points": ["127.0.0.1:1"], "keyspace": "kv"})"),
           std::string(R"({"type": "evc-replication", "regions": {"a": {"servers": ["127.0.0.1:1"]}}})"),
       }) {
    auto target = BuiltinModules().Create(Target(json), target::TargetEnvironment{});
    EXPECT_TRUE(target.ok()) << json << ": " << target.status().ToString();
  }
  std::filesystem::remove_all(directory);
}

TEST(BuiltinModulesTest, RefusesWhatItCannotBuild) {
  auto none = BuiltinModules().Create(config::TargetConfig{}, target::TargetEnvironment{});
  EXPECT_EQ(none.status().code(), StatusCode::kInvalidArgument);

  // A region this instance serves must be one of the target's regions.
  auto elsewhere = BuiltinModules().Create(
      Target(R"({"type": "replication", "regions": {"a": {"servers": ["127.0.0.1:1"]}}})"), target::TargetEnvironment{.local_region = "b", .data_dir = ""});
  ASSERT_FALSE(elsewhere.ok());
  EXPECT_EQ(elsewhere.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(elsewhere.status().message().find("target.regions"), std::string::npos) << elsewhere.status().message();
}

TEST(BuiltinModulesTest, RedisSettingsNameTheSetting) {
  // Redis has no unit test binary of its own; its settings are checked here.
  EXPECT_TRUE(config::TargetFromJson(R"({"type": "redis", "address": "[::1]:6379", "password": "p", "db": "2",
                                         "timeout": "250ms", "key_prefix": "a:"})",
                                     "target", Catalog())
                  .ok());
  for (const char* bad : {R"({"type": "redis", "address": "localhost"})", R"({"type": "redis", "address": "h:1", "db": -1})",
                          R"({"type": "redis", "address": "h:1", "timeout": "fast"})",
                          R"({"type": "redis", "address": "h:1", "passwd": "x"})", R"({"type": "redis", "address": "h:0"})",
                          R"({"type": "redis"})"}) {
    auto result = config::TargetFromJson(bad, "target", Catalog());
    ASSERT_FALSE(result.ok()) << bad;
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_TRUE(result.status().message().starts_with("target.")) << result.status().message();
  }
}

TEST(BuiltinModulesTest, TraitsComeFromTheModules) {
  EXPECT_TRUE(BuiltinModules().Traits("local").reads_are_complete);
  EXPECT_FALSE(BuiltinModules().Traits("kafka").reads_are_complete);
  EXPECT_FALSE(BuiltinModules().Traits("sqs").reads_are_complete);
  EXPECT_NE(BuiltinModules().Traits("local").not_writable_reason, BuiltinModules().Traits("kafka").not_writable_reason);
  EXPECT_TRUE(BuiltinModules().RegionalDelivery("replication"));
  EXPECT_FALSE(BuiltinModules().RegionalDelivery("memcached"));
  EXPECT_FALSE(BuiltinModules().RegionalDelivery("cassandra"));
}

// Settings of a backend this build does not have (a config decoded elsewhere).
struct ElsewhereBackendConfig {
  static constexpr std::string_view kType = "rabbitmq";
  Status Read(config::ObjectReader&, const config::DecodeContext&) { return Status::Ok(); }
  Status Validate(const std::string&) const { return Status::Ok(); }
  void Write(config::Json&) const {}
  bool operator==(const ElsewhereBackendConfig&) const = default;
};

TEST(BuiltinModulesTest, AnUnknownBackendIsUnavailable) {
  config::NamespaceConfig config;
  config.name = "n";
  config.backend.settings = config::ModuleConfig::Of(ElsewhereBackendConfig{});
  auto opened = BuiltinModules().Open(queue::BackendContext{}, config);
  EXPECT_EQ(opened.status().code(), StatusCode::kUnavailable) << opened.status().ToString();
}

TEST(ModuleRegistryTest, ANameIsTakenOnce) {
  ModuleRegistry registry;
  EXPECT_TRUE(registry.Add(target::SqliteTarget::Module()).ok());
  Status again = registry.Add(target::SqliteTarget::Module());
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists) << again.ToString();
  EXPECT_EQ(registry.catalog().Types(config::ModuleKind::kTarget), std::vector<std::string_view>{"sqlite"});
}

}  // namespace
}  // namespace wal::modules
