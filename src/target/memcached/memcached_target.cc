#include "target/memcached/memcached_target.h"

#include <libmemcached/memcached.h>

#include <cstdlib>
#include <ctime>

#include "target/mutation_util.h"
#include "target/target_settings.h"

namespace wal::target {
namespace {

int64_t SystemNowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// memcached's text protocol ends a key at whitespace and forbids control bytes.
bool IsValidKeyByte(unsigned char byte) { return byte > 0x20 && byte != 0x7f; }

// Results that the same input would get again; the rest (connection and
// timeout failures, server errors, out of memory) may pass.
bool IsPermanentFailure(memcached_return_t rc) {
  switch (rc) {
    case MEMCACHED_E2BIG:
    case MEMCACHED_BAD_KEY_PROVIDED:
    case MEMCACHED_KEY_TOO_BIG:
    case MEMCACHED_CLIENT_ERROR:
    case MEMCACHED_INVALID_ARGUMENTS:
      return true;
    default:
      return false;
  }
}

}  // namespace

// Clones of one configured handle: libmemcached handles are not thread-safe,
// but clones share nothing, so each worker borrows its own.
class MemcachedTarget::ConnectionPool {
 public:
  ConnectionPool(memcached_st* configured, size_t max_idle) : configured_(configured), max_idle_(max_idle) {}

  ~ConnectionPool() {
    for (memcached_st* handle : idle_) memcached_free(handle);
    memcached_free(configured_);
  }

  // `reused` says whether the handle sat idle in the pool (and so may hold a
  // connection the server has since closed).
  memcached_st* Acquire(bool* reused) {
    std::lock_guard lock(mutex_);
    *reused = !idle_.empty();
    if (!idle_.empty()) {
      memcached_st* handle = idle_.back();
      idle_.pop_back();
      return handle;
    }
    return memcached_clone(nullptr, configured_);  // nullptr only when out of memory
  }

  // A new handle with no connection state, bypassing the idle list.
  memcached_st* CloneFresh() {
    std::lock_guard lock(mutex_);  // clones read the configured handle
    return memcached_clone(nullptr, configured_);
  }

  // A handle that failed goes away: a fresh clone starts with fresh server
  // state, so a restarted server is used again at once instead of after
  // libmemcached's own retry and dead-server timers.
  void Release(memcached_st* handle, bool healthy) {
    {
      std::lock_guard lock(mutex_);
      if (healthy && idle_.size() < max_idle_) {
        idle_.push_back(handle);
        return;
      }
    }
    memcached_free(handle);
  }

 private:
  std::mutex mutex_;
  memcached_st* const configured_;
  const size_t max_idle_;
  std::vector<memcached_st*> idle_;
};

// Borrows a handle for one call and gives it back on scope exit.
class MemcachedTarget::PooledConnection {
 public:
  explicit PooledConnection(ConnectionPool* pool) : pool_(pool), handle_(pool->Acquire(&reused_)) {}
  ~PooledConnection() {
    if (handle_ != nullptr) pool_->Release(handle_, healthy_);
  }
  PooledConnection(const PooledConnection&) = delete;
  PooledConnection& operator=(const PooledConnection&) = delete;

  memcached_st* get() const { return handle_; }
  void MarkBroken() { healthy_ = false; }

  // Runs `operation` and, when a pooled handle failed because its connection
  // had gone stale (the server restarted while it sat idle), runs it once
  // more on a fresh handle. Only for idempotent operations; timeouts are not
  // retried, so the call stays bounded by the timeout.
  template <typename Operation>
  memcached_return_t RunWithStaleRetry(const Operation& operation) {
    memcached_return_t rc = operation(handle_);
    if (!reused_ || !IsStaleConnectionFailure(rc)) return rc;
    memcached_free(handle_);
    handle_ = pool_->CloneFresh();
    reused_ = false;
    if (handle_ == nullptr) return MEMCACHED_MEMORY_ALLOCATION_FAILURE;
    return operation(handle_);
  }

  // libmemcached's message for the last failure (names the server).
  std::string LastError(memcached_return_t rc) const {
    if (handle_ == nullptr) return memcached_strerror(nullptr, rc);
    const char* message = memcached_last_error_message(handle_);
    return message != nullptr && *message != '\0' ? message : memcached_strerror(handle_, rc);
  }

 private:
  static bool IsStaleConnectionFailure(memcached_return_t rc) {
    switch (rc) {
      case MEMCACHED_CONNECTION_FAILURE:
      case MEMCACHED_WRITE_FAILURE:
      case MEMCACHED_READ_FAILURE:
      case MEMCACHED_UNKNOWN_READ_FAILURE:
      case MEMCACHED_ERRNO:
      case MEMCACHED_SERVER_MARKED_DEAD:
      case MEMCACHED_SERVER_TEMPORARILY_DISABLED:
        return true;
      default:
        return false;
    }
  }

