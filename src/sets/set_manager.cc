#include "sets/set_manager.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <functional>
#include <random>

#include "common/file_system.h"

namespace wal::sets {
namespace {

std::string NewSetId() {
  thread_local std::mt19937_64 random(std::random_device{}());
  char text[33];
  std::snprintf(text, sizeof(text), "%016llx%016llx", static_cast<unsigned long long>(random()),
                static_cast<unsigned long long>(random()));
  return text;
}

uint64_t KeyHash(const v1::Mutation& mutation) {
  std::string key;
  key.reserve(mutation.target().size() + mutation.table().size() + mutation.partition_key().size() +
              mutation.key().size() + 3);
  key.append(mutation.target()).push_back('\x1f');
  key.append(mutation.table()).push_back('\x1f');
  key.append(mutation.partition_key()).push_back('\x1f');
  key.append(mutation.key());
  return std::hash<std::string>{}(key);
}

v1::MutationStatus StatusOf(const v1::Mutation& mutation, v1::MutationStatus::State state, std::string error = "") {
  v1::MutationStatus status;
  status.set_sequence(mutation.sequence());
  status.set_state(state);
  status.set_target(mutation.target());
  status.set_error(std::move(error));
  return status;
}

}  // namespace

std::string_view SetStateName(SetState state) {
  switch (state) {
    case SetState::kPending: return "pending";
    case SetState::kDone: return "done";
    case SetState::kDead: return "dead";
    case SetState::kDiscarded: return "discarded";
  }
  return "pending";
}

// ---------------------------------------------------------------------------
// KeyOrder

void KeyOrder::Hold(const std::string& set_id, uint64_t order, std::vector<uint64_t> keys) {
  std::lock_guard lock(mutex_);
  if (sets_.contains(set_id)) return;
  for (uint64_t key : keys) holders_[key].insert(order);
  sets_.emplace(set_id, Held{order, std::move(keys)});
}

void KeyOrder::Release(const std::string& set_id) {
  std::lock_guard lock(mutex_);
  auto found = sets_.find(set_id);
  if (found == sets_.end()) return;
  for (uint64_t key : found->second.keys) {
    auto holders = holders_.find(key);
    if (holders == holders_.end()) continue;
    holders->second.erase(found->second.order);
    if (holders->second.empty()) holders_.erase(holders);
  }
  sets_.erase(found);
}

bool KeyOrder::HasEarlierHolder(uint64_t order, const std::vector<uint64_t>& keys) const {
  std::lock_guard lock(mutex_);
  for (uint64_t key : keys) {
    auto holders = holders_.find(key);
    if (holders != holders_.end() && !holders->second.empty() && *holders->second.begin() < order) return true;
  }
  return false;
}

bool KeyOrder::Holds(const std::string& set_id) const {
  std::lock_guard lock(mutex_);
  return sets_.contains(set_id);
}

size_t KeyOrder::size() const {
  std::lock_guard lock(mutex_);
  return sets_.size();
}

std::vector<uint64_t> SetKeys(const v1::MutationSet& set) {
  std::vector<uint64_t> keys;
  keys.reserve(static_cast<size_t>(set.mutations_size()));
  for (const auto& mutation : set.mutations()) keys.push_back(KeyHash(mutation));
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

// ---------------------------------------------------------------------------
// SetManager

SetManager::SetManager(std::string namespace_name, config::DurableStorageConfig config,
                       std::unique_ptr<SetStore> store)
    : namespace_name_(std::move(namespace_name)), config_(std::move(config)), store_(std::move(store)) {}

SetManager::~SetManager() { (void)Close(); }

Result<std::unique_ptr<SetManager>> SetManager::Open(const config::NamespaceConfig& config,
                                                     const SetStoreFactory& stores, FileSystem* file_system,
                                                     const std::string& data_dir) {
  WAL_ASSIGN_OR_RETURN(auto store, stores.Open(config.durable_storage, SetStoreContext{config.name, file_system, data_dir}));
  return std::make_unique<SetManager>(config.name, config.durable_storage, std::move(store));
}

Status SetManager::Validate(const v1::MutationSet& set, const config::NamespaceConfig& config,
                            uint64_t payload_bytes) {
  const config::DurableStorageConfig& limits = config.durable_storage;
  if (set.mutations_size() == 0) return InvalidArgument("payload.mutation_set: must hold at least one mutation");
  if (set.mutations_size() > limits.max_mutations) {
    return InvalidArgument("payload.mutation_set: " + std::to_string(set.mutations_size()) +
                           " mutations is over namespace " + config.name + "'s durable_storage.max_mutations of " +
                           std::to_string(limits.max_mutations));
  }
  if (payload_bytes > limits.max_set_bytes) {
    return InvalidArgument("payload.mutation_set: " + std::to_string(payload_bytes) + " bytes is over namespace " +
                           config.name + "'s durable_storage.max_set_bytes of " +
                           std::to_string(limits.max_set_bytes));
  }
  std::set<uint64_t> sequences;
  for (int index = 0; index < set.mutations_size(); ++index) {
    const v1::Mutation& mutation = set.mutations(index);
    const std::string where = "payload.mutation_set.mutations[" + std::to_string(index) + "]";
    if (!sequences.insert(mutation.sequence()).second) {
      return InvalidArgument(where + ".sequence: " + std::to_string(mutation.sequence()) + " is used twice in the set");
    }
    if (mutation.target().empty()) {
      if (config.target.is_none()) {
        return InvalidArgument(where + ".target: namespace " + config.name +
                               " has no default target; name one of its targets");
      }
    } else if (!config.targets.contains(mutation.target())) {
      std::string known;
      for (const auto& [name, target] : config.targets) known += (known.empty() ? "" : ", ") + name;
      return InvalidArgument(where + ".target: '" + mutation.target() + "' is not a target of namespace " +
                             config.name + (known.empty() ? " (it has no named targets)" : " (it has: " + known + ")"));
    }
  }
  return Status::Ok();
}

void SetManager::Persist(v1::LogRecord record, PersistDone done) {
  v1::MutationSet* set = record.mutable_payload()->mutable_mutation_set();
  std::stable_sort(set->mutable_mutations()->begin(), set->mutable_mutations()->end(),
                   [](const v1::Mutation& left, const v1::Mutation& right) { return left.sequence() < right.sequence(); });
  std::string serialized = set->SerializeAsString();
  const uint64_t total = serialized.size();
  std::vector<std::string> chunks;
  const size_t chunk_bytes = static_cast<size_t>(std::max<uint64_t>(config_.chunk_bytes, 1));
  for (size_t offset = 0; offset < serialized.size(); offset += chunk_bytes) {
    chunks.push_back(serialized.substr(offset, chunk_bytes));
  }
  if (chunks.empty()) chunks.emplace_back();
  serialized.clear();
  serialized.shrink_to_fit();

  // The marker keeps the set's shape (targets, tables, keys, sequences), not its values.
  for (auto& mutation : *set->mutable_mutations()) mutation.clear_value();
  const std::string set_id = NewSetId();
  v1::MutationSetRef* ref = record.mutable_set_ref();
  ref->set_set_id(set_id);
  ref->set_storage(std::string(store_->type()));
  ref->set_mutations(static_cast<uint32_t>(set->mutations_size()));
  ref->set_chunks(static_cast<uint32_t>(chunks.size()));
  ref->set_bytes(total);
  auto marker = std::make_shared<v1::LogRecord>(std::move(record));
  store_->Persist(set_id, std::move(chunks), [this, marker, done = std::move(done)](PersistOutcome outcome) {
    if (!outcome.status.ok()) return done(outcome.status);
    marker->mutable_set_ref()->set_order(outcome.order);
    // Held before the marker exists, so no consumer can see the marker unheld.
    key_order_.Hold(marker->set_ref().set_id(), outcome.order, SetKeys(marker->payload().mutation_set()));
    done(std::move(*marker));
  });
}

void SetManager::Abandon(const v1::LogRecord& marker) {
  key_order_.Release(marker.set_ref().set_id());
  store_->DiscardAsync(marker.set_ref().set_id());
}

SetManager::ApplyReport SetManager::Apply(const v1::LogRecord& marker, const TargetResolver& resolve,
                                          const target::DeliveryContext& context) {
  ApplyReport report;
  const v1::MutationSetRef& ref = marker.set_ref();
  const std::string& set_id = ref.set_id();
  if (ref.storage() != store_->type()) {
    report.result = target::ApplyResult::Retryable("the marker's set is in '" + ref.storage() +
                                                   "' durable storage but the namespace now uses '" +
                                                   std::string(store_->type()) + "'");
    return report;
  }
  if (key_order_.HasEarlierHolder(ref.order(), SetKeys(marker.payload().mutation_set()))) {
    report.deferred = true;
    return report;
  }
  Result<StoredSet> loaded = store_->Load(set_id);
  if (!loaded.ok()) {
    if (loaded.status().code() == StatusCode::kNotFound) {
      // Done and dropped by an earlier delivery whose completion was lost.
      spdlog::info("namespace {}: set {} is already done; completing its marker again", namespace_name_, set_id);
      key_order_.Release(set_id);
      return report;
    }
    const bool permanent = loaded.status().code() == StatusCode::kCorruption;
    std::string reason = "loading set " + set_id + ": " + loaded.status().ToString();
    report.result = permanent ? target::ApplyResult::Permanent(std::move(reason))
                              : target::ApplyResult::Retryable(std::move(reason));
    return report;
  }
  if (loaded->state == SetState::kDone) {
    key_order_.Release(set_id);
    return report;
  }
  v1::MutationSet set;
  if (!set.ParseFromString(loaded->serialized)) {
    report.result = target::ApplyResult::Permanent("set " + set_id + ": the stored chunks do not reassemble into a set");
    return report;
  }
  loaded->serialized.clear();
  loaded->serialized.shrink_to_fit();
  if (loaded->state == SetState::kDead) {
    // Redriven out of the DLQ: live again (it no longer holds back later sets).
    if (Status revived = store_->SetState(set_id, SetState::kPending); !revived.ok()) {
      report.result = target::ApplyResult::Retryable("reviving set " + set_id + ": " + revived.message());
      return report;
    }
  }

  const uint64_t count = static_cast<uint64_t>(set.mutations_size());
  const uint64_t start = std::min(loaded->applied_through, count);
  uint64_t recorded = start;
  uint64_t next = start;
  report.statuses.reserve(count);
  for (uint64_t i = 0; i < start; ++i) report.statuses.push_back(StatusOf(set.mutations(static_cast<int>(i)), v1::MutationStatus::APPLIED));
  for (; next < count; ++next) {
    const v1::Mutation& mutation = set.mutations(static_cast<int>(next));
    const std::string where = "set " + set_id + ", mutation sequence " + std::to_string(mutation.sequence()) +
                              (mutation.target().empty() ? "" : " (target " + mutation.target() + ")") + ": ";
    auto target = resolve(mutation.target());
    if (!target.ok()) {
      report.result = target::ApplyResult::Retryable(where + "target unavailable: " + target.status().message());
    } else {
      report.result = (*target)->ApplyMutation(mutation, context);
      if (!report.result.ok()) report.result.reason = where + report.result.reason;
    }
    if (!report.result.ok()) {
      report.statuses.push_back(StatusOf(mutation, v1::MutationStatus::FAILED, report.result.reason));
      break;
    }
    report.statuses.push_back(StatusOf(mutation, v1::MutationStatus::APPLIED));
    if (next + 1 - recorded >= kProgressEvery && next + 1 < count) {
      if (store_->RecordProgress(set_id, next + 1).ok()) recorded = next + 1;
    }
  }
  if (!report.result.ok()) {
    for (uint64_t i = next + 1; i < count; ++i) {
      report.statuses.push_back(StatusOf(set.mutations(static_cast<int>(i)), v1::MutationStatus::NOT_ATTEMPTED));
    }
    // The retry resumes at the failed mutation. Best effort: were this lost,
    // the retry would replay the applied prefix in order, which is harmless.
    if (next > recorded) {
      Status progress = store_->RecordProgress(set_id, next);
      if (!progress.ok()) {
        spdlog::warn("namespace {}: recording progress of set {}: {}", namespace_name_, set_id, progress.message());
      }
    }
    return report;
  }
  if (Status finished = store_->SetState(set_id, SetState::kDone); !finished.ok()) {
    // Every mutation is applied, but until the store says so the marker stays:
    // the retry replays from the last recorded progress (idempotent).
    report.result = target::ApplyResult::Retryable("set " + set_id + " applied, but marking it done failed: " +
                                                   finished.message());
    return report;
  }
  key_order_.Release(set_id);
  return report;
}

void SetManager::OnDeadLetter(v1::LogRecord* marker, const std::vector<v1::MutationStatus>& statuses) {
  const std::string& set_id = marker->set_ref().set_id();
  marker->clear_set_status();
  for (const auto& status : statuses) *marker->add_set_status() = status;
  if (statuses.empty()) {
    // The set could not even be loaded: every mutation is unknown to this attempt.
    for (const auto& mutation : marker->payload().mutation_set().mutations()) {
      *marker->add_set_status() = StatusOf(mutation, v1::MutationStatus::NOT_ATTEMPTED);
    }
  }
  Status dead = store_->SetState(set_id, SetState::kDead);
  if (!dead.ok()) spdlog::warn("namespace {}: marking set {} dead: {}", namespace_name_, set_id, dead.message());
  key_order_.Release(set_id);
}

void SetManager::Recover(const std::vector<v1::LogRecord>& markers, const std::vector<v1::LogRecord>& dead_markers,
                         bool complete) {
  auto live = store_->ListLive();
  if (!live.ok()) {
    spdlog::warn("namespace {}: listing stored sets: {}", namespace_name_, live.status().message());
    return;
  }
  std::unordered_map<std::string, SetState> states;
  for (const auto& set : *live) states[set.set_id] = set.state;
  std::set<std::string> referenced;
  size_t held = 0;
  for (const auto& marker : markers) {
    const std::string& set_id = marker.set_ref().set_id();
    referenced.insert(set_id);
    auto state = states.find(set_id);
    if (state == states.end() || state->second != SetState::kPending) continue;
    if (key_order_.Holds(set_id)) continue;
    key_order_.Hold(set_id, marker.set_ref().order(), SetKeys(marker.payload().mutation_set()));
    ++held;
  }
  for (const auto& marker : dead_markers) referenced.insert(marker.set_ref().set_id());
  size_t dropped = 0;
  if (complete) {
    for (const auto& [set_id, state] : states) {
      if (referenced.contains(set_id)) continue;
      // Stored, but its marker never became durable: it was never acknowledged.
      if (store_->SetState(set_id, SetState::kDiscarded).ok()) ++dropped;
    }
  }
  if (held > 0 || dropped > 0) {
    spdlog::info("namespace {}: {} pending mutation sets recovered, {} unacknowledged sets dropped", namespace_name_,
                 held, dropped);
  }
}

void SetManager::Forget(const std::vector<v1::LogRecord>& markers) {
  for (const auto& marker : markers) {
    if (!marker.has_set_ref()) continue;
    key_order_.Release(marker.set_ref().set_id());
    Status dropped = store_->SetState(marker.set_ref().set_id(), SetState::kDiscarded);
    if (!dropped.ok()) spdlog::warn("namespace {}: dropping set {}: {}", namespace_name_, marker.set_ref().set_id(), dropped.message());
  }
}

Status SetManager::Close() { return store_ ? store_->Close() : Status::Ok(); }

}  // namespace wal::sets
