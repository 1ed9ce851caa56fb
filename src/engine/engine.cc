#include "engine/engine.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "common/log_context.h"
#include "config/duration.h"
#include "control/directory_namespace_store.h"
#include "engine/due_time.h"
#include "engine/ordering_key.h"
#include "engine/payload_apply.h"
#include "target/mutation_util.h"

namespace wal::engine {

using google::protobuf::util::TimeUtil;

namespace {

std::mt19937_64& ThreadRandom() {
  thread_local std::mt19937_64 random(std::random_device{}());
  return random;
}

// What every payload must be, whatever the target: each mutation valid, a set
// not empty and its sequence numbers distinct (they order its application).
Status ValidatePayload(const v1::Payload& payload) {
  const bool is_set = payload.has_mutation_set();
  if (is_set && payload.mutation_set().mutations().empty()) {
    return InvalidArgument("payload.mutation_set: must hold at least one mutation");
  }
  std::set<uint64_t> sequences;
  return target::ForEachMutation(payload, [&](const v1::Mutation& mutation, const std::string& where) {
    WAL_RETURN_IF_ERROR(target::ValidateMutation(mutation, where));
    if (is_set && !sequences.insert(mutation.sequence()).second) {
      return InvalidArgument(where + ".sequence: " + std::to_string(mutation.sequence()) + " is used twice in the set");
    }
    return Status::Ok();
  });
}

Result<std::chrono::milliseconds> RequestedDelay(const v1::WriteToLogRequest& request,
                                                 const config::NamespaceConfig& config) {
  std::chrono::milliseconds delay = config.delay.default_delay;
  if (request.lifecycle().has_delay()) {
    const auto& duration = request.lifecycle().delay();
    if (duration.seconds() < 0 || duration.nanos() < 0) {
      return InvalidArgument("lifecycle.delay: must not be negative, got " + TimeUtil::ToString(duration));
    }
    // 10,000 years, protobuf's own bound for a Duration.
    constexpr int64_t kMaxDurationSeconds = 315'576'000'000;
    if (duration.seconds() > kMaxDurationSeconds || duration.nanos() > 999'999'999) {
      return InvalidArgument("lifecycle.delay: out of range");
    }
    delay = std::chrono::milliseconds(TimeUtil::DurationToMilliseconds(duration));
  }
  if (config.delay.max_delay.count() > 0 && delay > config.delay.max_delay) {
    return InvalidArgument("lifecycle.delay: " + config::FormatDuration(delay) + " is over the namespace's max_delay of " +
                           config::FormatDuration(config.delay.max_delay));
  }
  return JitteredDelay(delay, config.delay.jitter, config.delay.jitter_model, ThreadRandom());
}

Status ValidateWriteTime(const v1::WriteToLogRequest& request) {
  if (!request.lifecycle().has_write_time()) return Status::Ok();
  // Protobuf's Timestamp range: 0001-01-01 to 9999-12-31.
  constexpr int64_t kMinTimestampSeconds = -62'135'596'800;
  constexpr int64_t kMaxTimestampSeconds = 253'402'300'799;
  const auto& write_time = request.lifecycle().write_time();
  if (write_time.seconds() < kMinTimestampSeconds || write_time.seconds() > kMaxTimestampSeconds ||
      write_time.nanos() < 0 || write_time.nanos() > 999'999'999) {
    return InvalidArgument("lifecycle.write_time: out of range");
  }
  return Status::Ok();
}

v1::Durable ToProto(Durability durability) {
  switch (durability) {
    case Durability::kTrue: return v1::TRUE;
    case Durability::kFalse: return v1::FALSE;
    case Durability::kUnknown: return v1::UNKNOWN;
  }
  return v1::UNKNOWN;
}

bool SameBackend(const config::NamespaceConfig& left, const config::NamespaceConfig& right) {
  return left.backend == right.backend && left.max_payload_bytes == right.max_payload_bytes &&
         left.dlq == right.dlq && left.durable_storage == right.durable_storage;
}

}  // namespace

WriteOutcome AnswerFromAppend(const queue::AppendOutcome& outcome) {
  WriteOutcome result;
  if (outcome.durability == Durability::kFalse && outcome.status.code() == StatusCode::kInvalidArgument) {
    result.rejection = outcome.status;
    return result;
  }
  result.response.set_durable(ToProto(outcome.durability));
  if (outcome.durability != Durability::kFalse) result.response.set_id(outcome.id);
  if (!outcome.status.ok()) result.response.set_message(outcome.status.ToString());
  return result;
}

Result<Role> ParseRole(std::string_view text) {
  if (text == "producer") return Role::kProducer;
  if (text == "consumer") return Role::kConsumer;
  if (text == "both") return Role::kBoth;
  return InvalidArgument("role: must be producer, consumer or both, got '" + std::string(text) + "'");
}

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kProducer: return "producer";
    case Role::kConsumer: return "consumer";
    case Role::kBoth: return "both";
  }
  return "both";
}