  ConnectionPool* pool_;
  bool reused_ = false;
  memcached_st* handle_;
  bool healthy_ = true;
};

Result<std::unique_ptr<MemcachedTarget>> MemcachedTarget::Create(Options options) {
  if (options.max_idle_connections == 0) options.max_idle_connections = 1;
  if (!options.now_seconds) options.now_seconds = SystemNowSeconds;
  return std::unique_ptr<MemcachedTarget>(new MemcachedTarget(std::move(options)));
}

Result<std::unique_ptr<MemcachedTarget>> MemcachedTarget::FromSettings(std::string_view settings_json) {
  return CreateFromSettingsJson<MemcachedTarget, MemcachedTargetConfig>(settings_json);
}

TargetModule MemcachedTarget::Module() {
  return TargetModuleOf<MemcachedTargetConfig>([](const MemcachedTargetConfig& settings, const TargetEnvironment&) {
    return Create(OptionsWith<Options>(settings));
  });
}

MemcachedTarget::MemcachedTarget(Options options) : options_(std::move(options)) {
  memcached_st* configured = memcached_create(nullptr);
  const uint64_t timeout_ms = static_cast<uint64_t>(options_.timeout.count());
  // Non-blocking I/O is what makes the connect and poll timeouts apply.
  memcached_behavior_set(configured, MEMCACHED_BEHAVIOR_NO_BLOCK, 1);
  memcached_behavior_set(configured, MEMCACHED_BEHAVIOR_TCP_NODELAY, 1);
  memcached_behavior_set(configured, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, timeout_ms);
  memcached_behavior_set(configured, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, timeout_ms);
  // Ketama: adding or losing a server remaps only its share of the keys.
  memcached_behavior_set(configured, MEMCACHED_BEHAVIOR_DISTRIBUTION, MEMCACHED_DISTRIBUTION_CONSISTENT_KETAMA);
  // Never skip a down server for another: the key belongs on its own server,
  // and the engine's backoff, not the client, decides when to try again.
  memcached_behavior_set(configured, MEMCACHED_BEHAVIOR_AUTO_EJECT_HOSTS, 0);
  memcached_behavior_set(configured, MEMCACHED_BEHAVIOR_RETRY_TIMEOUT, 1);
  for (const HostPort& server : options_.servers) {
    // Only records the address; the connection is made on first use.
    memcached_server_add(configured, server.host.c_str(), server.port);
  }
  pool_ = std::make_unique<ConnectionPool>(configured, options_.max_idle_connections);
}

MemcachedTarget::~MemcachedTarget() = default;

std::string MemcachedTarget::ServerList() const {
  std::string list;
  for (const HostPort& server : options_.servers) {
    list += (list.empty() ? "" : ",") + server.host + ":" + std::to_string(server.port);
  }
  return list;
}

int64_t MemcachedTarget::ExpirationFor(int64_t ttl_millis, int64_t now_seconds) {
  if (ttl_millis <= 0) return 0;
  int64_t seconds = (ttl_millis + 999) / 1000;  // never round a TTL down to "no expiry"
  return seconds > kMaxRelativeExpirationSeconds ? now_seconds + seconds : seconds;
}

Status MemcachedTarget::ValidateKeyAndSize(const v1::Mutation& mutation, const std::string& field) const {
  WAL_RETURN_IF_ERROR(ValidateMutationBasics(mutation, field));
  const std::string key = CacheKey(options_.key_prefix, mutation);
  if (mutation.key().empty()) return InvalidArgument(field + ".key: must not be empty for memcached");
  if (key.size() > kMaxKeyBytes) {
    return InvalidArgument(field + ".key: the memcached key [key_prefix][table:][partition_key:]key is " +
                           std::to_string(key.size()) + " bytes, over memcached's limit of " +
                           std::to_string(kMaxKeyBytes));
  }
  // Blame the part of the key that holds the bad byte.
  auto check_part = [&](const std::string& part, const char* name) -> Status {
    for (char c : part) {
      if (!IsValidKeyByte(static_cast<unsigned char>(c))) {
        return InvalidArgument(field + "." + name + ": memcached keys cannot contain whitespace or control characters");
      }
    }
    return Status::Ok();
  };
  WAL_RETURN_IF_ERROR(check_part(mutation.table(), "table"));
  WAL_RETURN_IF_ERROR(check_part(mutation.partition_key(), "partition_key"));
  WAL_RETURN_IF_ERROR(check_part(mutation.key(), "key"));
  if (mutation.op() == v1::Mutation::PUT) {
    uint64_t item_bytes = mutation.value().size() + key.size() + kItemOverheadBytes;
    if (item_bytes > options_.max_item_bytes) {
      return InvalidArgument(field + ".value: " + std::to_string(mutation.value().size()) +
                             " bytes (with key and item overhead " + std::to_string(item_bytes) +
                             ") exceed memcached's item size limit of " + std::to_string(options_.max_item_bytes) +
                             " bytes (target.max_item_bytes)");
    }
  }
  return Status::Ok();
}

ApplyResult MemcachedTarget::ApplyMutation(const v1::Mutation& mutation, const DeliveryContext& /*context*/) {
  if (Status valid = ValidateKeyAndSize(mutation, "mutation"); !valid.ok()) {
    return ApplyResult::Permanent(valid.message());
  }
  const std::string key = CacheKey(options_.key_prefix, mutation);
  const bool is_put = mutation.op() == v1::Mutation::PUT;
  PooledConnection connection(pool_.get());
  if (connection.get() == nullptr) return ApplyResult::Retryable("memcached: out of memory creating a connection");

  const int64_t expiration = is_put ? ExpirationFor(TtlMillis(mutation), options_.now_seconds()) : 0;
  memcached_return_t rc = connection.RunWithStaleRetry([&](memcached_st* handle) {
    if (is_put) {
      return memcached_set(handle, key.data(), key.size(), mutation.value().data(), mutation.value().size(),
                           static_cast<time_t>(expiration), /*flags=*/0);
    }
    return memcached_delete(handle, key.data(), key.size(), /*expiration=*/0);
  });
  if (memcached_success(rc)) return ApplyResult::Ok();
  if (!is_put && rc == MEMCACHED_NOTFOUND) return ApplyResult::Ok();  // already gone: deletes are idempotent

  connection.MarkBroken();
  std::string reason = std::string("memcached ") + (is_put ? "set" : "delete") + " on " + ServerList() + ": " +
                       connection.LastError(rc);
  return IsPermanentFailure(rc) ? ApplyResult::Permanent(std::move(reason)) : ApplyResult::Retryable(std::move(reason));
}

ApplyResult MemcachedTarget::DeliverOpaque(std::string_view /*payload*/, const DeliveryContext& /*context*/) {
  return ApplyResult::Permanent("memcached target cannot take opaque payloads; send a mutation");
}

Status MemcachedTarget::ValidatePayload(const v1::Payload& payload) const {
  return ForEachMutation(
      payload,
      [this](const v1::Mutation& mutation, const std::string& field) { return ValidateKeyAndSize(mutation, field); },
      [] { return InvalidArgument("payload.opaque: target type 'memcached' takes mutations, not opaque payloads"); });
}

Status MemcachedTarget::Probe() {
  PooledConnection connection(pool_.get());
  if (connection.get() == nullptr) return Unavailable("memcached: out of memory creating a connection");
  // "version" goes to every server, so one down server fails the probe.
  memcached_return_t rc = connection.RunWithStaleRetry([](memcached_st* handle) { return memcached_version(handle); });
  if (memcached_success(rc)) return Status::Ok();
  connection.MarkBroken();
  return Unavailable("memcached target " + ServerList() + " is unavailable: " + connection.LastError(rc));
}

Result<std::optional<std::string>> MemcachedTarget::Get(std::string_view table, std::string_view partition_key,
                                                        std::string_view key) {
  v1::Mutation lookup;
  lookup.set_table(std::string(table));
  lookup.set_partition_key(std::string(partition_key));
  lookup.set_key(std::string(key));
  const std::string cache_key = CacheKey(options_.key_prefix, lookup);
  PooledConnection connection(pool_.get());
  if (connection.get() == nullptr) return Unavailable("memcached: out of memory creating a connection");
  size_t value_length = 0;
  uint32_t flags = 0;
  char* value = nullptr;
  memcached_return_t rc = connection.RunWithStaleRetry([&](memcached_st* handle) {
    memcached_return_t get_rc;
    value = memcached_get(handle, cache_key.data(), cache_key.size(), &value_length, &flags, &get_rc);
    return get_rc;
  });
  if (value != nullptr) {
    std::string copy(value, value_length);
    free(value);  // allocated by libmemcached with malloc
    return std::optional<std::string>(std::move(copy));
  }
  if (rc == MEMCACHED_NOTFOUND) return std::optional<std::string>();
  if (memcached_success(rc)) return std::optional<std::string>(std::string());  // an empty value
  connection.MarkBroken();
  return Unavailable("memcached get on " + ServerList() + ": " + connection.LastError(rc));
}

}  // namespace wal::target
