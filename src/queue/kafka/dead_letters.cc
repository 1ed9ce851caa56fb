#include "queue/kafka/kafka_backend_impl.h"

#include <future>
#include <limits>
#include <set>

// DLQ administration: list, redrive and purge. Kafka cannot delete one
// record, so redriven and purged ids become removal markers (dlq_markers.h)
// that listing, redrive, purge and the dead-letter count skip.

namespace wal::queue::kafka {

Result<std::vector<StoredEntry>> KafkaBackend::ListDeadLetters(uint64_t from_id, size_t limit) {
  const size_t removed = markers_.size();
  WAL_ASSIGN_OR_RETURN(std::vector<DlqRecord> records, ReadTopic(settings_.dlq_topic, from_id,
                                                                  limit > std::numeric_limits<size_t>::max() - removed
                                                                      ? std::numeric_limits<size_t>::max()
                                                                      : limit + removed,
                                                                  true));
  std::vector<StoredEntry> out;
  for (DlqRecord& record : records) {
    if (out.size() >= limit) break;
    if (markers_.Contains(record.id)) continue;
    out.push_back(StoredEntry{record.id, std::move(record.value)});
  }
  return out;
}

Result<uint64_t> KafkaBackend::RedriveDeadLetters(const std::vector<uint64_t>& ids, const RedriveTransform& transform) {
  WAL_ASSIGN_OR_RETURN(std::vector<DlqRecord> records, SelectDeadLetters(ids));
  uint64_t moved = 0;
  for (const DlqRecord& record : records) {
    Result<QueueEntry> entry = transform(record.value);
    if (!entry.ok()) return entry.status().WithContext("redrive of DLQ entry " + std::to_string(record.id) + " (" + std::to_string(moved) + " moved before it)");
    const int64_t due_ms = ToMillisRoundedUp(entry->due);
    auto promise = std::make_shared<std::promise<std::pair<Durability, Status>>>();
    auto future = promise->get_future();
    // A dead letter goes back to the group it failed in only (empty: every group).
    Produce(TopicFor(due_ms), entry->ordering_key, entry->record, due_ms, "", "", record.group,
            [promise](Durability durability, int32_t, int64_t, const Status& status) {
              promise->set_value({durability, status});
            });
    auto [durability, status] = future.get();
    if (durability != Durability::kTrue) {
      return Unavailable("redrive of DLQ entry " + std::to_string(record.id) + " not durable (" +
                         std::string(DurabilityName(durability)) + ": " + status.ToString() + "); " +
                         std::to_string(moved) + " moved before it");
    }
    WAL_RETURN_IF_ERROR(markers_.MarkRemoved(record.id));
    ++moved;
  }
  return moved;
}

Result<uint64_t> KafkaBackend::PurgeDeadLetters(const std::vector<uint64_t>& ids) {
  WAL_ASSIGN_OR_RETURN(std::vector<DlqRecord> records, SelectDeadLetters(ids));
  uint64_t purged = 0;
  for (const DlqRecord& record : records) {
    WAL_RETURN_IF_ERROR(markers_.MarkRemoved(record.id));
    ++purged;
  }
  return purged;
}

Result<std::vector<DlqRecord>> KafkaBackend::SelectDeadLetters(const std::vector<uint64_t>& ids) {
  WAL_ASSIGN_OR_RETURN(std::vector<DlqRecord> records,
                       ReadTopic(settings_.dlq_topic, 0, std::numeric_limits<size_t>::max(), true));
  const std::set<uint64_t> wanted(ids.begin(), ids.end());
  std::vector<DlqRecord> out;
  for (DlqRecord& record : records) {
    if (markers_.Contains(record.id)) continue;
    if (!wanted.empty() && !wanted.count(record.id)) continue;
    out.push_back(std::move(record));
  }
  return out;
}

}  // namespace wal::queue::kafka
