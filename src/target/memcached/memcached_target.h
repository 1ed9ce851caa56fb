// A memcached (or EVCache-style memcached fleet) target, via libmemcached.
//
// Settings (memcached_config.h): `servers` (required list of host:port;
// keys are spread over them by consistent hashing), `timeout` (duration for
// connect and each reply; default 1s), `key_prefix` (default none),
// `max_item_bytes` (the servers' item size limit, memcached's -I; default 1 MiB).
//
// PUT -> set with the TTL as expiration, DELETE -> delete (a missing key is
// success). The memcached key is [key_prefix][table:][partition_key:]key.
// Opaque payloads have no meaning here and are refused.
//
// Threading: a small pool of connections (clones of one configured handle);
// every method is thread-safe. Connections are made on first use.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "target/memcached/memcached_config.h"
#include "target/target.h"

struct memcached_st;

namespace wal::target {

class MemcachedTarget final : public Target {
 public:
  struct Options : MemcachedTargetConfig {
    // Idle connections kept for reuse; more are opened under load and closed
    // when returned beyond this count.
    size_t max_idle_connections = 8;
    // Unix time in seconds, for TTLs past 30 days (memcached reads those as
    // absolute times). Tests replace it.
    std::function<int64_t()> now_seconds;
  };

  // Longest key memcached accepts.
  static constexpr size_t kMaxKeyBytes = MemcachedTargetConfig::kMaxKeyBytes;
  // TTLs longer than this are sent as absolute unix times (memcached's rule).
  static constexpr int64_t kMaxRelativeExpirationSeconds = 60 * 60 * 24 * 30;
  // What memcached stores beside the value and key in an item (header, CAS,
  // flags, "\r\n"); counted against max_item_bytes so that a payload accepted
  // here is never refused by the server as too large.
  static constexpr uint64_t kItemOverheadBytes = 96;

  // The settings must have passed MemcachedTargetConfig::Validate (decoding
  // does that); nothing here checks them again. Connects on first use.
  static Result<std::unique_ptr<MemcachedTarget>> Create(Options options);
  // Decodes and validates settings JSON (see the file comment), then Create.
  static Result<std::unique_ptr<MemcachedTarget>> FromSettings(std::string_view settings_json);
  // The module: type `memcached`, MemcachedTargetConfig, Create. Registered in src/modules/.
  static TargetModule Module();

  ~MemcachedTarget() override;

  ApplyResult ApplyMutation(const v1::Mutation& mutation, const DeliveryContext& context) override;
  ApplyResult DeliverOpaque(std::string_view payload, const DeliveryContext& context) override;
  Status ValidatePayload(const v1::Payload& payload) const override;
  Status Probe() override;

  // The value stored under the mutation's key layout, for tests and tools.
  Result<std::optional<std::string>> Get(std::string_view table, std::string_view partition_key,
                                         std::string_view key);

  // The expiration memcached should get for a TTL: 0 for none, relative
  // seconds (rounded up) up to 30 days, else an absolute unix time.
  static int64_t ExpirationFor(int64_t ttl_millis, int64_t now_seconds);

 private:
  class ConnectionPool;
  class PooledConnection;

  explicit MemcachedTarget(Options options);
  Status ValidateKeyAndSize(const v1::Mutation& mutation, const std::string& field) const;
  std::string ServerList() const;

  const Options options_;
  std::unique_ptr<ConnectionPool> pool_;
};

}  // namespace wal::target