Engine::Engine(EngineOptions options) : options_(std::move(options)) {
  if (options_.clock == nullptr) options_.clock = &SystemClock();
}

Engine::~Engine() { Shutdown(); }

std::string Engine::NamespaceDataDir(const std::string& name) const {
  return JoinPath(JoinPath(options_.data_dir, "namespaces"), name);
}

Result<std::shared_ptr<NamespaceRuntime>> Engine::OpenRuntime(const config::NamespaceConfig& config) const {
  LogNamespaceScope log_namespace(config.name);
  const EngineModules& modules = options_.modules;
  queue::BackendContext context{options_.file_system, NamespaceDataDir(config.name), options_.region,
                                modules.targets->RegionalDelivery(config.target.type())};
  WAL_RETURN_IF_ERROR(options_.file_system->CreateDirectories(context.data_dir));
  WAL_ASSIGN_OR_RETURN(std::unique_ptr<queue::Backend> backend, modules.backends->Open(context, config));
  auto runtime = std::make_shared<NamespaceRuntime>(config, std::move(backend),
                                                    target::TargetEnvironment{options_.region, options_.data_dir}, *modules.targets,
                                                    *modules.catalog, *options_.clock);
  RebuildIdempotencyKeys(*runtime);
  WAL_RETURN_IF_ERROR(OpenMutationSets(*runtime, config));
  if (delivers()) runtime->StartDelivery();
  return runtime;
}

void Engine::RebuildIdempotencyKeys(NamespaceRuntime& runtime) const {
  // Keys of entries still stored in the log come back; the window is measured
  // from each entry's accepted time.
  const RestoreReport report = RestoreIdempotencyKeys(runtime.backend(), runtime.idempotency(),
                                                      options_.clock->Now());
  if (!report.status.ok()) {
    // Not fatal (a remote backend may be unreachable at start), but the window
    // is not whole: a client retrying an older write may store it twice.
    spdlog::error("namespace {}: idempotency keys restored only partly ({} keys), a read failed: {}; "
                  "a retried write whose key was not restored is stored again",
                  runtime.name(), report.restored, report.status.ToString());
  } else if (report.restored > 0) {
    spdlog::info("namespace {}: {} idempotency keys restored", runtime.name(), report.restored);
  }
}

Result<std::unique_ptr<Engine>> Engine::Create(const EngineOptions& options) {
  if (options.file_system == nullptr) return InvalidArgument("engine: file_system is required");
  const EngineModules& modules = options.modules;
  if (modules.catalog == nullptr || modules.backends == nullptr || modules.targets == nullptr ||
      modules.set_stores == nullptr) {
    return InvalidArgument("engine: modules (catalog, backends, targets, set_stores) are required");
  }
  WAL_RETURN_IF_ERROR(options.file_system->CreateDirectories(options.data_dir));
  std::unique_ptr<Engine> engine(new Engine(options));
  engine->store_ = options.namespace_store;
  if (engine->store_ == nullptr) {
    WAL_ASSIGN_OR_RETURN(auto directory, control::DirectoryNamespaceStore::Open(options.file_system,
                                                                                options.namespaces_dir, *modules.catalog));
    engine->owned_store_ = std::move(directory);
    engine->store_ = engine->owned_store_.get();
  }
  WAL_ASSIGN_OR_RETURN(control::StoreContents loaded, engine->store_->LoadAll());
  for (const Status& error : loaded.errors) {
    spdlog::error("namespace config rejected: {}", error.message());
  }
  for (const config::NamespaceConfig& config : loaded.namespaces) {
    LogNamespaceScope log_namespace(config.name);
    auto runtime = engine->OpenRuntime(config);
    if (!runtime.ok()) {
      spdlog::error("namespace {} is not served: {}", config.name, runtime.status().ToString());
      engine->failed_namespaces_[config.name] = runtime.status();
      continue;
    }
    engine->namespaces_[config.name] = std::move(runtime).value();
  }
  spdlog::info("engine: serving {} namespaces ({} failed) from {}, role {}", engine->namespaces_.size(),
               engine->failed_namespaces_.size(), engine->store_->Describe(), RoleName(options.role));
  return engine;
}

