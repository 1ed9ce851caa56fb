// The catalog mechanics with modules of the test's own: config/ decodes,
// validates, saves and compares a module's settings without knowing its type.
#include "config/module_catalog.h"

#include <gtest/gtest.h>

#include "config/config.h"

namespace wal::config {
namespace {

// A target module as a new one would be written (module_config.h's shape).
struct EchoTargetConfig {
  static constexpr std::string_view kType = "echo";
  static constexpr std::string_view kAliases[] = {"parrot"};

  std::string address;
  int repeat = 1;
  std::string greeting;  // filled from the namespace name when absent

  Status Read(ObjectReader& reader, const DecodeContext& context) {
    WAL_RETURN_IF_ERROR(reader.Field("address", &address));
    WAL_RETURN_IF_ERROR(reader.Field("repeat", &repeat));
    WAL_RETURN_IF_ERROR(reader.Field("greeting", &greeting));
    if (greeting.empty()) greeting = "hello " + context.namespace_name;
    return Status::Ok();
  }
  Status Validate(const std::string& path) const {
    WAL_RETURN_IF_ERROR(CheckRequired(path + ".address", address, "target type 'echo'"));
    return CheckRange(path + ".repeat", repeat, 1, 3);
  }
  void Write(Json& object) const {
    object["address"] = address;
    object["repeat"] = repeat;
    object["greeting"] = greeting;
  }
  bool operator==(const EchoTargetConfig&) const = default;
};

struct WhisperTargetConfig {
  static constexpr std::string_view kType = "whisper";
  std::string volume = "low";
  Status Read(ObjectReader& reader, const DecodeContext&) { return reader.Field("volume", &volume); }
  Status Validate(const std::string&) const { return Status::Ok(); }
  void Write(Json& object) const { object["volume"] = volume; }
  bool operator==(const WhisperTargetConfig&) const = default;
};

struct TinyBackendConfig {
  static constexpr std::string_view kType = "local";
  int slots = 4;
  Status Read(ObjectReader& reader, const DecodeContext&) { return reader.Field("slots", &slots); }
  Status Validate(const std::string& path) const { return CheckRange(path + ".slots", slots, 1, 8); }
  void Write(Json& object) const { object["slots"] = slots; }
  bool operator==(const TinyBackendConfig&) const = default;
};

struct NoStoreConfig {
  static constexpr std::string_view kType = "local";
  Status Read(ObjectReader&, const DecodeContext&) { return Status::Ok(); }
  Status Validate(const std::string&) const { return Status::Ok(); }
  void Write(Json&) const {}
  bool operator==(const NoStoreConfig&) const = default;
};

class ModuleCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(catalog_.Add(ModuleKind::kBackend, SchemaFor<TinyBackendConfig>()).ok());
    ASSERT_TRUE(catalog_.Add(ModuleKind::kTarget, SchemaFor<EchoTargetConfig>()).ok());
    ASSERT_TRUE(catalog_.Add(ModuleKind::kTarget, SchemaFor<WhisperTargetConfig>()).ok());
    ASSERT_TRUE(catalog_.Add(ModuleKind::kDurableStorage, SchemaFor<NoStoreConfig>()).ok());
  }
  Result<NamespaceConfig> Parse(const std::string& yaml) { return ParseNamespace(yaml, Format::kYaml, "n.yaml", catalog_); }

  ModuleCatalog catalog_;
};

