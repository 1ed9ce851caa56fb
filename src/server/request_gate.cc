#include "server/request_gate.h"

#include <algorithm>
#include <cmath>

#include "engine/engine.h"

namespace wal::server {

namespace {

// A backlog at its limit drains at the consumers' pace, which a client cannot
// see: seconds, not the milliseconds a token bucket needs.
constexpr int kBacklogRetryAfterSeconds = 5;

}  // namespace

bool RateLimiter::Allow(const std::string& name, double writes_per_second, uint64_t burst, Clock::time_point now,
                        Clock::duration* wait) {
  if (writes_per_second <= 0) return true;
  const double capacity = burst > 0 ? static_cast<double>(burst) : std::max(1.0, std::ceil(writes_per_second));
  std::lock_guard lock(mutex_);
  auto [found, inserted] = buckets_.try_emplace(name);
  Bucket& bucket = found->second;
  if (inserted || bucket.rate != writes_per_second || bucket.capacity != capacity) {
    // New bucket, or the limits changed: start full under the new limits.
    bucket = Bucket{capacity, writes_per_second, capacity, now};
  }
  const double elapsed = std::chrono::duration<double>(now - bucket.last).count();
  if (elapsed > 0) {
    bucket.tokens = std::min(bucket.capacity, bucket.tokens + elapsed * bucket.rate);
    bucket.last = now;
  }
  if (bucket.tokens < 1.0) {
    if (wait != nullptr) {
      *wait = std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double>((1.0 - bucket.tokens) / bucket.rate));
    }
    return false;
  }
  bucket.tokens -= 1.0;
  return true;
}

RequestGate::RequestGate(engine::Engine* engine, std::shared_ptr<const Swappable<Authenticator>> authenticator,
                         std::shared_ptr<const Swappable<ShardMap>> shard_map, std::string shard)
    : engine_(engine),
      authenticator_(std::move(authenticator)),
      shard_map_(std::move(shard_map)),
      shard_(std::move(shard)) {}

Admission RequestGate::CheckShard(const std::string& name) const {
  if (!shard_map_ || name.empty()) return {};
  const std::shared_ptr<const ShardMap> map = shard_map_->Get();
  if (!map) return {};
  const Shard* owner = map->ShardOf(name);
  if (owner == nullptr || owner->name == shard_) return {};
  Admission refusal;
  refusal.shard = owner->name;
  refusal.address = owner->addresses.front();
  if (!owner->http.empty()) refusal.http_address = owner->http.front();
  refusal.status = FailedPrecondition("namespace " + name + " is served by shard " + owner->name + " at " +
                                      refusal.address + ", not by this instance (shard " + shard_ + ")");
  return refusal;
}

Admission RequestGate::Admit(std::string_view authorization, const std::string& name, Scope scope) {
  Admission shard = CheckShard(name);
  if (!shard.ok()) return shard;
  // No tokens file: only namespaces' own tokens apply.
  static const Authenticator kNoServerTokens;
  const std::shared_ptr<const Authenticator> authenticator = authenticator_ ? authenticator_->Get() : nullptr;
  engine::NamespaceView view = name.empty() ? engine::NamespaceView{} : engine_->View(name);
  Admission admission{
      (authenticator ? *authenticator : kNoServerTokens).Check(authorization, name, scope, view.config(), *engine_)};
  admission.view = std::move(view);
  return admission;
}

Admission RequestGate::AdmitWrite(std::string_view authorization, const std::string& name) {
  if (draining()) return Admission{Unavailable("wald is shutting down and takes no new writes; retry")};
  Admission admitted = Admit(authorization, name, Scope::kWrite);
  if (!admitted.ok()) return admitted;
  CheckLimits(name, &admitted);
  return admitted;
}

void RequestGate::CheckLimits(const std::string& name, Admission* admitted) {
  const engine::NamespaceView& view = admitted->view;
  if (!view.served()) return;  // the engine reports the unknown namespace
  const config::LimitsConfig& limits = view.config()->limits;
  RateLimiter::Clock::duration wait{};
  if (!rate_limiter_.Allow(name, limits.writes_per_second, limits.burst, RateLimiter::Clock::now(), &wait)) {
    char rate[32];
    std::snprintf(rate, sizeof(rate), "%g", limits.writes_per_second);
    admitted->status = ResourceExhausted("namespace " + name + " is over its write rate limit (" + rate +
                                         " writes/s, limits.writes_per_second); retry with backoff");
    // Whole seconds, rounded up, and at least one: Retry-After has no finer unit.
    const double seconds = std::ceil(std::chrono::duration<double>(wait).count());
    admitted->retry_after_seconds = static_cast<int>(std::clamp(seconds, 1.0, 86400.0));
    return;
  }
  if (limits.max_backlog > 0) {
    const auto now = std::chrono::steady_clock::now();
    uint64_t pending = 0;
    {
      std::lock_guard lock(backlog_mutex_);
      BacklogSample& sample = backlog_[name];
      if (now - sample.taken > std::chrono::milliseconds(100)) {
        sample.pending = view.runtime->backend().Pending();
        sample.taken = now;
      }
      pending = sample.pending;
    }
    if (pending >= limits.max_backlog) {
      admitted->status = ResourceExhausted("namespace " + name + " has a backlog of " + std::to_string(pending) +
                                           " pending entries, at or over limits.max_backlog (" +
                                           std::to_string(limits.max_backlog) + "); consumers are behind, retry later");
      admitted->retry_after_seconds = kBacklogRetryAfterSeconds;
    }
  }
}

}  // namespace wal::server
