// Unit tests for the operations pieces of the server (issue 7): auth, limits,
// the shard map, metrics, request ids and the config watcher.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "engine/engine.h"
#include "modules/builtin_modules.h"
#include "server/auth.h"
#include "control/directory_namespace_store.h"
#include "server/config_watcher.h"
#include "server/logging.h"
#include "server/metrics.h"
#include "server/request_gate.h"
#include "server/shard_map.h"

namespace wal::server {
namespace {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "wal-server-test-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path + ".tmp");
  out << text;
  out.close();
  std::filesystem::rename(path + ".tmp", path);
}

// An engine over a temp dir with the namespaces given as name -> YAML body.
class EngineFixture : public ::testing::Test {
 protected:
  void Open(const std::map<std::string, std::string>& namespaces) {
    std::filesystem::create_directories(dir_.path() + "/ns");
    for (const auto& [name, yaml] : namespaces) WriteFile(dir_.path() + "/ns/" + name + ".yaml", yaml);
    engine::EngineOptions options{DefaultFileSystem(), dir_.path() + "/data", dir_.path() + "/ns",
                                  engine::Role::kProducer, ""};
    const modules::ModuleRegistry& modules = modules::BuiltinModules();
    options.modules = {&modules.catalog(), &modules, &modules, &modules};
    auto created = engine::Engine::Create(options);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    engine_ = std::move(created).value();
  }
  std::string ns_dir() const { return dir_.path() + "/ns"; }

