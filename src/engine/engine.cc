#include "engine/engine.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "engine/due_time.h"

namespace wal::engine {

using google::protobuf::util::TimeUtil;

struct Engine::NamespaceRuntime {
  std::shared_ptr<const config::NamespaceConfig> config;
  std::shared_ptr<queue::Backend> backend;
};

namespace {

std::mt19937_64& ThreadRandom() {
  thread_local std::mt19937_64 random(std::random_device{}());
  return random;
}

Status ValidateMutation(const v1::Mutation& mutation, std::string_view where) {
  std::string prefix(where);
  if (mutation.op() != v1::Mutation::PUT && mutation.op() != v1::Mutation::DELETE) {
    return InvalidArgument(prefix + ".op: must be PUT or DELETE");
  }
  if (mutation.key().empty()) {
    return InvalidArgument(prefix + ".key: a " + v1::Mutation::Operation_Name(mutation.op()) + " needs a key");
  }
  if (mutation.op() == v1::Mutation::DELETE && !mutation.value().empty()) {
    return InvalidArgument(prefix + ".value: a DELETE carries no value");
  }
  if (mutation.ttl().seconds() < 0 || mutation.ttl().nanos() < 0) {
    return InvalidArgument(prefix + ".ttl: must not be negative");
  }
  return Status::Ok();
}

Status ValidatePayload(const v1::Payload& payload) {
  switch (payload.kind_case()) {
    case v1::Payload::kOpaque:
      return Status::Ok();
    case v1::Payload::kMutation:
      return ValidateMutation(payload.mutation(), "payload.mutation");
    case v1::Payload::kMutationSet: {
      const auto& mutations = payload.mutation_set().mutations();
      if (mutations.empty()) return InvalidArgument("payload.mutation_set: must hold at least one mutation");
      std::set<uint64_t> sequences;
      for (int index = 0; index < mutations.size(); ++index) {
        std::string where = "payload.mutation_set.mutations[" + std::to_string(index) + "]";
        WAL_RETURN_IF_ERROR(ValidateMutation(mutations[index], where));
        if (!sequences.insert(mutations[index].sequence()).second) {
          return InvalidArgument(where + ".sequence: " + std::to_string(mutations[index].sequence()) +
                                 " is used twice in the set");
        }
      }
      return Status::Ok();
    }
    case v1::Payload::KIND_NOT_SET:
      break;
  }
  return InvalidArgument("payload: one of opaque, mutation or mutation_set is required");
}

// Checks a per-request target override with the very rules of a namespace's
// target section, so both fail with the same messages.
Status ValidateTargetOverride(const config::NamespaceConfig& namespace_config, const v1::Target& target) {
  std::string settings_text;
  auto printed = google::protobuf::util::MessageToJsonString(target.settings(), &settings_text);
  if (!printed.ok()) return InvalidArgument("target.settings: " + std::string(printed.message()));
  nlohmann::json document = nlohmann::json::parse(config::NamespaceToJson(namespace_config), nullptr, false);
  nlohmann::json target_json = nlohmann::json::parse(settings_text, nullptr, false);
  if (document.is_discarded() || !target_json.is_object()) return InvalidArgument("target.settings: must be an object");
  target_json["type"] = target.type();
  document["target"] = std::move(target_json);
  auto checked = config::NamespaceFromJson(document.dump(), "request");
  if (!checked.ok()) return checked.status();
  return Status::Ok();
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
    return InvalidArgument("lifecycle.delay: " + std::to_string(delay.count()) + "ms is over the namespace's max_delay of " +
                           std::to_string(config.delay.max_delay.count()) + "ms");
  }
  return JitteredDelay(delay, config.delay.jitter, config.delay.jitter_model, ThreadRandom());
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
  config::NamespaceConfig left_backend;
  config::NamespaceConfig right_backend;
  left_backend.name = right_backend.name = left.name;
  left_backend.backend = left.backend;
  right_backend.backend = right.backend;
  left_backend.max_payload_bytes = left.max_payload_bytes;
  right_backend.max_payload_bytes = right.max_payload_bytes;
  return config::NamespaceToJson(left_backend) == config::NamespaceToJson(right_backend);
}

}  // namespace

Engine::Engine(EngineOptions options) : options_(std::move(options)) {}

Engine::~Engine() { Shutdown(); }

std::string Engine::NamespaceDataDir(const std::string& name) const {
  return JoinPath(JoinPath(options_.data_dir, "namespaces"), name);
}

Result<std::shared_ptr<Engine::NamespaceRuntime>> Engine::OpenRuntime(const config::NamespaceConfig& config) const {
  queue::BackendContext context{options_.file_system, NamespaceDataDir(config.name)};
  WAL_RETURN_IF_ERROR(options_.file_system->CreateDirectories(context.data_dir));
  WAL_ASSIGN_OR_RETURN(std::unique_ptr<queue::Backend> backend, queue::OpenBackend(context, config));
  auto runtime = std::make_shared<NamespaceRuntime>();
  runtime->config = std::make_shared<const config::NamespaceConfig>(config);
  runtime->backend = std::move(backend);
  return runtime;
}

