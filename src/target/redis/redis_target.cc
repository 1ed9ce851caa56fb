#include "target/redis/redis_target.h"

#include <hiredis.h>
#include <sys/time.h>

#include <cerrno>
#include <initializer_list>
#include <mutex>
#include <vector>

#include "target/mutation_util.h"
#include "target/target_settings.h"

namespace wal::target {
namespace {

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

timeval ToTimeval(std::chrono::milliseconds duration) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(duration.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((duration.count() % 1000) * 1000);
  return tv;
}

std::string_view ReplyText(const redisReply& reply) { return std::string_view(reply.str, reply.len); }

}  // namespace

bool RedisTarget::IsRetryableErrorReply(std::string_view error) {
  // The error code is the first word of the reply.
  std::string_view code = error.substr(0, error.find(' '));
  for (std::string_view transient : {"LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "READONLY",
                                     "NOREPLICAS", "OOM", "MISCONF", "NOAUTH"}) {
    if (code == transient) return true;
  }
  return false;
}

// Idle connections for reuse. hiredis contexts are single-threaded, so each
// call borrows one; a connection that failed is freed instead of returned.
class RedisTarget::ConnectionPool {
 public:
  explicit ConnectionPool(size_t max_idle) : max_idle_(max_idle) {}
  ~ConnectionPool() {
    for (redisContext* context : idle_) redisFree(context);
  }

  // An idle connection, or nullptr when the caller must connect.
  redisContext* TakeIdle() {
    std::lock_guard lock(mutex_);
    if (idle_.empty()) return nullptr;
    redisContext* context = idle_.back();
    idle_.pop_back();
    return context;
  }

  void Return(redisContext* context) {
    {
      std::lock_guard lock(mutex_);
      if (idle_.size() < max_idle_) {
        idle_.push_back(context);
        return;
      }
    }
    redisFree(context);
  }

