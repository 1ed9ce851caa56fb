// The request gate over a tokens file and a shard map that change on disk:
// edits apply live, a bad or deleted file keeps what was loaded.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "engine/engine.h"
#include "modules/builtin_modules.h"
#include "server/auth.h"
#include "server/file_reloader.h"
#include "server/request_gate.h"
#include "server/server_test_support.h"
#include "server/shard_map.h"
#include "server/swappable.h"

namespace wal::server {
namespace {

using testing::CapturedLog;
using testing::Overwrite;
using testing::TempDir;
using testing::WriteFile;

class RequestGateReloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_.path() + "/ns");
    for (const char* name : {"orders", "payments"}) {
      Overwrite(dir_.path() + "/ns/" + name + ".yaml", std::string("name: ") + name + "\n");
    }
    engine::EngineOptions options{DefaultFileSystem(), dir_.path() + "/data", dir_.path() + "/ns",
                                  engine::Role::kProducer, ""};
    const modules::ModuleRegistry& modules = modules::BuiltinModules();
    options.modules = {&modules.catalog(), &modules, &modules, &modules};
    auto created = engine::Engine::Create(options);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    engine_ = std::move(created).value();
  }
  void TearDown() override {
    if (engine_) engine_->Shutdown();
  }

  static std::string Tokens(const std::string& token) {
    return "tokens:\n  - {name: app, sha256: " + Sha256Hex(token) + ", scopes: [write], namespaces: ['*']}\n";
  }

  TempDir dir_;
  std::unique_ptr<engine::Engine> engine_;
};

TEST_F(RequestGateReloadTest, RotatedTokensApplyAndABadOrDeletedFileKeepsThem) {
  CapturedLog log;
  const std::string path = dir_.path() + "/tokens.yaml";
  Overwrite(path, Tokens("old-token"));
  auto holder = std::make_shared<Swappable<Authenticator>>();
  auto reloader = NewTokensFileReloader(DefaultFileSystem(), path, std::chrono::milliseconds(0), holder);
  ASSERT_TRUE(reloader->Load().ok());
  RequestGate gate(engine_.get(), holder, nullptr, "");
  EXPECT_TRUE(gate.AdmitWrite("Bearer old-token", "orders").ok());

  WriteFile(path, Tokens("new-token"));
  EXPECT_EQ(reloader->PollOnce(), ReloadOutcome::kApplied);
  EXPECT_EQ(gate.AdmitWrite("Bearer old-token", "orders").status.code(), StatusCode::kUnauthenticated);
  EXPECT_TRUE(gate.AdmitWrite("Bearer new-token", "orders").ok());

  // Broken, emptied, deleted: the new token keeps working and auth stays on.
  for (const std::string bad : {"tokens: [{name: x, sha256: nothex, scopes: [write], namespaces: ['*']}]\n",
                                "tokens: []\n", "tokens: [\n", ""}) {
    SCOPED_TRACE("tokens file: '" + bad + "'");
    if (bad.empty()) {
      std::filesystem::remove(path);
      EXPECT_EQ(reloader->PollOnce(), ReloadOutcome::kUnreadable);
    } else {
      WriteFile(path, bad);
      EXPECT_EQ(reloader->PollOnce(), ReloadOutcome::kRefused);
    }
    EXPECT_TRUE(gate.AdmitWrite("Bearer new-token", "orders").ok());
    EXPECT_EQ(gate.AdmitWrite("", "orders").status.code(), StatusCode::kUnauthenticated);
    EXPECT_EQ(gate.AdmitWrite("Bearer old-token", "orders").status.code(), StatusCode::kUnauthenticated);
  }
  EXPECT_EQ(log.Count("error auth.tokens_file: not reloaded"), 4) << log.text();
  EXPECT_EQ(log.Count("info auth.tokens_file: reloaded from " + path + ": 1 tokens"), 1) << log.text();
  for (const std::string& secret : {Sha256Hex("old-token"), Sha256Hex("new-token"), std::string("nothex")}) {
    EXPECT_EQ(log.text().find(secret), std::string::npos) << log.text();
  }
}

TEST_F(RequestGateReloadTest, EditedShardMapRedirectsAndABadMapKeepsTheOldOne) {
  CapturedLog log;
  const std::string path = dir_.path() + "/shards.yaml";
  auto map = [](const std::string& a_namespaces, const std::string& b_namespaces) {
    return "shards:\n  a: {addresses: ['10.0.0.1:7400'], namespaces: [" + a_namespaces +
           "]}\n  b: {addresses: ['10.0.0.2:7400'], http: ['10.0.0.2:7401'], namespaces: [" + b_namespaces + "]}\n";
  };
  Overwrite(path, map("orders, payments", ""));
  auto holder = std::make_shared<Swappable<ShardMap>>();
  auto reloader = NewShardMapReloader(DefaultFileSystem(), path, "a", std::chrono::milliseconds(0), holder);
  ASSERT_TRUE(reloader->Load().ok());
  RequestGate gate(engine_.get(), nullptr, holder, "a");
  EXPECT_TRUE(gate.AdmitWrite("", "orders").ok());

  WriteFile(path, map("payments", "orders"));
  EXPECT_EQ(reloader->PollOnce(), ReloadOutcome::kApplied);
  Admission moved = gate.AdmitWrite("", "orders");
  EXPECT_TRUE(moved.misdirected());
  EXPECT_EQ(moved.address, "10.0.0.2:7400");
  EXPECT_EQ(moved.http_address, "10.0.0.2:7401");
  EXPECT_TRUE(gate.AdmitWrite("", "payments").ok());

  // A map without this instance's shard, and one that does not parse.
  WriteFile(path, "shards:\n  b: {addresses: ['10.0.0.2:7400'], namespaces: [orders, payments]}\n");
  EXPECT_EQ(reloader->PollOnce(), ReloadOutcome::kRefused);
  WriteFile(path, "shards: {a: {addresses: ['h:1'], namespaces: [x]}, b: {addresses: ['h:2'], namespaces: [x]}}\n");
  EXPECT_EQ(reloader->PollOnce(), ReloadOutcome::kRefused);
  EXPECT_TRUE(gate.AdmitWrite("", "orders").misdirected());
  EXPECT_TRUE(gate.AdmitWrite("", "payments").ok());
  EXPECT_NE(log.text().find("shard: 'a' is not in the shard map " + path), std::string::npos) << log.text();
  EXPECT_NE(log.text().find("already assigned to shard 'a'"), std::string::npos) << log.text();

  // Start-up refuses the same map outright.
  auto fresh = NewShardMapReloader(DefaultFileSystem(), path, "c", std::chrono::milliseconds(0),
                                   std::make_shared<Swappable<ShardMap>>());
  EXPECT_FALSE(fresh->Load().ok());
}

}  // namespace
}  // namespace wal::server