std::shared_ptr<NamespaceRuntime> Engine::Find(const std::string& name) const {
  std::shared_lock lock(mutex_);
  auto found = namespaces_.find(name);
  return found == namespaces_.end() ? nullptr : found->second;
}

Result<std::shared_ptr<NamespaceRuntime>> Engine::Runtime(const std::string& name) const {
  auto runtime = Find(name);
  if (!runtime) return NotFound("namespace " + name + " does not exist");
  return runtime;
}

NamespaceView Engine::View(const std::string& name) const {
  NamespaceView view;
  view.runtime = Find(name);
  if (view.runtime) view.policy = view.runtime->policy();
  return view;
}

void Engine::WriteToLog(const v1::WriteToLogRequest& request, WriteCallback done) {
  WriteToLog(NamespaceView{}, request, std::move(done));
}

void Engine::WriteToLog(const NamespaceView& view, const v1::WriteToLogRequest& request, WriteCallback done) {
  auto reject = [&done](Status status) { done(WriteOutcome{std::move(status), {}}); };
  if (!accepts_writes()) {
    return reject(FailedPrecondition("this wald instance has role consumer and takes no writes"));
  }
  if (request.namespace_().empty()) return reject(InvalidArgument("namespace: is required"));
  const bool view_fits = view.served() && view.runtime->name() == request.namespace_();
  std::shared_ptr<NamespaceRuntime> runtime = view_fits ? view.runtime : Find(request.namespace_());
  if (!runtime) {
    std::shared_lock lock(mutex_);
    if (shut_down_) return reject(Unavailable("wald is shutting down"));
    auto failed = failed_namespaces_.find(request.namespace_());
    if (failed != failed_namespaces_.end()) {
      return reject(Unavailable("namespace " + request.namespace_() + " is not served: " + failed->second.message()));
    }
    return reject(NotFound("namespace " + request.namespace_() + " does not exist"));
  }
  const NamespaceRuntime::Policy policy = view_fits ? view.policy : runtime->policy();
  const config::NamespaceConfig& config = *policy.config;

  Status payload_status = ValidatePayload(request.payload());
  if (!payload_status.ok()) return reject(std::move(payload_status));
  const size_t payload_bytes = request.payload().ByteSizeLong();
  const bool is_set = request.payload().has_mutation_set();
  if (is_set) {
    // Sets are bounded by durable_storage.max_set_bytes, not max_payload_bytes:
    // only their small marker goes to the queue.
    Status set_status = sets::SetManager::Validate(request.payload().mutation_set(), config, payload_bytes);
    if (!set_status.ok()) return reject(std::move(set_status));
  } else if (payload_bytes > config.max_payload_bytes) {
    return reject(InvalidArgument("payload: " + std::to_string(payload_bytes) + " bytes is over namespace " +
                                  config.name + "'s max_payload_bytes of " + std::to_string(config.max_payload_bytes)));
  }
  if (request.has_target()) {
    auto target_config = TargetConfigFromOverride(request.target(), *options_.modules.catalog);
    if (!target_config.ok()) return reject(target_config.status());
  }
  if (is_set && !request.has_target()) {
    // A set's mutations may name different targets: each checks its own.
    v1::LogRecord shape;
    *shape.mutable_payload() = request.payload();
    Status acceptable = runtime->ValidateSetTargets(shape);
    if (!acceptable.ok()) return reject(std::move(acceptable));
  } else if (!request.has_target() && policy.target) {
    // The namespace's target says now whether it could ever take this payload.
    Status acceptable = policy.target->ValidatePayload(request.payload());
    if (!acceptable.ok()) return reject(std::move(acceptable));
  }
  Status write_time_status = ValidateWriteTime(request);
  if (!write_time_status.ok()) return reject(std::move(write_time_status));
  auto delay = RequestedDelay(request, config);
  if (!delay.ok()) return reject(delay.status());

  // Due times have millisecond resolution; rounding "now" up keeps an entry
  // from ever coming due before acceptance + delay.
  const int64_t now_ms = ToMillisRoundedUp(options_.clock->Now());
  v1::LogRecord record;
  record.set_namespace_(config.name);
  *record.mutable_payload() = request.payload();
  if (request.has_target()) *record.mutable_target() = request.target();
  *record.mutable_accepted_time() = TimeUtil::MillisecondsToTimestamp(now_ms);
  *record.mutable_write_time() =
      request.lifecycle().has_write_time() ? request.lifecycle().write_time() : record.accepted_time();
  *record.mutable_due_time() = TimeUtil::MillisecondsToTimestamp(now_ms + delay->count());
  record.set_idempotency_key(request.idempotency_key());
  record.set_origin_region(options_.region);

  const std::string idempotency_key = request.idempotency_key();
  if (!idempotency_key.empty()) {
    auto answer_duplicate = [done](const v1::WriteToLogResponse& response) { done(WriteOutcome{Status::Ok(), response}); };
    auto claim = runtime->idempotency().Begin(idempotency_key, options_.clock->Now(), answer_duplicate);
    if (claim != IdempotencyTable::Claim::kFirst) return;
    // The first writer of a key also answers the waiters that arrive meanwhile.
    done = [runtime, idempotency_key, clock = options_.clock, done = std::move(done)](WriteOutcome outcome) {
      v1::WriteToLogResponse for_table = outcome.response;
      if (!outcome.rejection.ok()) for_table.set_durable(v1::FALSE);
      runtime->idempotency().Finish(idempotency_key, for_table, clock->Now());
      done(std::move(outcome));
    };
  }

  if (!config.flags.wal_enabled) return ApplySynchronously(std::move(runtime), std::move(record), std::move(done));

  const auto due = FromMillis(now_ms + delay->count());
  // A set is stored in durable_storage first; only its marker is enqueued.
  if (is_set) return WriteMutationSet(std::move(runtime), std::move(record), due, std::move(done));
  queue::QueueEntry entry{record.SerializeAsString(), due, OrderingKey(request.payload())};
  // The runtime is captured so a concurrent delete cannot close the backend under
  // an append that is still in flight.
  runtime->backend().Append(std::move(entry), [runtime, done = std::move(done)](const queue::AppendOutcome& outcome) {
    done(AnswerFromAppend(outcome));
  });
}

