// A Redis target, via hiredis.
//
// Settings (redis_config.h): `address` (required host:port), `password`
// (AUTH; default none), `db` (SELECT; default 0), `timeout` (duration for
// connect and each command; default 1s), `key_prefix` (default none).
//
// PUT -> SET key value [PX ttl_ms], DELETE -> DEL (deleting a missing key
// succeeds). The Redis key is [key_prefix][table:][partition_key:]key.
// Opaque payloads have no meaning here and are refused.
//
// Failures: connection errors, timeouts and the transient server replies
// (LOADING, BUSY, MASTERDOWN, READONLY, OOM, ...) are retryable; any other
// error reply (WRONGTYPE, ERR ...) is permanent. A connection that saw an I/O
// error or timeout is dropped and the next call reconnects.
//
// Threading: a small pool of connections; every method is thread-safe.
// Connections are made on first use.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "target/redis/redis_config.h"
#include "target/target.h"

namespace wal::target {

class RedisTarget final : public Target {
 public:
  struct Options : RedisTargetConfig {
    size_t max_idle_connections = 8;
  };

  // The settings must have passed RedisTargetConfig::Validate (decoding does
  // that); nothing here checks them again. Connects on first use.
  static Result<std::unique_ptr<RedisTarget>> Create(Options options);
  // Decodes and validates settings JSON (see the file comment), then Create.
  static Result<std::unique_ptr<RedisTarget>> FromSettings(std::string_view settings_json);
  // The module: type `redis`, RedisTargetConfig, Create. Registered in src/modules/.
  static TargetModule Module();

  ~RedisTarget() override;

  ApplyResult ApplyMutation(const v1::Mutation& mutation, const DeliveryContext& context) override;
  ApplyResult DeliverOpaque(std::string_view payload, const DeliveryContext& context) override;
  Status ValidatePayload(const v1::Payload& payload) const override;
  Status Probe() override;

  // The value stored under the mutation's key layout, for tests and tools.
  Result<std::optional<std::string>> Get(std::string_view table, std::string_view partition_key,
                                         std::string_view key);

  // True when an error reply (e.g. "LOADING Redis is loading...") reports a
  // passing server condition rather than a bad command.
  static bool IsRetryableErrorReply(std::string_view error);

 private:
  class ConnectionPool;
  class Connection;

  explicit RedisTarget(Options options);
  std::string AddressText() const;

  const Options options_;
  std::unique_ptr<ConnectionPool> pool_;
};

}  // namespace wal::target