Result<std::unique_ptr<Engine>> Engine::Create(const EngineOptions& options) {
  if (options.file_system == nullptr) return InvalidArgument("engine: file_system is required");
  WAL_RETURN_IF_ERROR(options.file_system->CreateDirectories(options.data_dir));
  WAL_RETURN_IF_ERROR(options.file_system->CreateDirectories(options.namespaces_dir));
  std::unique_ptr<Engine> engine(new Engine(options));
  config::DirectoryLoad loaded = config::LoadNamespaceDirectory(options.file_system, options.namespaces_dir);
  for (const Status& error : loaded.errors) {
    spdlog::error("namespace config rejected: {}", error.message());
  }
  for (const config::NamespaceConfig& config : loaded.namespaces) {
    auto runtime = engine->OpenRuntime(config);
    if (!runtime.ok()) {
      spdlog::error("namespace {} is not served: {}", config.name, runtime.status().ToString());
      engine->failed_namespaces_[config.name] = runtime.status();
      continue;
    }
    engine->namespaces_[config.name] = std::move(runtime).value();
  }
  spdlog::info("engine: serving {} namespaces ({} failed) from {}", engine->namespaces_.size(),
               engine->failed_namespaces_.size(), options.namespaces_dir);
  return engine;
}

std::shared_ptr<Engine::NamespaceRuntime> Engine::Find(const std::string& name) const {
  std::shared_lock lock(mutex_);
  auto found = namespaces_.find(name);
  return found == namespaces_.end() ? nullptr : found->second;
}

void Engine::WriteToLog(const v1::WriteToLogRequest& request, WriteCallback done) {
  auto reject = [&done](Status status) { done(WriteOutcome{std::move(status), {}}); };
  if (request.namespace_().empty()) return reject(InvalidArgument("namespace: is required"));
  std::shared_ptr<NamespaceRuntime> runtime = Find(request.namespace_());
  if (!runtime) {
    std::shared_lock lock(mutex_);
    auto failed = failed_namespaces_.find(request.namespace_());
    if (failed != failed_namespaces_.end()) {
      return reject(Unavailable("namespace " + request.namespace_() + " is not served: " + failed->second.message()));
    }
    return reject(NotFound("namespace " + request.namespace_() + " does not exist"));
  }
  const config::NamespaceConfig& config = *runtime->config;

  Status payload_status = ValidatePayload(request.payload());
  if (!payload_status.ok()) return reject(std::move(payload_status));
  const size_t payload_bytes = request.payload().ByteSizeLong();
  if (payload_bytes > config.max_payload_bytes) {
    return reject(InvalidArgument("payload: " + std::to_string(payload_bytes) + " bytes is over namespace " + config.name +
                                  "'s max_payload_bytes of " + std::to_string(config.max_payload_bytes)));
  }
  if (request.has_target()) {
    Status target_status = ValidateTargetOverride(config, request.target());
    if (!target_status.ok()) return reject(std::move(target_status));
  }
  // Protobuf's Timestamp range: 0001-01-01 to 9999-12-31.
  constexpr int64_t kMinTimestampSeconds = -62'135'596'800;
  constexpr int64_t kMaxTimestampSeconds = 253'402'300'799;
  const auto& write_time = request.lifecycle().write_time();
  if (request.lifecycle().has_write_time() &&
      (write_time.seconds() < kMinTimestampSeconds || write_time.seconds() > kMaxTimestampSeconds ||
       write_time.nanos() < 0 || write_time.nanos() > 999'999'999)) {
    return reject(InvalidArgument("lifecycle.write_time: out of range"));
  }
  auto delay = RequestedDelay(request, config);
  if (!delay.ok()) return reject(delay.status());
  if (!config.flags.wal_enabled) {
    return reject(FailedPrecondition("namespace " + config.name +
                                     " has wal_enabled=false, which applies writes straight to the target; "
                                     "this build has no delivery targets, so the write was not taken"));
  }

  const auto now = std::chrono::system_clock::now();
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  v1::LogRecord record;
  record.set_namespace_(config.name);
  *record.mutable_payload() = request.payload();
  if (request.has_target()) *record.mutable_target() = request.target();
  *record.mutable_accepted_time() = TimeUtil::MillisecondsToTimestamp(now_ms);
  *record.mutable_write_time() =
      request.lifecycle().has_write_time() ? request.lifecycle().write_time() : record.accepted_time();
  *record.mutable_due_time() = TimeUtil::MillisecondsToTimestamp(now_ms + delay->count());
  record.set_idempotency_key(request.idempotency_key());

  std::string serialized;
  if (!record.SerializeToString(&serialized)) return reject(Internal("could not serialize the log record"));
  // The runtime is captured so a concurrent delete cannot close the backend under
  // an append that is still in flight.
  runtime->backend->Append(std::move(serialized), [runtime, done = std::move(done)](const queue::AppendOutcome& outcome) {
    WriteOutcome result;
    result.response.set_durable(ToProto(outcome.durability));
    if (outcome.durability != Durability::kFalse) result.response.set_id(outcome.id);
    if (!outcome.status.ok()) result.response.set_message(outcome.status.ToString());
    done(std::move(result));
  });
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
  return *runtime->config;
}