void Engine::ApplySynchronously(std::shared_ptr<NamespaceRuntime> runtime, v1::LogRecord record, WriteCallback done) {
  auto task = [runtime, record = std::move(record), done]() {
    WriteOutcome outcome;
    auto target = runtime->TargetFor(record);
    if (!target.ok()) {
      runtime->counters().CountFailure(target::ApplyResult::Retryable(""), true);
      outcome.response.set_durable(v1::FALSE);
      outcome.response.set_message("wal_enabled=false and the target is unavailable: " + target.status().message());
      return done(std::move(outcome));
    }
    target::DeliveryContext context{runtime->name(), 0, 1, record.idempotency_key(), record.origin_region(),
                                    TimeUtil::TimestampToMicroseconds(record.write_time())};
    // A set's mutations may name the namespace's other targets.
    auto resolve = [&runtime, &record](const std::string& name) { return runtime->TargetNamed(record, name); };
    target::ApplyResult result = ApplyPayload(**target, record, context, resolve);
    if (result.ok()) {
      runtime->counters().delivered.fetch_add(1);
      outcome.response.set_durable(v1::TRUE);
      outcome.response.set_message("applied to the target directly (wal_enabled=false)");
    } else {
      runtime->counters().CountFailure(result, false);
      outcome.response.set_durable(v1::FALSE);
      outcome.response.set_message(std::string("wal_enabled=false: the target refused the write (") +
                                   (result.outcome == target::ApplyOutcome::kPermanent ? "permanent" : "retryable") +
                                   "): " + result.reason);
    }
    done(std::move(outcome));
  };
  if (!bypass_executor_.Submit(task)) done(WriteOutcome{Unavailable("wald is shutting down"), {}});
}

