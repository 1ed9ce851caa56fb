// The engine's mutation-set parts (docs/mutation-sets.md): opening a
// namespace's set storage, the write path of a mutation_set payload (persist
// the set, then enqueue its completion marker), and dropping the sets of
// purged dead letters.
#include <spdlog/spdlog.h>

#include <set>

#include "engine/engine.h"

namespace wal::engine {
namespace {

v1::Durable ToDurable(Durability durability) {
  switch (durability) {
    case Durability::kTrue: return v1::TRUE;
    case Durability::kFalse: return v1::FALSE;
    case Durability::kUnknown: return v1::UNKNOWN;
  }
  return v1::UNKNOWN;
}

// The first mutation's item, as for single mutations: where a backend
// partitions (Kafka), markers whose sets start with the same item share a partition.
std::string MarkerOrderingKey(const v1::LogRecord& marker) {
  const auto& set = marker.payload().mutation_set();
  if (set.mutations_size() == 0) return "";
  const v1::Mutation& first = set.mutations(0);
  return first.table() + "\x1f" + first.partition_key() + "\x1f" + first.key();
}

// Every record still stored in a backend stream, read in pages.
template <typename ReadPage>
void ForEachStored(ReadPage read_page, const std::function<void(const v1::LogRecord&)>& visit) {
  uint64_t next = 0;
  for (;;) {
    auto entries = read_page(next);
    if (!entries.ok() || entries->empty()) return;
    for (const auto& entry : *entries) {
      next = entry.id + 1;
      v1::LogRecord record;
      if (record.ParseFromString(entry.record)) visit(record);
    }
  }
}

}  // namespace

Status Engine::OpenMutationSets(NamespaceRuntime& runtime, const config::NamespaceConfig& config) const {
  auto opened =
      sets::SetManager::Open(config, *options_.modules.set_stores, options_.file_system, NamespaceDataDir(config.name));
  if (!opened.ok()) return opened.status().WithContext("namespace " + config.name + ": durable_storage");
  std::unique_ptr<sets::SetManager> manager = std::move(opened).value();
  // Pending sets hold their keys again. Where the backend's reads are complete
  // (the embedded log) every marker that exists is readable here (main log and
  // DLQ), so stored sets no marker names were never acknowledged and are dropped.
  auto live = manager->store().ListLive();
  if (live.ok() && !live->empty()) {
    const bool complete = options_.modules.backends->Traits(config.backend.type()).reads_are_complete;
    std::vector<v1::LogRecord> markers;
    std::vector<v1::LogRecord> dead_markers;
    if (complete) {
      queue::Backend& backend = runtime.backend();
      const uint64_t first = backend.Stats().first_id;
      ForEachStored([&](uint64_t next) { return backend.Read(std::max(next, first), 4096); },
                    [&](const v1::LogRecord& record) {
                      if (record.has_set_ref()) markers.push_back(record);
                    });
      ForEachStored([&](uint64_t next) { return backend.ListDeadLetters(next, 4096); },
                    [&](const v1::LogRecord& record) {
                      if (record.has_set_ref()) dead_markers.push_back(record);
                    });
    }
    manager->Recover(markers, dead_markers, complete);
  }
  runtime.AttachMutationSets(std::move(manager));
  return Status::Ok();
}

void Engine::WriteMutationSet(std::shared_ptr<NamespaceRuntime> runtime, v1::LogRecord record, queue::TimePoint due,
                              WriteCallback done) {
  sets::SetManager* manager = runtime->mutation_sets();
  if (manager == nullptr) {
    WriteOutcome outcome;
    outcome.response.set_durable(v1::FALSE);
    outcome.response.set_message("namespace " + runtime->name() + " has no durable storage for mutation sets");
    return done(std::move(outcome));
  }
  // The set is durable in its storage before its marker is enqueued; the
  // answer is the marker's durability.
  manager->Persist(std::move(record), [runtime, manager, due, done = std::move(done)](Result<v1::LogRecord> marker) {
    if (!marker.ok()) {
      WriteOutcome outcome;
      outcome.response.set_durable(v1::FALSE);
      outcome.response.set_message(marker.status().ToString());
      return done(std::move(outcome));
    }
    std::string ordering_key = MarkerOrderingKey(*marker);
    auto stored = std::make_shared<v1::LogRecord>(std::move(marker).value());
    queue::QueueEntry entry{stored->SerializeAsString(), due, std::move(ordering_key)};
    runtime->backend().Append(std::move(entry), [runtime, manager, stored, done](const queue::AppendOutcome& outcome) {
      WriteOutcome result;
      result.response.set_durable(ToDurable(outcome.durability));
      if (outcome.durability != Durability::kFalse) result.response.set_id(outcome.id);
      if (!outcome.status.ok()) result.response.set_message(outcome.status.ToString());
      // Not enqueued: the stored set is dropped. (kUnknown keeps it; a restart
      // on the embedded log finds out whether the marker exists.)
      if (outcome.durability == Durability::kFalse) manager->Abandon(*stored);
      done(std::move(result));
    });
  });
}

std::vector<v1::LogRecord> Engine::DeadSetMarkers(NamespaceRuntime& runtime, const std::vector<uint64_t>& ids) const {
  std::vector<v1::LogRecord> purged;
  if (runtime.mutation_sets() == nullptr) return purged;
  std::set<uint64_t> wanted(ids.begin(), ids.end());
  uint64_t next = 0;
  for (;;) {
    auto entries = runtime.backend().ListDeadLetters(next, 4096);
    if (!entries.ok() || entries->empty()) break;
    for (const auto& entry : *entries) {
      next = entry.id + 1;
      if (!wanted.empty() && !wanted.contains(entry.id)) continue;
      v1::LogRecord record;
      if (record.ParseFromString(entry.record) && record.has_set_ref()) purged.push_back(std::move(record));
    }
  }
  return purged;
}

}  // namespace wal::engine