Status Engine::ApplyNamespace(const config::NamespaceConfig& config) {
  WAL_RETURN_IF_ERROR(config::ValidateNamespace(config));
  std::lock_guard admin_lock(admin_mutex_);
  std::shared_ptr<NamespaceRuntime> existing = Find(config.name);
  std::shared_ptr<NamespaceRuntime> replacement;
  if (existing && SameBackend(*existing->config, config)) {
    // Policy-only change (flags, target, backoff...): keep the open backend.
    replacement = std::make_shared<NamespaceRuntime>();
    replacement->config = std::make_shared<const config::NamespaceConfig>(config);
    replacement->backend = existing->backend;
  } else {
    if (existing) {
      std::unique_lock lock(mutex_);
      namespaces_.erase(config.name);
    }
    if (existing) (void)existing->backend->Close();
    auto opened = OpenRuntime(config);
    if (!opened.ok()) {
      if (existing) {
        std::unique_lock lock(mutex_);
        namespaces_[config.name] = existing;  // keep serving the old definition
      }
      return opened.status();
    }
    replacement = std::move(opened).value();
  }
  Status saved = config::SaveNamespaceFile(options_.file_system, options_.namespaces_dir, config);
  if (!saved.ok()) {
    if (!existing) (void)replacement->backend->Close();
    return saved.WithContext("saving namespace " + config.name);
  }
  std::unique_lock lock(mutex_);
  namespaces_[config.name] = std::move(replacement);
  failed_namespaces_.erase(config.name);
  spdlog::info("namespace {} applied", config.name);
  return Status::Ok();
}

Status Engine::DeleteNamespace(const std::string& name, bool purge_data) {
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
  if (existing) WAL_RETURN_IF_ERROR(existing->backend->Close());
  Status removed = config::DeleteNamespaceFile(options_.file_system, options_.namespaces_dir, name);
  if (!removed.ok() && removed.code() != StatusCode::kNotFound) return removed;
  if (purge_data) WAL_RETURN_IF_ERROR(options_.file_system->RemoveAll(NamespaceDataDir(name)));
  spdlog::info("namespace {} deleted{}", name, purge_data ? " with its data" : "");
  return Status::Ok();
}

Result<std::vector<v1::NamespaceStatus>> Engine::NamespaceStatuses(const std::string& name) const {
  std::shared_lock lock(mutex_);
  std::vector<v1::NamespaceStatus> statuses;
  for (const auto& [namespace_name, runtime] : namespaces_) {
    if (!name.empty() && name != namespace_name) continue;
    queue::BackendStats stats = runtime->backend->Stats();
    v1::NamespaceStatus& status = statuses.emplace_back();
    status.set_name(namespace_name);
    status.set_backend(std::string(config::BackendTypeName(runtime->config->backend.type)));
    status.set_first_id(stats.first_id);
    status.set_log_end(stats.log_end);
    status.set_consumed(stats.consumed);
    status.set_pending(stats.log_end - std::min(stats.log_end, stats.consumed));
    status.set_segments(stats.segments);
    status.set_bytes(stats.bytes);
    status.set_writable(stats.writable);
    if (!stats.writable) status.set_error("the log refused further writes after a failed fsync; restart to recover");
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

Result<std::vector<Engine::RecordAt>> Engine::ReadLog(const std::string& name, uint64_t from_id, size_t limit) const {
  auto runtime = Find(name);
  if (!runtime) return NotFound("namespace " + name + " does not exist");
  WAL_ASSIGN_OR_RETURN(auto entries, runtime->backend->Read(from_id, limit));
  std::vector<RecordAt> records;
  records.reserve(entries.size());
  for (const auto& entry : entries) {
    RecordAt& at = records.emplace_back();
    at.id = entry.id;
    if (!at.record.ParseFromString(entry.record)) {
      return Corruption("namespace " + name + ": entry " + std::to_string(entry.id) + " is not a valid record");
    }
  }
  return records;
}

void Engine::Shutdown() {
  std::map<std::string, std::shared_ptr<NamespaceRuntime>> closing;
  {
    std::unique_lock lock(mutex_);
    if (shut_down_) return;
    shut_down_ = true;
    closing.swap(namespaces_);
  }
  for (auto& [name, runtime] : closing) {
    Status closed = runtime->backend->Close();
    if (!closed.ok()) spdlog::error("namespace {}: close failed: {}", name, closed.ToString());
  }
}

}  // namespace wal::engine
