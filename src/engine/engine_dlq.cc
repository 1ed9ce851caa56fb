// Dead-letter administration: redrive (back onto the namespace's own queue, or
// into another namespace) and purge.
#include <google/protobuf/util/time_util.h>

#include <future>
#include <set>

#include "common/time.h"
#include "engine/engine.h"
#include "engine/ordering_key.h"
#include "engine/stored_records.h"

namespace wal::engine {
namespace {

using google::protobuf::util::TimeUtil;

// Dead letters moved per round: each round is appended to the destination and
// waited for before its entries leave the source's DLQ.
constexpr size_t kMovePage = 256;

// A redriven entry starts over: attempts and errors reset, due now.
void StartOver(v1::LogRecord& record, int64_t now_ms) {
  record.set_attempt(0);
  record.clear_errors();
  record.clear_set_status();  // a set resumes from the progress its store recorded
  record.set_set_deferrals(0);
  *record.mutable_due_time() = TimeUtil::MillisecondsToTimestamp(now_ms);
}

// Why a dead letter cannot move to another namespace, or OK.
Status MovableRecord(const queue::StoredEntry& entry, v1::LogRecord* record) {
  if (!record->ParseFromString(entry.record)) {
    return FailedPrecondition("dead letter " + std::to_string(entry.id) +
                              " is not a wal record; it can only be redriven into its own namespace");
  }
  // A set's mutations live in its namespace's durable_storage; only the marker
  // is in the DLQ, and it means nothing to another namespace's store.
  if (record->has_set_ref()) {
    return FailedPrecondition("dead letter " + std::to_string(entry.id) + " is mutation set '" +
                              record->set_ref().set_id() +
                              "', whose mutations are kept by its own namespace; redrive it there");
  }
  return Status::Ok();
}

bool Wanted(const std::set<uint64_t>& ids, uint64_t id) { return ids.empty() || ids.count(id) > 0; }

}  // namespace

Result<uint64_t> Engine::RedriveDeadLetters(const std::string& name, const std::vector<uint64_t>& ids,
                                            const std::string& to_namespace) {
  auto runtime = Find(name);
  if (!runtime) return NotFound("namespace " + name + " does not exist");
  if (!to_namespace.empty() && to_namespace != name) return MoveDeadLetters(runtime, ids, to_namespace);
  auto transform = [clock = options_.clock](const std::string& dead_record) -> Result<queue::QueueEntry> {
    v1::LogRecord record;
    if (!record.ParseFromString(dead_record)) return Corruption("a dead letter is not a valid record");
    const int64_t now_ms = ToMillis(clock->Now());
    StartOver(record, now_ms);
    return queue::QueueEntry{record.SerializeAsString(), FromMillis(now_ms), OrderingKey(record.payload())};
  };
  return runtime->backend().RedriveDeadLetters(ids, transform);
}

Result<uint64_t> Engine::MoveDeadLetters(const std::shared_ptr<NamespaceRuntime>& source,
                                         const std::vector<uint64_t>& ids, const std::string& to_namespace) {
  auto destination = Find(to_namespace);
  if (!destination) return NotFound("namespace " + to_namespace + " (the redrive's destination) is not served by this wald");
  if (!accepts_writes()) {
    return FailedPrecondition("this wald instance has role consumer and takes no writes: a redrive into " +
                              to_namespace + " writes there");
  }
  if (!destination->policy().config->flags.wal_enabled) {
    return FailedPrecondition("namespace " + to_namespace +
                              " has wal_enabled: false, so it keeps no queue to redrive into");
  }
  const std::set<uint64_t> wanted(ids.begin(), ids.end());
  // Everything is checked before anything moves, so a refusal changes nothing.
  Status movable;
  WAL_RETURN_IF_ERROR(ForEachStoredEntry(source->backend(), StoredStream::kDeadLetters, 0,
                                         [&](const queue::StoredEntry& entry) {
                                           if (!movable.ok() || !Wanted(wanted, entry.id)) return;
                                           v1::LogRecord record;
                                           movable = MovableRecord(entry, &record);
                                         }));
  WAL_RETURN_IF_ERROR(movable);

  uint64_t moved = 0;
  uint64_t from_id = 0;
  for (;;) {
    WAL_ASSIGN_OR_RETURN(auto page,
                         source->backend().ListDeadLettersBounded(from_id, kMovePage, kAdminPageBytes));
    if (page.empty()) return moved;
    from_id = page.back().id + 1;
    std::vector<uint64_t> page_ids;
    std::vector<std::future<queue::AppendOutcome>> appended;
    Status first_failure;
    const int64_t now_ms = ToMillis(options_.clock->Now());
    for (const queue::StoredEntry& entry : page) {
      if (!Wanted(wanted, entry.id)) continue;
      v1::LogRecord record;
      // One that arrived after the check: what this page appended so far still
      // leaves the DLQ below, then the call stops.
      first_failure = MovableRecord(entry, &record);
      if (!first_failure.ok()) break;
      StartOver(record, now_ms);
      record.set_namespace_(to_namespace);
      // It becomes an entry of the destination, which gives it an id of its own
      // (ids are per namespace, and a target that deduplicates on
      // (namespace, entry id) must not take it for one of the destination's
      // writes); an idempotency key belongs to the namespace it was written to.
      record.set_entry_id(0);
      record.clear_idempotency_key();
      auto promise = std::make_shared<std::promise<queue::AppendOutcome>>();
      appended.push_back(promise->get_future());
      page_ids.push_back(entry.id);
      destination->backend().Append(
          queue::QueueEntry{record.SerializeAsString(), FromMillis(now_ms), OrderingKey(record.payload())},
          [promise](const queue::AppendOutcome& outcome) { promise->set_value(outcome); });
    }
    // Only what the destination holds durably leaves the DLQ; the rest stays
    // there, and the call says which and why.
    std::vector<uint64_t> stored;
    for (size_t i = 0; i < appended.size(); ++i) {
      const queue::AppendOutcome outcome = appended[i].get();
      if (outcome.durability == Durability::kTrue) {
        stored.push_back(page_ids[i]);
      } else if (first_failure.ok()) {
        const std::string how = outcome.durability == Durability::kUnknown
                                    ? " may or may not have been stored there (a later redrive can deliver it twice): "
                                    : " was not stored there: ";
        first_failure = Status(outcome.status.ok() ? StatusCode::kUnavailable : outcome.status.code(),
                               "dead letter " + std::to_string(page_ids[i]) + how + outcome.status.message());
      }
    }
    if (!stored.empty()) {
      auto purged = source->backend().PurgeDeadLetters(stored);
      if (!purged.ok()) {
        return Status(purged.status().code(),
                      "moved " + std::to_string(moved + stored.size()) + " dead letters into " + to_namespace +
                          ", but " + std::to_string(stored.size()) +
                          " of them could not be removed from this DLQ, so a later redrive would deliver them "
                          "twice: " +
                          purged.status().message());
      }
      moved += stored.size();
    }
    if (!first_failure.ok()) {
      return Status(first_failure.code(), "moved " + std::to_string(moved) + " dead letters into " + to_namespace +
                                              ", then stopped: " + first_failure.message() +
                                              "; it and the ones after it stay in the DLQ");
    }
  }
}

Result<uint64_t> Engine::PurgeDeadLetters(const std::string& name, const std::vector<uint64_t>& ids) {
  auto runtime = Find(name);
  if (!runtime) return NotFound("namespace " + name + " does not exist");
  // Found before the purge: a set whose marker is purged must go with it.
  WAL_ASSIGN_OR_RETURN(std::vector<v1::LogRecord> purged_sets, DeadSetMarkers(*runtime, ids));
  auto purged = runtime->backend().PurgeDeadLetters(ids);
  if (purged.ok() && !purged_sets.empty()) runtime->mutation_sets()->Forget(purged_sets);
  return purged;
}

}  // namespace wal::engine