std::vector<std::string> Engine::ListNamespaces() const {
  std::shared_lock lock(mutex_);
  std::vector<std::string> names;
  for (const auto& [name, runtime] : namespaces_) names.push_back(name);
  return names;
}

Result<config::NamespaceConfig> Engine::GetNamespace(const std::string& name) const {
  auto runtime = Find(name);
  if (!runtime) return NotFound("namespace " + name + " does not exist");
  return *runtime->policy().config;
}

// ReloadNamespace/UnloadNamespace make live here a change another instance
// already stored, so they must not write the store again.
Status Engine::ApplyNamespace(const config::NamespaceConfig& requested) { return ApplyNamespace(requested, true); }

Status Engine::ReloadNamespace(const config::NamespaceConfig& config) { return ApplyNamespace(config, false); }

Status Engine::UnloadNamespace(const std::string& name) { return DeleteNamespace(name, false, false); }

Status Engine::DeleteNamespace(const std::string& name, bool purge_data) { return DeleteNamespace(name, purge_data, true); }

namespace {

// The checks an apply makes before it opens anything: defaults, then values.
Result<config::NamespaceConfig> FilledAndValid(const config::NamespaceConfig& requested) {
  config::NamespaceConfig config = requested;
  config::FillNamespaceDefaults(&config);
  WAL_RETURN_IF_ERROR(config::ValidateNamespace(config));
  return config;
}

}  // namespace

Result<Engine::ApplyChange> Engine::CheckApply(const config::NamespaceConfig& requested,
                                               config::NamespaceConfig* filled) const {
  WAL_ASSIGN_OR_RETURN(*filled, FilledAndValid(requested));
  std::shared_ptr<NamespaceRuntime> existing = Find(filled->name);
  if (!existing) return ApplyChange::kCreate;
  const config::NamespaceConfig& current = *existing->policy().config;
  if (current == *filled) return ApplyChange::kUnchanged;
  return SameBackend(current, *filled) ? ApplyChange::kPolicy : ApplyChange::kReopen;
}

Status Engine::ApplyNamespace(const config::NamespaceConfig& requested, bool persist) {
  LogNamespaceScope log_namespace(requested.name);
  WAL_ASSIGN_OR_RETURN(const config::NamespaceConfig config, FilledAndValid(requested));
  std::lock_guard admin_lock(admin_mutex_);
  std::shared_ptr<NamespaceRuntime> existing = Find(config.name);
  if (existing && SameBackend(*existing->policy().config, config)) {
    // A policy change (flags, target, backoff, delays) keeps the open backend and
    // takes effect for the very next write and delivery.
    if (persist) {
      WAL_RETURN_IF_ERROR(store_->Save(config).WithContext("saving namespace " + config.name));
    }
    existing->SetPolicy(config);
    spdlog::info("namespace {} applied (policy change)", config.name);
    return Status::Ok();
  }
  if (existing) {
    {
      std::unique_lock lock(mutex_);
      namespaces_.erase(config.name);
    }
    (void)existing->Close();
  }
  auto opened = OpenRuntime(config);
  if (!opened.ok()) {
    if (existing) {
      // Keep serving the old definition.
      auto reopened = OpenRuntime(*existing->policy().config);
      if (reopened.ok()) {
        std::unique_lock lock(mutex_);
        namespaces_[config.name] = std::move(reopened).value();
      }
    }
    return opened.status();
  }
  Status saved = persist ? store_->Save(config) : Status::Ok();
  if (!saved.ok()) {
    (void)(*opened)->Close();
    return saved.WithContext("saving namespace " + config.name);
  }
  std::unique_lock lock(mutex_);
  namespaces_[config.name] = std::move(opened).value();
  failed_namespaces_.erase(config.name);
  spdlog::info("namespace {} applied", config.name);
  return Status::Ok();
}

