#include "engine_fixture.h"

#include <google/protobuf/stubs/logging.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>

#include "modules/builtin_modules.h"
#include "server/auth.h"

namespace wal::fuzz {
namespace {

constexpr const char* kBaseline[] = {
    "name: orders\n"
    "backend: {type: local, local: {segment_bytes: 65536, preallocate: false}}\n"
    "max_payload_bytes: 65536\n",
    "name: secured\n"
    "backend: {type: local, local: {segment_bytes: 65536, preallocate: false}}\n",
};

// Inputs between two resets of the logs. Kept small so the logs stay small: a
// ReadLog of 10,000 entries costs about 50 us per entry in a release build,
// and with ASan on a busy machine one such page took over the 10 s timeout.
constexpr uint64_t kResetEvery = 2000;

[[noreturn]] void Die(const Status& status) {
  std::fprintf(stderr, "fuzz engine fixture: %s\n", status.ToString().c_str());
  std::abort();
}

}  // namespace

bool SafeToApply(const config::NamespaceConfig& config) {
  return config.backend.type() == "local" && config.target.is_none() && config.targets.empty() &&
         config.durable_storage.type() == "local";
}

EngineFixture& EngineFixture::Get() {
  static EngineFixture* fixture = new EngineFixture();  // never destroyed: libFuzzer exits without unwinding
  return *fixture;
}

EngineFixture::EngineFixture() {
  // Millions of refused inputs would otherwise log millions of lines.
  spdlog::set_level(spdlog::level::off);
  google::protobuf::SetLogHandler([](google::protobuf::LogLevel, const char*, int, const std::string&) {});

  const modules::ModuleRegistry& modules = modules::BuiltinModules();
  for (const char* text : kBaseline) {
    auto parsed = config::ParseNamespace(text, config::Format::kYaml, "baseline", modules.catalog());
    if (!parsed.ok()) Die(parsed.status());
    baseline_.push_back(*parsed);
  }
  config::AccessToken token;
  token.name = "fuzz";
  token.sha256 = server::Sha256Hex(kSecuredToken);
  token.scopes = {"write", "read", "admin"};
  baseline_[1].access.tokens.push_back(token);

  engine::EngineOptions options;
  options.file_system = &file_system_;
  options.data_dir = "/data";
  options.namespaces_dir = "/namespaces";
  options.role = engine::Role::kProducer;  // no delivery workers: nothing leaves the process
  // Every module, so fuzzed configs and target overrides decode as in wald;
  // only SafeToApply configs ever open one (the local backend and set store).
  options.modules = {&modules.catalog(), &modules, &modules, &modules};
  auto created = engine::Engine::Create(options);
  if (!created.ok()) Die(created.status());
  engine_ = std::move(created).value();
  gate_ = std::make_unique<server::RequestGate>(engine_.get(), nullptr, nullptr, "");
  shard_maps_ = std::make_unique<server::ShardMapControl>();
  http_ = std::make_unique<server::HttpApi>(engine_.get(), gate_.get(), nullptr, shard_maps_.get());
  ApplyBaseline();
}

void EngineFixture::ApplyBaseline() {
  for (const config::NamespaceConfig& config : baseline_) {
    Status applied = engine_->ApplyNamespace(config);
    if (!applied.ok()) Die(applied);
  }
}

void EngineFixture::Restore() {
  const bool reset = ++inputs_ % kResetEvery == 0;
  bool changed = false;
  for (const std::string& name : engine_->ListNamespaces()) {
    const bool known = name == baseline_[0].name || name == baseline_[1].name;
    if (!known || reset) {
      (void)engine_->DeleteNamespace(name, /*purge_data=*/true);
      changed = true;
    }
  }
  for (const config::NamespaceConfig& config : baseline_) {
    auto current = engine_->GetNamespace(config.name);
    if (changed || !current.ok() || !(*current == config)) {
      Status applied = engine_->ApplyNamespace(config);
      if (!applied.ok()) Die(applied);
    }
  }
}

}  // namespace wal::fuzz
