// What every API call passes before it reaches the engine: shard
// routing, authentication and authorization, per-namespace limits, and the
// shutdown drain. Shared by the gRPC and HTTP front ends so both answer alike.
//
// Order: draining (writes) -> shard -> token -> rate -> backlog.
//
// The tokens and the shard map in force are read on every call through
// Swappables that wald's file reloaders replace (server/file_reloader.h), so an
// edited tokens file or shard map applies from the next call on; a call in
// progress keeps the version it started with.
//
// Threading: thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/status.h"
#include "engine/engine.h"
#include "server/auth.h"
#include "server/shard_map.h"
#include "server/swappable.h"

namespace wal::server {

// The gate's answer: a refusal (for a namespace of another shard, with where
// to go instead), or admitted with the namespace as the call saw it.
struct Admission {
  Admission() = default;
  Admission(Status refusal) : status(std::move(refusal)) {}  // NOLINT: implicit by design
  Status status;
  std::string shard;         // the namespace's shard (misdirected calls only)
  std::string address;       // its first gRPC address
  std::string http_address;  // its first HTTP address, if the map lists one
  // The namespace looked up once for the whole call (engine.h): what auth and
  // the limits checked, and what the write and the metrics then use. Not
  // served (empty) for cluster-wide calls and misdirected ones.
  engine::NamespaceView view;
  // For a refusal worth retrying (a limit, a drain): the seconds to wait
  // first, as HTTP's Retry-After carries them; 0 = no figure of the gate's own.
  int retry_after_seconds = 0;
  bool ok() const { return status.ok(); }
  bool misdirected() const { return !address.empty(); }
};

// gRPC trailing metadata key carrying the right shard's address.
inline constexpr const char* kShardAddressKey = "wal-shard-address";

// Per-namespace token bucket; thread-safe.
class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  // True when a write may go now under `writes_per_second`/`burst` (0 rate = unlimited).
  // When it may not and `wait` is set, *wait is how long until the bucket
  // holds a write again.
  bool Allow(const std::string& name, double writes_per_second, uint64_t burst, Clock::time_point now = Clock::now(),
             Clock::duration* wait = nullptr);

 private:
  struct Bucket {
    double tokens = 0;
    double rate = 0;
    double capacity = 0;
    Clock::time_point last;
  };
  std::mutex mutex_;
  std::map<std::string, Bucket> buckets_;
};

class RequestGate {
 public:
  // `authenticator`: the server-wide tokens (null, or holding null: server-wide
  // auth off). `shard_map`: null for no sharding; else it must hold a map that
  // lists `shard`, this instance's shard, whenever it is replaced. The holders
  // are shared with whoever replaces their contents.
  RequestGate(engine::Engine* engine, std::shared_ptr<const Swappable<Authenticator>> authenticator,
              std::shared_ptr<const Swappable<ShardMap>> shard_map, std::string shard);

  // Any call on `name` ("" = cluster-wide) needing `scope`.
  Admission Admit(std::string_view authorization, const std::string& name, Scope scope);
  // A write: Admit(kWrite) plus the drain and the namespace's limits.
  Admission AdmitWrite(std::string_view authorization, const std::string& name);

  // After this every write is refused with UNAVAILABLE (graceful shutdown).
  void BeginDrain() { draining_.store(true); }
  bool draining() const { return draining_.load(); }

 private:
  Admission CheckShard(const std::string& name) const;
  // Sets admitted->status (and its retry_after_seconds) when a limit refuses the write.
  void CheckLimits(const std::string& name, Admission* admitted);

  engine::Engine* engine_;
  std::shared_ptr<const Swappable<Authenticator>> authenticator_;
  std::shared_ptr<const Swappable<ShardMap>> shard_map_;
  std::string shard_;
  std::atomic<bool> draining_{false};
  RateLimiter rate_limiter_;

  // The backlog is read from the backend at most every 100 ms per namespace.
  struct BacklogSample {
    uint64_t pending = 0;
    std::chrono::steady_clock::time_point taken;
  };
  std::mutex backlog_mutex_;
  std::map<std::string, BacklogSample> backlog_;
};

}  // namespace wal::server
