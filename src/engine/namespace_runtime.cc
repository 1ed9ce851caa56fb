#include "engine/namespace_runtime.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <optional>
#include <nlohmann/json.hpp>
#include <random>

#include "common/log_context.h"
#include "engine/payload_apply.h"
#include "engine/retry_policy.h"

namespace wal::engine {

using google::protobuf::util::TimeUtil;

namespace {

constexpr size_t kMaxCachedOverrideTargets = 64;

std::mt19937_64& WorkerRandom() {
  thread_local std::mt19937_64 random(std::random_device{}());
  return random;
}

// Waits for the asynchronous retirements of one batch.
class RetireLatch {
 public:
  void Add() {
    std::lock_guard lock(mutex_);
    ++outstanding_;
  }
  void Done() {
    std::lock_guard lock(mutex_);
    if (--outstanding_ == 0) done_.notify_all();
  }
  // Waits for every retirement, but once `stopping` is set gives up after
  // `grace`: a backend whose broker is gone may not answer for minutes, and
  // shutdown must not wait for it. An abandoned retirement is safe: the entry
  // was not retired, so it is handed out again (at least once), and its
  // callback, which still holds this latch, runs when the backend closes.
  void Wait(const std::atomic<bool>& stopping, std::chrono::milliseconds grace) {
    std::unique_lock lock(mutex_);
    while (outstanding_ != 0) {
      if (stopping.load()) {
        if (!done_.wait_for(lock, grace, [this] { return outstanding_ == 0; })) {
          spdlog::warn("shutting down with {} retirement(s) unanswered; those entries will be delivered again",
                       outstanding_);
        }
        return;
      }
      done_.wait_for(lock, std::chrono::milliseconds(100), [this] { return outstanding_ == 0; });
    }
  }