 private:
  std::mutex mutex_;
  const size_t max_idle_;
  std::vector<redisContext*> idle_;
};

// One borrowed connection for the length of a call.
class RedisTarget::Connection {
 public:
  explicit Connection(const RedisTarget& target) : target_(target), context_(target.pool_->TakeIdle()) {}
  ~Connection() {
    if (context_ == nullptr) return;
    if (healthy_) {
      target_.pool_->Return(context_);
    } else {
      redisFree(context_);
    }
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one command. Fails with kUnavailable when the connection could not
  // be made or broke (I/O error, timeout); an error *reply* is a value.
  Result<ReplyPtr> Run(std::initializer_list<std::string_view> args) {
    const bool reused = context_ != nullptr;
    WAL_RETURN_IF_ERROR(EnsureConnected());
    Result<ReplyPtr> reply = RunOnOpenConnection(args);
    // An idle pooled connection may have been closed by the server (restart,
    // idle timeout) while it waited; that says nothing about the server now,
    // so retry once on a fresh connection. Timeouts are not retried: the call
    // must stay bounded by the timeout.
    if (!reply.ok() && reused && closed_by_peer_) {
      redisFree(context_);
      context_ = nullptr;
      healthy_ = true;
      closed_by_peer_ = false;
      WAL_RETURN_IF_ERROR(EnsureConnected());
      reply = RunOnOpenConnection(args);
    }
    return reply;
  }

 private:
  Status EnsureConnected() {
    if (context_ != nullptr) return Status::Ok();
    const Options& options = target_.options_;
    context_ = redisConnectWithTimeout(options.address.host.c_str(), options.address.port,
                                       ToTimeval(options.timeout));
    if (context_ == nullptr) return Unavailable("redis " + target_.AddressText() + ": out of memory connecting");
    if (context_->err != 0) return Broken("connect");
    if (redisSetTimeout(context_, ToTimeval(options.timeout)) != REDIS_OK) return Broken("set timeout");
    if (!options.password.empty()) WAL_RETURN_IF_ERROR(ExpectOk({"AUTH", options.password}, "AUTH"));
    if (options.db != 0) {
      std::string db = std::to_string(options.db);
      WAL_RETURN_IF_ERROR(ExpectOk({"SELECT", db}, "SELECT " + db));
    }
    return Status::Ok();
  }

  // For connection setup: anything but +OK leaves the connection unusable.
  Status ExpectOk(std::initializer_list<std::string_view> args, const std::string& what) {
    WAL_ASSIGN_OR_RETURN(ReplyPtr reply, RunOnOpenConnection(args));
    if (reply->type == REDIS_REPLY_STATUS && ReplyText(*reply) == "OK") return Status::Ok();
    healthy_ = false;
    // Never echo the AUTH arguments; the reply itself holds no secret.
    std::string detail = reply->type == REDIS_REPLY_ERROR ? std::string(ReplyText(*reply)) : "unexpected reply";
    return Unavailable("redis " + target_.AddressText() + ": " + what + " failed: " + detail);
  }

  Result<ReplyPtr> RunOnOpenConnection(std::initializer_list<std::string_view> args) {
    std::vector<const char*> argv;
    std::vector<size_t> lengths;
    for (std::string_view arg : args) {
      argv.push_back(arg.data());
      lengths.push_back(arg.size());
    }
    void* raw = redisCommandArgv(context_, static_cast<int>(argv.size()), argv.data(), lengths.data());
    if (raw == nullptr) {
      const int error_number = errno;
      closed_by_peer_ = context_->err == REDIS_ERR_EOF ||
                        (context_->err == REDIS_ERR_IO && (error_number == ECONNRESET || error_number == EPIPE));
      return Broken(std::string(*args.begin()));
    }
    return ReplyPtr(static_cast<redisReply*>(raw));
  }

  // After an I/O error or timeout the stream position is unknown, so the
  // connection is dropped rather than reused.
  Status Broken(const std::string& what) {
    healthy_ = false;
    std::string reason = context_->errstr[0] != '\0' ? context_->errstr : "connection failed";
    return Unavailable("redis " + target_.AddressText() + ": " + what + ": " + reason);
  }

  const RedisTarget& target_;
  redisContext* context_;
  bool healthy_ = true;
  bool closed_by_peer_ = false;
};

Result<std::unique_ptr<RedisTarget>> RedisTarget::Create(Options options) {
  if (options.max_idle_connections == 0) options.max_idle_connections = 1;
  return std::unique_ptr<RedisTarget>(new RedisTarget(std::move(options)));
}

Result<std::unique_ptr<RedisTarget>> RedisTarget::FromSettings(std::string_view settings_json) {
  return CreateFromSettingsJson<RedisTarget, RedisTargetConfig>(settings_json);
}

TargetModule RedisTarget::Module() {
  return TargetModuleOf<RedisTargetConfig>([](const RedisTargetConfig& settings, const TargetEnvironment&) {
    return Create(OptionsWith<Options>(settings));
  });
}

RedisTarget::RedisTarget(Options options)
    : options_(std::move(options)), pool_(std::make_unique<ConnectionPool>(options_.max_idle_connections)) {}

RedisTarget::~RedisTarget() = default;

std::string RedisTarget::AddressText() const {
  return options_.address.host + ":" + std::to_string(options_.address.port);
}

ApplyResult RedisTarget::ApplyMutation(const v1::Mutation& mutation, const DeliveryContext& /*context*/) {
  if (Status valid = ValidateMutationBasics(mutation, "mutation"); !valid.ok()) {
    return ApplyResult::Permanent(valid.message());
  }
  const std::string key = CacheKey(options_.key_prefix, mutation);
  const bool is_put = mutation.op() == v1::Mutation::PUT;
  Connection connection(*this);
  Result<ReplyPtr> reply = [&]() -> Result<ReplyPtr> {
    if (!is_put) return connection.Run({"DEL", key});  // replies 0 for a missing key: still success
    int64_t ttl = TtlMillis(mutation);
    if (ttl <= 0) return connection.Run({"SET", key, mutation.value()});
    std::string ttl_text = std::to_string(ttl);
    return connection.Run({"SET", key, mutation.value(), "PX", ttl_text});
  }();
  if (!reply.ok()) return ApplyResult::Retryable(reply.status().message());
  const redisReply& result = *reply.value();
  if (result.type != REDIS_REPLY_ERROR) return ApplyResult::Ok();
  std::string reason = "redis " + AddressText() + ": " + (is_put ? "SET" : "DEL") + ": " +
                       Excerpt(ReplyText(result), 200);
  return IsRetryableErrorReply(ReplyText(result)) ? ApplyResult::Retryable(std::move(reason))
                                                  : ApplyResult::Permanent(std::move(reason));
}

ApplyResult RedisTarget::DeliverOpaque(std::string_view /*payload*/, const DeliveryContext& /*context*/) {
  return ApplyResult::Permanent("redis target cannot take opaque payloads; send a mutation");
}

Status RedisTarget::ValidatePayload(const v1::Payload& payload) const {
  return ForEachMutation(
      payload, [](const v1::Mutation& mutation, const std::string& field) { return ValidateMutationBasics(mutation, field); },
      [] { return InvalidArgument("payload.opaque: target type 'redis' takes mutations, not opaque payloads"); });
}

Status RedisTarget::Probe() {
  Connection connection(*this);
  Result<ReplyPtr> reply = connection.Run({"PING"});
  if (!reply.ok()) return Unavailable("redis target " + AddressText() + " is unavailable: " + reply.status().message());
  if (reply.value()->type == REDIS_REPLY_ERROR) {
    return Unavailable("redis target " + AddressText() + " is unavailable: PING: " +
                       Excerpt(ReplyText(*reply.value()), 200));
  }
  return Status::Ok();
}

Result<std::optional<std::string>> RedisTarget::Get(std::string_view table, std::string_view partition_key,
                                                    std::string_view key) {
  v1::Mutation lookup;
  lookup.set_table(std::string(table));
  lookup.set_partition_key(std::string(partition_key));
  lookup.set_key(std::string(key));
  const std::string cache_key = CacheKey(options_.key_prefix, lookup);
  Connection connection(*this);
  WAL_ASSIGN_OR_RETURN(ReplyPtr reply, connection.Run({"GET", cache_key}));
  switch (reply->type) {
    case REDIS_REPLY_NIL: return std::optional<std::string>();
    case REDIS_REPLY_STRING: return std::optional<std::string>(std::string(ReplyText(*reply)));
    case REDIS_REPLY_ERROR: return InvalidArgument("redis GET: " + Excerpt(ReplyText(*reply), 200));
    default: return Internal("redis GET: unexpected reply type " + std::to_string(reply->type));
  }
}

}  // namespace wal::target
