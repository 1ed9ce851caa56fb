#include "queue/kafka/kafka_backend_impl.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <future>
#include <limits>
#include <set>

// DLQ administration: list, redrive and purge. Kafka cannot delete one
// record, so redriven and purged ids become removal markers
// that listing, redrive, purge and the dead-letter count skip.

namespace wal::queue::kafka {

Result<std::vector<StoredEntry>> KafkaBackend::ListDeadLetters(uint64_t from_id, size_t limit) {
  size_t removed = 0;
  {
    std::lock_guard lock(dlq_mu_);
    removed = removed_.size();
  }
  WAL_ASSIGN_OR_RETURN(std::vector<DlqRecord> records, ReadTopic(settings_.dlq_topic, from_id,
                                                                  limit > std::numeric_limits<size_t>::max() - removed
                                                                      ? std::numeric_limits<size_t>::max()
                                                                      : limit + removed,
                                                                  true));
  std::vector<StoredEntry> out;
  std::lock_guard lock(dlq_mu_);
  for (DlqRecord& record : records) {
    if (out.size() >= limit) break;
    if (removed_.count(record.id)) continue;
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
    const int64_t due_ms = DueMs(entry->due);
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
    WAL_RETURN_IF_ERROR(MarkRemoved(record.id));
    ++moved;
  }
  return moved;
}

Result<uint64_t> KafkaBackend::PurgeDeadLetters(const std::vector<uint64_t>& ids) {
  WAL_ASSIGN_OR_RETURN(std::vector<DlqRecord> records, SelectDeadLetters(ids));
  uint64_t purged = 0;
  for (const DlqRecord& record : records) {
    WAL_RETURN_IF_ERROR(MarkRemoved(record.id));
    ++purged;
  }
  return purged;
}

Result<std::vector<DlqRecord>> KafkaBackend::SelectDeadLetters(const std::vector<uint64_t>& ids) {
  WAL_ASSIGN_OR_RETURN(std::vector<DlqRecord> records,
                       ReadTopic(settings_.dlq_topic, 0, std::numeric_limits<size_t>::max(), true));
  const std::set<uint64_t> wanted(ids.begin(), ids.end());
  std::vector<DlqRecord> out;
  std::lock_guard lock(dlq_mu_);
  for (DlqRecord& record : records) {
    if (removed_.count(record.id)) continue;
    if (!wanted.empty() && !wanted.count(record.id)) continue;
    out.push_back(std::move(record));
  }
  return out;
}

std::string KafkaBackend::MarkerPath() const {
  return context_.data_dir.empty() ? std::string() : context_.data_dir + "/kafka-dlq-removed";
}

void KafkaBackend::LoadRemovedMarkers() {
  const std::string path = MarkerPath();
  if (path.empty()) return;
  std::ifstream in(path);
  std::string topic;
  uint64_t id = 0;
  std::lock_guard lock(dlq_mu_);
  while (in >> topic >> id) {
    if (topic == settings_.dlq_topic) removed_.insert(id);
  }
}

Status KafkaBackend::MarkRemoved(uint64_t id) {
  std::lock_guard lock(dlq_mu_);
  if (removed_.count(id)) return Status::Ok();
  const std::string path = MarkerPath();
  if (!path.empty()) {
    (void)::mkdir(context_.data_dir.c_str(), 0755);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoStatus("open " + path, errno);
    const std::string line = settings_.dlq_topic + " " + std::to_string(id) + "\n";
    const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
    const int error = errno;
    ::close(fd);
    if (!ok) return ErrnoStatus("write " + path, error);
  }
  removed_.insert(id);
  return Status::Ok();
}

}  // namespace wal::queue::kafka