 private:
  std::mutex mutex_;
  std::condition_variable done_;
  int outstanding_ = 0;
};

// Due times have millisecond resolution and are rounded up, so an entry
// delivered at once can look a little early: that is no lag, not a negative one.
void ObserveDeliveryLag(Histogram& lag, const v1::LogRecord& record, WallTime delivered) {
  if (!record.has_due_time()) return;
  const int64_t late_ms = ToMillis(delivered) - TimeUtil::TimestampToMilliseconds(record.due_time());
  lag.Observe(static_cast<double>(std::max<int64_t>(0, late_ms)) / 1000.0);
}

}  // namespace

void DeliveryCounters::CountFailure(const target::ApplyResult& result, bool target_unavailable) {
  failed_applies.fetch_add(1);
  if (target_unavailable) {
    target_unavailable_errors.fetch_add(1);
  } else if (result.outcome == target::ApplyOutcome::kPermanent) {
    permanent_errors.fetch_add(1);
  } else {
    retryable_errors.fetch_add(1);
  }
}

Result<config::TargetConfig> TargetConfigFromOverride(const v1::Target& target, const config::ModuleCatalog& modules) {
  std::string settings_text;
  auto printed = google::protobuf::util::MessageToJsonString(target.settings(), &settings_text);
  if (!printed.ok()) return InvalidArgument("target.settings: " + std::string(printed.message()));
  nlohmann::json target_json = nlohmann::json::parse(settings_text, nullptr, false);
  if (!target_json.is_object()) return InvalidArgument("target.settings: must be an object");
  target_json["type"] = target.type();
  auto decoded = config::TargetFromJson(target_json.dump(), "target", modules);
  if (!decoded.ok()) return decoded.status().WithContext("request");
  return decoded;
}

NamespaceRuntime::NamespaceRuntime(const config::NamespaceConfig& config, std::unique_ptr<queue::Backend> backend,
                                   target::TargetEnvironment environment, const target::TargetFactory& targets,
                                   const config::ModuleCatalog& modules, const Clock& clock)
    : name_(config.name),
      target_environment_(std::move(environment)),
      targets_(targets),
      modules_(modules),
      clock_(clock),
      backend_(std::move(backend)),
      idempotency_(std::chrono::seconds(config.idempotency_window_seconds)) {
  SetPolicy(config);
}

NamespaceRuntime::~NamespaceRuntime() { StopDelivery(); }

NamespaceRuntime::Policy NamespaceRuntime::policy() const {
  std::lock_guard lock(policy_mutex_);
  return policy_;
}

void NamespaceRuntime::SetPolicy(const config::NamespaceConfig& config) {
  LogNamespaceScope log_namespace(config.name);
  Policy policy;
  policy.config = std::make_shared<const config::NamespaceConfig>(config);
  if (!config.target.is_none()) {
    auto created = targets_.Create(config.target, target_environment_);
    if (created.ok()) {
      policy.target = std::shared_ptr<target::Target>(std::move(created).value());
      Status probe = policy.target->Probe();
      if (!probe.ok()) {
        // Not a refusal: entries wait in the log and are retried until it is back.
        spdlog::warn("namespace {}: target {} is not reachable now ({}); entries will wait", config.name,
                     config.target.type(), probe.message());
      }
    } else {
      policy.target_error = created.status();
      spdlog::error("namespace {}: target cannot be built: {}", config.name, created.status().message());
    }
  }
  // The named targets a set's mutations may pick, built like the main one.
  for (const auto& [target_name, target_config] : config.targets) {
    auto created = targets_.Create(target_config, target_environment_);
    if (!created.ok()) {
      spdlog::error("namespace {}: target {} cannot be built: {}", config.name, target_name, created.status().message());
      policy.named_target_errors[target_name] = created.status();
      continue;
    }
    std::shared_ptr<target::Target> named(std::move(created).value());
    if (Status probe = named->Probe(); !probe.ok()) {
      spdlog::warn("namespace {}: target {} is not reachable now ({}); sets will wait", config.name, target_name,
                   probe.message());
    }
    policy.named_targets[target_name] = std::move(named);
  }
  idempotency_.set_window(std::chrono::seconds(config.idempotency_window_seconds));
  std::lock_guard lock(policy_mutex_);
  policy_ = std::move(policy);
  override_targets_.clear();
}

Result<std::shared_ptr<target::Target>> NamespaceRuntime::TargetFor(const v1::LogRecord& record) {
  Policy current = policy();
  if (!record.has_target()) {
    if (current.target) return current.target;
    if (!current.target_error.ok()) return current.target_error;
    return FailedPrecondition("namespace " + name_ + " has no target configured");
  }
  const std::string cache_key = record.target().SerializeAsString();
  {
    std::lock_guard lock(policy_mutex_);
    auto found = override_targets_.find(cache_key);
    if (found != override_targets_.end()) return found->second;
  }
  WAL_ASSIGN_OR_RETURN(config::TargetConfig target_config, TargetConfigFromOverride(record.target(), modules_));
  WAL_ASSIGN_OR_RETURN(std::unique_ptr<target::Target> created, targets_.Create(target_config, target_environment_));
  std::shared_ptr<target::Target> shared(std::move(created));
  std::lock_guard lock(policy_mutex_);
  if (override_targets_.size() >= kMaxCachedOverrideTargets) override_targets_.clear();
  override_targets_.emplace(cache_key, shared);
  return shared;
}

void NamespaceRuntime::StartDelivery() {
  std::lock_guard lock(workers_mutex_);
  if (!workers_.empty()) return;
  stopping_ = false;
  const int concurrency = std::max(1, policy().config->consumer.concurrency);
  for (int i = 0; i < concurrency; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

void NamespaceRuntime::StopDelivery() {
  std::lock_guard lock(workers_mutex_);
  stopping_ = true;
  for (auto& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
  workers_.clear();
}

Status NamespaceRuntime::Close() {
  StopDelivery();
  // The set store first: its in-flight persists still enqueue markers on the backend.
  if (mutation_sets_) {
    Status closed = mutation_sets_->Close();
    if (!closed.ok()) spdlog::error("namespace {}: closing set storage: {}", name_, closed.ToString());
  }
  return backend_->Close();
}

void NamespaceRuntime::WorkerLoop() {
  LogNamespaceScope log_namespace(name_);  // a worker only ever works for this namespace
  while (!stopping_.load()) {
    auto config = policy().config;
    // Short polls keep shutdown prompt; the backend wakes early on new due entries.
    const auto wait = std::min<std::chrono::milliseconds>(config->consumer.poll_interval, std::chrono::milliseconds(200));
    // Nothing is handed out for a namespace without a target (a pure log:
    // entries stay for inspection until a target is applied, instead of
    // churning retries) or while delivery is paused (a store is down, say:
    // nothing is attempted, so no retry spends an attempt; writes keep
    // arriving in the log).
    if ((config->target.is_none() && config->targets.empty()) || config->flags.delivery_paused) {
      std::this_thread::sleep_for(wait);
      continue;
    }
    auto polled = backend_->Poll(static_cast<size_t>(config->consumer.max_entries_per_poll), wait);
    if (!polled.ok()) {
      spdlog::warn("namespace {}: poll failed: {}", name_, polled.status().ToString());
      std::this_thread::sleep_for(wait);
      continue;
    }
    if (polled->empty()) continue;
    ProcessBatch(*polled);
  }
}

void NamespaceRuntime::ProcessBatch(std::vector<queue::Delivery>& deliveries) {
  // Shared: a retirement abandoned at shutdown still calls back into it later.
  auto latch = std::make_shared<RetireLatch>();
  auto retired = [this, latch](const char* what, uint64_t id) {
    return [this, latch, what, id](const Status& status) {
      if (!status.ok()) {
        LogNamespaceScope log_namespace(name_);  // runs on a backend thread
        // The entry stays pending and is handed out again after a restart.
        spdlog::error("namespace {}: {} of entry {} failed: {}", name_, what, id, status.ToString());
      }
      latch->Done();
    };
  };

  for (queue::Delivery& delivery : deliveries) {
    const Policy current = policy();
    const config::NamespaceConfig& config = *current.config;
    v1::LogRecord record;
    target::ApplyResult result;
    const bool parsed = record.ParseFromString(delivery.entry.record);
    const uint32_t attempt = AttemptNumber(record.attempt(), delivery.receive_count);
    // A retry, deferral or redrive stores the entry again under a new id; the
    // record carries the first one, so targets (X-Wal-Entry-Id, the SQLite
    // table's key) and readers see one id per write however often it is tried.
    if (parsed && record.entry_id() == 0) record.set_entry_id(delivery.id);
    const uint64_t entry_id = parsed ? record.entry_id() : delivery.id;
    if (config.flags.delivery_paused) {
      // Paused after this batch was polled (a worker waiting in Poll wakes for
      // the first write after the pause): hand the entry back untried, due as
      // it was, so the pause holds it and it spends no attempt.
      latch->Add();
      queue::QueueEntry untried{parsed ? record.SerializeAsString() : delivery.entry.record, delivery.entry.due,
                                delivery.entry.ordering_key};
      backend_->Reschedule(delivery, std::move(untried), retired("hand-back", delivery.id));
      continue;
    }
    std::optional<std::vector<v1::MutationStatus>> set_statuses;  // a set's per-mutation outcome
    bool target_unavailable = false;
    if (!parsed) {
      result = target::ApplyResult::Permanent("the stored record cannot be parsed");
    } else if (record.has_set_ref()) {
      // A set's completion marker: rebuild the set from its store and apply it.
      target::DeliveryContext context{name_, entry_id, attempt, record.idempotency_key(), record.origin_region(),
                                      TimeUtil::TimestampToMicroseconds(record.write_time())};
      sets::SetManager::ApplyReport report = ApplySetMarker(record, context);
      if (report.deferred) {
        // An earlier set holds one of its keys: wait, without spending an attempt.
        record.set_set_deferrals(record.set_deferrals() + 1);
        const int64_t due_ms = ToMillisRoundedUp(clock_.Now()) + SetDeferralWait(record.set_deferrals()).count();
        *record.mutable_due_time() = TimeUtil::MillisecondsToTimestamp(due_ms);
        latch->Add();
        queue::QueueEntry later{record.SerializeAsString(), FromMillis(due_ms), delivery.entry.ordering_key};
        backend_->Reschedule(delivery, std::move(later), retired("deferral", delivery.id));
        continue;
      }
      result = std::move(report.result);
      set_statuses = std::move(report.statuses);
    } else {
      auto target = TargetFor(record);
      if (!target.ok()) {
        // A namespace whose target cannot be built keeps its entries: retry.
        result = target::ApplyResult::Retryable("target unavailable: " + target.status().message());
        target_unavailable = true;
      } else {
        target::DeliveryContext context{name_, entry_id, attempt, record.idempotency_key(), record.origin_region(),
                                        TimeUtil::TimestampToMicroseconds(record.write_time())};
        result = ApplyPayload(**target, record, context);
      }
    }

    latch->Add();
    const WallTime now = clock_.Now();
    if (result.ok()) {
      counters_.delivered.fetch_add(1);
      ObserveDeliveryLag(counters_.delivery_lag_seconds, record, now);
      backend_->Complete(delivery, retired("completion", delivery.id));
      continue;
    }
    counters_.CountFailure(result, target_unavailable);
    record.set_attempt(attempt);
    record.add_errors("attempt " + std::to_string(attempt) + " at " +
                      TimeUtil::ToString(TimeUtil::NanosecondsToTimestamp(
                          std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count())) +
                      (result.outcome == target::ApplyOutcome::kPermanent ? ": permanent: " : ": retryable: ") +
                      result.reason);
    constexpr int kMaxErrorHistory = 20;
    if (record.errors_size() > kMaxErrorHistory) {
      record.mutable_errors()->DeleteSubrange(0, record.errors_size() - kMaxErrorHistory);
    }
    const RetryDecision decision = DecideRetry(config.backoff, config.max_retries, config.flags.dlq_enabled,
                                               result.outcome, attempt, WorkerRandom());
    if (decision.action == RetryDecision::Action::kDeadLetter) {
      counters_.dead_lettered.fetch_add(1);
      spdlog::warn("namespace {}: entry {} (stored as {}) to the DLQ after attempt {}: {}", name_, entry_id, delivery.id,
                   attempt, result.reason);
      // A dead set records which of its mutations were applied.
      if (set_statuses && mutation_sets_) mutation_sets_->OnDeadLetter(&record, *set_statuses);
      // An unparsable record keeps its own bytes: they are the only evidence of
      // what it was (the admin reads show them as `unparsed`).
      std::string dead_record = parsed ? record.SerializeAsString() : delivery.entry.record;
      backend_->DeadLetter(delivery, std::move(dead_record), retired("dead-lettering", delivery.id));
      continue;
    }
    const int64_t due_ms = ToMillisRoundedUp(now) + decision.wait.count();
    *record.mutable_due_time() = TimeUtil::MillisecondsToTimestamp(due_ms);
    counters_.retried.fetch_add(1);
    queue::QueueEntry replacement{record.SerializeAsString(), FromMillis(due_ms), delivery.entry.ordering_key};
    backend_->Reschedule(delivery, std::move(replacement), retired("reschedule", delivery.id));
  }
  latch->Wait(stopping_, std::chrono::seconds(5));
}

}  // namespace wal::engine