TEST_F(ModuleCatalogTest, DecodesValidatesAndSavesAModuleItDoesNotKnow) {
  auto parsed = Parse("name: shop\nbackend: {local: {slots: 2}}\ntarget: {type: PARROT, address: a, repeat: '3'}\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->target.type(), "echo");
  const EchoTargetConfig* echo = parsed->target.settings.As<EchoTargetConfig>();
  ASSERT_NE(echo, nullptr);
  EXPECT_EQ(echo->repeat, 3);
  EXPECT_EQ(echo->greeting, "hello shop") << "Read sees the namespace";
  EXPECT_EQ(parsed->backend.settings.Get<TinyBackendConfig>().slots, 2);
  EXPECT_EQ(parsed->target.settings.As<WhisperTargetConfig>(), nullptr);

  for (Format format : {Format::kYaml, Format::kJson}) {
    std::string text = SaveNamespace(*parsed, format);
    auto again = ParseNamespace(text, format, "again", catalog_);
    ASSERT_TRUE(again.ok()) << again.status().message() << "\n" << text;
    EXPECT_EQ(*again, *parsed) << text;
  }
  EXPECT_NE(SaveNamespace(*parsed, Format::kYaml).find("greeting: hello shop"), std::string::npos);
}

TEST_F(ModuleCatalogTest, ModuleErrorsNameTheFieldPath) {
  const std::pair<const char*, const char*> cases[] = {
      {"name: n\ntarget: {type: echo}\n", "n.yaml: target.address: required for target type 'echo'"},
      {"name: n\ntargets: {e: {type: echo, address: a, repeat: 9}}\n", "n.yaml: targets.e.repeat: must be in 1..3, got 9"},
      {"name: n\ntarget: {type: echo, address: a, repaet: 2}\n",
       "n.yaml: target.repaet: unknown field 'repaet' (did you mean 'repeat'?)"},
      {"name: n\ntarget: {type: echo, address: a, volume: high}\n",
       "n.yaml: target.volume: is set but target.type is 'echo'"},
      {"name: n\ntarget: {type: shout}\n",
       "n.yaml: target.type: must be one of echo, whisper, none or parrot, got \"shout\""},
      {"name: n\nbackend: {local: {slots: 0}}\n", "n.yaml: backend.local.slots: must be in 1..8, got 0"},
      {"name: n\nbackend: {type: kafka}\n", "n.yaml: backend.type: must be one of local, got \"kafka\""},
      {"name: n\ndurable_storage: {dsn: x}\n", "n.yaml: durable_storage.dsn: unknown field 'dsn'"},
  };
  for (const auto& [yaml, message] : cases) {
    auto parsed = Parse(yaml);
    ASSERT_FALSE(parsed.ok()) << yaml;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(parsed.status().message(), message);
  }
}

TEST_F(ModuleCatalogTest, InMemoryConfigsAreValidatedByTheirModule) {
  NamespaceConfig config;
  config.name = "n";
  FillNamespaceDefaults(&config);
  EXPECT_TRUE(ValidateNamespace(config).ok());
  config.target.settings.Mutable<EchoTargetConfig>().repeat = 7;
  Status status = ValidateNamespace(config);
  EXPECT_EQ(status.message(), "target.address: required for target type 'echo'");
  config.target.settings.Mutable<EchoTargetConfig>().address = "a";
  EXPECT_EQ(ValidateNamespace(config).message(), "target.repeat: must be in 1..3, got 7");
}

TEST_F(ModuleCatalogTest, AnUnsetBackendIsTheDefaultOneWithItsDefaults) {
  auto parsed = Parse("name: n\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_FALSE(parsed->backend.settings.empty()) << "the parser fills it, so saved files show it";
  NamespaceConfig expected;
  expected.name = "n";
  FillNamespaceDefaults(&expected);
  EXPECT_EQ(*parsed, expected);
  expected.backend.settings.Mutable<TinyBackendConfig>().slots = 5;
  EXPECT_NE(*parsed, expected);
}

TEST_F(ModuleCatalogTest, NamesAreTakenOnceAndNoneIsReserved) {
  EXPECT_EQ(catalog_.Add(ModuleKind::kTarget, SchemaFor<EchoTargetConfig>()).code(), StatusCode::kAlreadyExists);
  ModuleSchema none = SchemaFor<WhisperTargetConfig>();
  none.type = "None";
  EXPECT_EQ(catalog_.Add(ModuleKind::kTarget, none).code(), StatusCode::kAlreadyExists);
  // Kinds have their own names: a backend and a store may both be "local".
  EXPECT_EQ(catalog_.Types(ModuleKind::kDurableStorage), std::vector<std::string_view>{"local"});
  EXPECT_EQ(catalog_.Types(ModuleKind::kTarget), (std::vector<std::string_view>{"echo", "whisper"}));
  EXPECT_EQ(catalog_.Aliases(ModuleKind::kTarget), std::vector<std::string_view>{"parrot"});
  EXPECT_EQ(catalog_.OtherTypeReading(ModuleKind::kTarget, "echo", "volume"), "whisper");
  EXPECT_EQ(catalog_.OtherTypeReading(ModuleKind::kTarget, "whisper", "volume"), "");
}

}  // namespace
}  // namespace wal::config
