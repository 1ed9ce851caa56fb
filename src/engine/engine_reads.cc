// The engine's admin reads (ReadLog, ListDeadLetters): stored records with
// the write's id and where each one stands.
#include <google/protobuf/util/time_util.h>

#include "common/time.h"
#include "engine/engine.h"

namespace wal::engine {
namespace {

using google::protobuf::util::TimeUtil;

// Pending, in flight or retired (and how) only the backend knows; a pending record is
// delayed or due by its due time, which only the record holds (an unparsed
// one has none, and counts as due).
Engine::RecordState StateOf(queue::StoredState stored, const v1::LogRecord& record, WallTime now) {
  using State = Engine::RecordState;
  switch (stored) {
    case queue::StoredState::kUnknown:
      return State::kUnknown;
    case queue::StoredState::kInFlight:
      return State::kInFlight;
    case queue::StoredState::kDone:
      return State::kDone;
    case queue::StoredState::kDelivered:
      return State::kDelivered;
    case queue::StoredState::kDeadLettered:
      return State::kDead;
    case queue::StoredState::kSuperseded:
      return State::kSuperseded;
    case queue::StoredState::kPending:
      break;
  }
  if (!record.has_due_time()) return State::kDue;
  return TimeUtil::TimestampToMilliseconds(record.due_time()) > ToMillis(now) ? State::kDelayed : State::kDue;
}

// Parses each stored record; one that is not a LogRecord is shown with its
// bytes rather than failing the whole page.
std::vector<Engine::RecordAt> ParseRecords(std::vector<queue::StoredEntry> entries, bool dead, WallTime now) {
  std::vector<Engine::RecordAt> records;
  records.reserve(entries.size());
  for (auto& entry : entries) {
    Engine::RecordAt& at = records.emplace_back();
    at.id = entry.id;
    if (!at.record.ParseFromString(entry.record)) {
      at.record.Clear();
      at.unparsed = std::move(entry.record);
    }
    // A dead letter's own id is its place in the DLQ, never the write's.
    at.entry_id = at.record.entry_id() != 0 || dead ? at.record.entry_id() : entry.id;
    at.state = dead ? Engine::RecordState::kDead : StateOf(entry.state, at.record, now);
  }
  return records;
}

}  // namespace

Result<std::vector<Engine::RecordAt>> Engine::ReadLog(const std::string& name, uint64_t from_id, size_t limit) const {
  auto runtime = Find(name);
  if (!runtime) return NotFound("namespace " + name + " does not exist");
  WAL_ASSIGN_OR_RETURN(auto entries, runtime->backend().ReadBounded(from_id, limit, kAdminPageBytes));
  return ParseRecords(std::move(entries), /*dead=*/false, options_.clock->Now());
}

Result<std::vector<Engine::RecordAt>> Engine::ListDeadLetters(const std::string& name, uint64_t from_id,
                                                               size_t limit) const {
  auto runtime = Find(name);
  if (!runtime) return NotFound("namespace " + name + " does not exist");
  WAL_ASSIGN_OR_RETURN(auto entries, runtime->backend().ListDeadLettersBounded(from_id, limit, kAdminPageBytes));
  return ParseRecords(std::move(entries), /*dead=*/true, options_.clock->Now());
}

}  // namespace wal::engine