Status Engine::DeleteNamespace(const std::string& name, bool purge_data, bool remove_file) {
  LogNamespaceScope log_namespace(name);
  std::lock_guard admin_lock(admin_mutex_);
  std::shared_ptr<NamespaceRuntime> existing;
  {
    std::unique_lock lock(mutex_);
    auto found = namespaces_.find(name);
    if (found == namespaces_.end() && failed_namespaces_.count(name) == 0) {
      return NotFound("namespace " + name + " does not exist");
    }
    if (found != namespaces_.end()) {
      existing = found->second;
      namespaces_.erase(found);
    }
    failed_namespaces_.erase(name);
  }
  if (existing) WAL_RETURN_IF_ERROR(existing->Close());
  Status removed =
      remove_file ? store_->Remove(name) : Status::Ok();
  if (!removed.ok() && removed.code() != StatusCode::kNotFound) return removed;
  if (purge_data) WAL_RETURN_IF_ERROR(options_.file_system->RemoveAll(NamespaceDataDir(name)));
  spdlog::info("namespace {} {}{}", name, remove_file ? "deleted" : "unloaded", purge_data ? " with its data" : "");
  return Status::Ok();
}

Result<std::vector<v1::NamespaceStatus>> Engine::NamespaceStatuses(const std::string& name) const {
  std::shared_lock lock(mutex_);
  std::vector<v1::NamespaceStatus> statuses;
  for (const auto& [namespace_name, runtime] : namespaces_) {
    if (!name.empty() && name != namespace_name) continue;
    queue::BackendStats stats = runtime->backend().Stats();
    v1::NamespaceStatus& status = statuses.emplace_back();
    status.set_name(namespace_name);
    const std::string_view backend_type = runtime->policy().config->backend.type();
    status.set_backend(std::string(backend_type));
    status.set_first_id(stats.first_id);
    status.set_log_end(stats.log_end);
    status.set_consumed(stats.consumed);
    status.set_pending(stats.pending);
    status.set_pending_delayed(stats.pending_delayed);
    status.set_in_flight(stats.in_flight);
    status.set_dead_letters(stats.dead_letters);
    status.set_segments(stats.segments);
    status.set_bytes(stats.bytes);
    status.set_writable(stats.writable);
    status.set_role(std::string(RoleName(options_.role)));
    status.set_delivery_paused(runtime->policy().config->flags.delivery_paused);
    if (!stats.error.empty()) {
      status.set_error(stats.error);
    } else if (!stats.writable) {
      status.set_error(options_.modules.backends->Traits(backend_type).not_writable_reason);
    }
  }
  for (const auto& [namespace_name, error] : failed_namespaces_) {
    if (!name.empty() && name != namespace_name) continue;
    v1::NamespaceStatus& status = statuses.emplace_back();
    status.set_name(namespace_name);
    status.set_writable(false);
    status.set_error(error.ToString());
  }
  if (!name.empty() && statuses.empty()) return NotFound("namespace " + name + " does not exist");
  return statuses;
}

void Engine::Shutdown() {
  std::map<std::string, std::shared_ptr<NamespaceRuntime>> closing;
  {
    std::unique_lock lock(mutex_);
    if (shut_down_) return;
    shut_down_ = true;
    closing.swap(namespaces_);
  }
  bypass_executor_.Shutdown();
  // All at once: a backend that is slow to answer (a broker that is down)
  // then costs its close bound once, not once per namespace.
  for (auto& [name, runtime] : closing) runtime->BeginStopDelivery();
  std::vector<std::thread> closers;
  closers.reserve(closing.size());
  for (auto& [name, runtime] : closing) {
    closers.emplace_back([&name = name, &runtime = runtime] {
      Status closed = runtime->Close();
      if (!closed.ok()) spdlog::error("namespace {}: close failed: {}", name, closed.ToString());
    });
  }
  for (std::thread& closer : closers) closer.join();
  spdlog::debug("engine: {} namespaces closed", closing.size());
}

}  // namespace wal::engine
