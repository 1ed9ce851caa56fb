// A live engine for the fuzz targets that drive requests through it: the
// embedded log on an in-memory file system, a request gate, and the HTTP API
// in front. Built once per fuzzing process; Restore() after each input puts the
// namespaces back the way they started, so one input's admin calls do not
// change what the next one sees.
//
// Only configs that stay inside the process are ever applied (SafeToApply):
// a fuzzed namespace could otherwise name a Kafka broker, an SQS endpoint, a
// SQLite file anywhere on disk or a target to connect to. Others are parsed
// and validated but not applied.
#pragma once

#include <memory>

#include "config/config.h"
#include "engine/engine.h"
#include "memory_file_system.h"
#include "server/http_api.h"
#include "server/request_gate.h"
#include "server/shard_map_control.h"

namespace wal::fuzz {

// Namespaces the fixture serves: "orders" (open) and "secured" (needs the
// bearer token kSecuredToken).
inline constexpr const char* kSecuredToken = "fuzz-token";

bool SafeToApply(const config::NamespaceConfig& config);

class EngineFixture {
 public:
  // The process-wide fixture; aborts if the engine cannot start.
  static EngineFixture& Get();

  engine::Engine& engine() { return *engine_; }
  server::RequestGate& gate() { return *gate_; }
  server::ShardMapControl& shard_maps() { return *shard_maps_; }
  server::HttpApi& http() { return *http_; }

  // Undoes what the last input did to the namespaces; every few thousand
  // inputs also empties the logs, so memory stays bounded over long runs.
  void Restore();

 private:
  EngineFixture();
  void ApplyBaseline();

  MemoryFileSystem file_system_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<server::RequestGate> gate_;
  std::unique_ptr<server::ShardMapControl> shard_maps_;
  std::unique_ptr<server::HttpApi> http_;
  std::vector<config::NamespaceConfig> baseline_;
  uint64_t inputs_ = 0;
};

}  // namespace wal::fuzz