  TempDir dir_;
  std::unique_ptr<engine::Engine> engine_;
};

TEST(Sha256, KnownVector) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(TokensFile, ParsesAndRejectsPlainSecrets) {
  auto tokens = ParseTokensFile(
      "tokens:\n  - {name: ops, sha256: " + Sha256Hex("s3cret") + ", scopes: [admin], namespaces: ['*']}\n",
      config::Format::kYaml, "tokens.yaml");
  ASSERT_TRUE(tokens.ok()) << tokens.status().message();
  ASSERT_EQ(tokens->size(), 1u);
  EXPECT_EQ(tokens->front().namespaces.front(), "*");
  auto plain = ParseTokensFile("tokens: [{name: a, sha256: s3cret, scopes: [write], namespaces: [x]}]",
                               config::Format::kYaml, "tokens.yaml");
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(plain.status().message().find("s3cret"), std::string::npos) << plain.status().message();
}

class AuthTest : public EngineFixture {};

TEST_F(AuthTest, AllowDenyMatrix) {
  const std::string hash_ns_writer = Sha256Hex("orders-writer");
  Open({{"orders", "name: orders\naccess: {tokens: [{name: w, sha256: " + hash_ns_writer + ", scopes: [write]}]}\n"},
        {"open", "name: open\n"},
        {"other", "name: other\naccess: {tokens: [{name: o, sha256: " + Sha256Hex("other-admin") +
                      ", scopes: [admin]}]}\n"}});
  // Server-wide auth off: only namespaces with tokens need one.
  Authenticator per_namespace;
  EXPECT_TRUE(per_namespace.Check("", "open", Scope::kWrite, *engine_).ok());
  EXPECT_EQ(per_namespace.Check("", "orders", Scope::kWrite, *engine_).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(per_namespace.Check("Basic abc", "orders", Scope::kWrite, *engine_).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(per_namespace.Check("Bearer nope", "orders", Scope::kWrite, *engine_).code(), StatusCode::kUnauthenticated);
  EXPECT_TRUE(per_namespace.Check("Bearer orders-writer", "orders", Scope::kWrite, *engine_).ok());
  EXPECT_EQ(per_namespace.Check("Bearer orders-writer", "orders", Scope::kAdmin, *engine_).code(),
            StatusCode::kPermissionDenied);
  // Known elsewhere, not here: permission, not identity.
  EXPECT_EQ(per_namespace.Check("Bearer other-admin", "orders", Scope::kWrite, *engine_).code(),
            StatusCode::kPermissionDenied);
  EXPECT_TRUE(per_namespace.Check("Bearer other-admin", "other", Scope::kRead, *engine_).ok());

  // Server-wide auth on.
  Authenticator server({{"ops", Sha256Hex("ops"), {"admin", "write"}, {"*"}},
                        {"open-writer", Sha256Hex("open-writer"), {"write"}, {"open"}}});
  EXPECT_EQ(server.Check("", "open", Scope::kWrite, *engine_).code(), StatusCode::kUnauthenticated);
  EXPECT_TRUE(server.Check("Bearer open-writer", "open", Scope::kWrite, *engine_).ok());
  EXPECT_EQ(server.Check("Bearer open-writer", "orders", Scope::kWrite, *engine_).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(server.Check("Bearer open-writer", "", Scope::kRead, *engine_).code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(server.Check("Bearer ops", "", Scope::kRead, *engine_).ok());
  EXPECT_TRUE(server.Check("Bearer ops", "orders", Scope::kAdmin, *engine_).ok());
  EXPECT_TRUE(server.Check("Bearer orders-writer", "orders", Scope::kWrite, *engine_).ok());
  // Messages never carry the token.
  Status refused = server.Check("Bearer open-writer", "orders", Scope::kWrite, *engine_);
  EXPECT_EQ(refused.message().find("open-writer"), std::string::npos) << refused.message();
}

TEST(RateLimiterTest, BucketRefillsAtTheRate) {
  RateLimiter limiter;
  const auto start = RateLimiter::Clock::now();
  EXPECT_TRUE(limiter.Allow("a", 0, 0, start));  // unlimited
  int allowed = 0;
  for (int i = 0; i < 20; ++i) allowed += limiter.Allow("b", 10, 5, start) ? 1 : 0;
  EXPECT_EQ(allowed, 5);  // the burst
  EXPECT_FALSE(limiter.Allow("b", 10, 5, start));
  EXPECT_TRUE(limiter.Allow("b", 10, 5, start + std::chrono::milliseconds(110)));  // 1.1 tokens back
  EXPECT_FALSE(limiter.Allow("b", 10, 5, start + std::chrono::milliseconds(120)));
}

class GateTest : public EngineFixture {};

TEST_F(GateTest, LimitsAndDrainAndShards) {
  Open({{"limited", "name: limited\nlimits: {writes_per_second: 1, burst: 2}\n"},
        {"backlogged", "name: backlogged\nlimits: {max_backlog: 1}\ndelay: {default: 1h}\n"}});
  auto map = ShardMap::Parse(
      "shards:\n  a: {addresses: ['127.0.0.1:1'], namespaces: [limited, backlogged]}\n"
      "  b: {addresses: ['10.0.0.2:7400'], http: ['10.0.0.2:7401'], namespaces: [elsewhere]}\n",
      config::Format::kYaml, "shards.yaml");
  ASSERT_TRUE(map.ok()) << map.status().message();
  RequestGate gate(engine_.get(), nullptr,
                   std::make_shared<Swappable<ShardMap>>(std::make_shared<ShardMap>(std::move(map).value())), "a");
  EXPECT_TRUE(gate.AdmitWrite("", "limited").ok());
  EXPECT_TRUE(gate.AdmitWrite("", "limited").ok());
  Admission limited = gate.AdmitWrite("", "limited");
  EXPECT_EQ(limited.status.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(limited.status.message().find("limits.writes_per_second"), std::string::npos);

  Admission misdirected = gate.AdmitWrite("", "elsewhere");
  EXPECT_EQ(misdirected.status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(misdirected.address, "10.0.0.2:7400");
  EXPECT_EQ(misdirected.http_address, "10.0.0.2:7401");
  EXPECT_EQ(misdirected.shard, "b");
  EXPECT_NE(misdirected.status.message().find("10.0.0.2:7400"), std::string::npos);

  // Two pending entries pass max_backlog 1.
  for (int i = 0; i < 2; ++i) {
    v1::WriteToLogRequest request;
    request.set_namespace_("backlogged");
    request.mutable_payload()->set_opaque("x");
    std::promise<engine::WriteOutcome> done;
    engine_->WriteToLog(request, [&](engine::WriteOutcome outcome) { done.set_value(std::move(outcome)); });
    ASSERT_EQ(done.get_future().get().response.durable(), v1::TRUE);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(150));  // past the backlog sample's age
  Admission backlog = gate.AdmitWrite("", "backlogged");
  EXPECT_EQ(backlog.status.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(backlog.status.message().find("max_backlog"), std::string::npos);

  gate.BeginDrain();
  EXPECT_EQ(gate.AdmitWrite("", "limited").status.code(), StatusCode::kUnavailable);
}

TEST(ShardMapTest, RejectsNamespaceInTwoShards) {
  auto map = ShardMap::Parse("shards: {a: {addresses: ['h:1'], namespaces: [x]}, b: {addresses: ['h:2'], namespaces: [x]}}",
                             config::Format::kYaml, "m.yaml");
  ASSERT_FALSE(map.ok());
  EXPECT_NE(map.status().message().find("already assigned to shard 'a'"), std::string::npos) << map.status().message();
  EXPECT_FALSE(ShardMap::Parse("shards: {a: {namespaces: [x]}}", config::Format::kYaml, "m.yaml").ok());
  EXPECT_FALSE(ShardMap::Parse("shards: {a: {addresses: [nohost]}}", config::Format::kYaml, "m.yaml").ok());
}

class MetricsTest : public EngineFixture {};

TEST_F(MetricsTest, RendersCountersHistogramsAndGauges) {
  Open({{"orders", "name: orders\ndelay: {default: 1h}\n"}});
  Metrics metrics;
  metrics.WriteAnswered("orders", v1::TRUE, std::chrono::milliseconds(2));
  metrics.WriteAnswered("orders", v1::FALSE, std::chrono::milliseconds(3));
  metrics.WriteRejected("", StatusCode::kNotFound);
  metrics.FsyncObserved(std::chrono::microseconds(700), true);
  const std::string text = metrics.Render(*engine_);
  EXPECT_NE(text.find("wal_writes_total{namespace=\"orders\",durable=\"TRUE\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("wal_writes_total{namespace=\"orders\",durable=\"FALSE\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("wal_writes_rejected_total{namespace=\"\",code=\"NOT_FOUND\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("wal_write_latency_seconds_bucket{namespace=\"orders\",le=\"0.0025\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("wal_write_latency_seconds_count{namespace=\"orders\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("wal_log_fsync_seconds_bucket{le=\"0.001\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("wal_namespace_pending{namespace=\"orders\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("wal_namespace_dead_letters{namespace=\"orders\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("wal_deliveries_total{namespace=\"orders\",result=\"delivered\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE wal_write_latency_seconds histogram\n"), std::string::npos);
}

TEST(RequestIds, OfferedIdsAreKeptWhenSane) {
  EXPECT_EQ(RequestIdFrom("abc-123"), "abc-123");
  EXPECT_EQ(RequestIdFrom("").size(), 16u);
  EXPECT_EQ(RequestIdFrom("has \"quotes\"").size(), 16u);
  EXPECT_NE(NewRequestId(), NewRequestId());
  {
    RequestIdScope scope("r1");
    EXPECT_EQ(CurrentRequestId(), "r1");
  }
  EXPECT_EQ(CurrentRequestId(), "");
}

class WatcherTest : public EngineFixture {};

TEST_F(WatcherTest, PicksUpNewChangedAndRemovedFiles) {
  Open({{"orders", "name: orders\n"}});
  auto store = control::DirectoryNamespaceStore::Open(DefaultFileSystem(), ns_dir(), engine_->module_catalog());
  ASSERT_TRUE(store.ok());
  ConfigWatcher watcher(engine_.get(), store->get(), std::chrono::milliseconds(0));
  EXPECT_EQ(watcher.PollOnce(), 0);  // what the engine loaded is already live
  WriteFile(ns_dir() + "/payments.yaml", "name: payments\n");
  EXPECT_EQ(watcher.PollOnce(), 1);
  EXPECT_TRUE(engine_->GetNamespace("payments").ok());
  WriteFile(ns_dir() + "/orders.yaml", "name: orders\nmax_retries: 9\n");
  EXPECT_EQ(watcher.PollOnce(), 1);
  EXPECT_EQ(engine_->GetNamespace("orders")->max_retries, 9);
  WriteFile(ns_dir() + "/orders.yaml", "name: orders\nmax_retries: nine\n");  // bad: ignored
  EXPECT_EQ(watcher.PollOnce(), 0);
  EXPECT_EQ(engine_->GetNamespace("orders")->max_retries, 9);
  std::filesystem::remove(ns_dir() + "/payments.yaml");
  EXPECT_EQ(watcher.PollOnce(), 1);
  EXPECT_FALSE(engine_->GetNamespace("payments").ok());
  // The engine's own saves are seen as no change.
  auto config = engine_->GetNamespace("orders").value();
  config.max_retries = 3;
  ASSERT_TRUE(engine_->ApplyNamespace(config).ok());
  EXPECT_EQ(watcher.PollOnce(), 0);
}

}  // namespace
}  // namespace wal::server
