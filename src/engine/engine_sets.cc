// The engine's mutation-set parts (docs/mutation-sets.md): opening a
// namespace's set storage, the write path of a mutation_set payload (persist
// the set, then enqueue its completion marker), and dropping the sets of
// purged dead letters.
#include <spdlog/spdlog.h>

#include <set>

#include "engine/engine.h"
#include "engine/stored_records.h"

namespace wal::engine {
namespace {

// The first mutation's item, as for single mutations: where a backend
// partitions (Kafka), markers whose sets start with the same item share a partition.
std::string MarkerOrderingKey(const v1::LogRecord& marker) {
  const auto& set = marker.payload().mutation_set();
  if (set.mutations_size() == 0) return "";
  const v1::Mutation& first = set.mutations(0);
  return first.table() + "\x1f" + first.partition_key() + "\x1f" + first.key();
}

}  // namespace

Status Engine::OpenMutationSets(NamespaceRuntime& runtime, const config::NamespaceConfig& config) const {
  auto opened =
      sets::SetManager::Open(config, *options_.modules.set_stores, options_.file_system, NamespaceDataDir(config.name));
  if (!opened.ok()) return opened.status().WithContext("namespace " + config.name + ": durable_storage");
  std::unique_ptr<sets::SetManager> manager = std::move(opened).value();
  // Pending sets hold their keys again. Where the backend's reads are complete
  // (the embedded log) every marker that exists is readable here (main log and
  // DLQ), so stored sets no marker names were never acknowledged and are
  // dropped. A scan that fails fails the open: passing a partial scan off as
  // complete would drop acknowledged sets.
  auto live = manager->store().ListLive();
  if (!live.ok()) return live.status().WithContext("namespace " + config.name + ": listing stored mutation sets");
  if (!live->empty()) {
    StoredSetMarkers markers;
    bool complete = options_.modules.backends->Traits(config.backend.type()).reads_are_complete;
    if (complete) {
      auto collected = CollectSetMarkers(runtime.backend());
      if (!collected.ok()) {
        return collected.status().WithContext("namespace " + config.name + ": scanning for mutation-set markers");
      }
      markers = std::move(collected).value();
      complete = markers.complete;
    }
    WAL_RETURN_IF_ERROR(manager->Recover(markers.live, markers.dead, complete)
                            .WithContext("namespace " + config.name + ": recovering mutation sets"));
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
      // Not enqueued: the stored set is dropped. (kUnknown keeps it; a restart
      // on the embedded log finds out whether the marker exists.)
      if (outcome.durability == Durability::kFalse) manager->Abandon(*stored);
      done(AnswerFromAppend(outcome));
    });
  });
}

Result<std::vector<v1::LogRecord>> Engine::DeadSetMarkers(NamespaceRuntime& runtime,
                                                           const std::vector<uint64_t>& ids) const {
  std::vector<v1::LogRecord> purged;
  if (runtime.mutation_sets() == nullptr) return purged;
  std::set<uint64_t> wanted(ids.begin(), ids.end());
  WAL_RETURN_IF_ERROR(
      ForEachStoredEntry(runtime.backend(), StoredStream::kDeadLetters, 0, [&](const queue::StoredEntry& entry) {
        if (!wanted.empty() && !wanted.contains(entry.id)) return;
        v1::LogRecord record;
        if (record.ParseFromString(entry.record) && record.has_set_ref()) purged.push_back(std::move(record));
      }));
  return purged;
}

}  // namespace wal::engine
