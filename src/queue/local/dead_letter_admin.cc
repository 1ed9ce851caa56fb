#include "queue/local/local_backend_impl.h"

#include <future>
#include <limits>

#include "queue/local/envelope.h"

// Dead-letter administration: listing, redriving and purging the entries of
// the dead-letter log. Redrive and purge are serialised by admin_mutex_.

namespace wal::queue::local {

Result<std::vector<StoredEntry>> LocalBackendImpl::ListDeadLetters(uint64_t from_id, size_t limit) {
  return ListDeadLettersBounded(from_id, limit, UINT64_MAX);
}

Result<std::vector<StoredEntry>> LocalBackendImpl::ListDeadLettersBounded(uint64_t from_id, size_t limit,
                                                                          uint64_t max_bytes) {
  std::vector<StoredEntry> listed;
  if (limit == 0) return listed;
  uint64_t bytes = 0;
  uint64_t next;
  {
    std::lock_guard lock(mutex_);
    next = std::max(from_id, dlq_window_.low());
  }
  const size_t batch_bytes = static_cast<size_t>(std::min<uint64_t>(kScanBatchBytes, std::max<uint64_t>(max_bytes, 1)));
  for (;;) {
    WAL_ASSIGN_OR_RETURN(std::vector<log::LogEntry> entries, dlq_log_->Read(next, kScanBatchEntries, batch_bytes));
    if (entries.empty()) return listed;
    std::vector<std::pair<uint64_t, std::string_view>> records;
    for (const log::LogEntry& entry : entries) {
      Envelope envelope;
      WAL_RETURN_IF_ERROR(DecodeEnvelope(entry.id, entry.payload, &envelope).WithContext("dead-letter log"));
      if (envelope.kind == EnvelopeKind::kEntry) records.emplace_back(entry.id, envelope.record);
    }
    {
      std::lock_guard lock(mutex_);
      for (const auto& [id, record] : records) {
        if (!IsLiveDeadLetterLocked(id)) continue;
        if (!listed.empty() && bytes + record.size() > max_bytes) return listed;
        bytes += record.size();
        listed.push_back(StoredEntry{id, std::string(record)});
        if (listed.size() >= limit) return listed;
      }
    }
    next = entries.back().id + 1;
  }
}

std::vector<uint64_t> LocalBackendImpl::SelectDeadLetters(const std::vector<uint64_t>& ids) const {
  std::vector<uint64_t> selected;
  std::lock_guard lock(mutex_);
  if (ids.empty()) {
    dlq_window_.ForEachPending(0, std::numeric_limits<uint64_t>::max(), [&](uint64_t id) {
      if (dlq_hidden_.count(id) == 0) selected.push_back(id);
    });
  } else {
    for (uint64_t id : ids) {
      if (IsLiveDeadLetterLocked(id)) selected.push_back(id);
    }
    std::sort(selected.begin(), selected.end());
    selected.erase(std::unique(selected.begin(), selected.end()), selected.end());
  }
  return selected;
}

Status LocalBackendImpl::RetireInDlq(const std::vector<uint64_t>& ids) {
  std::promise<log::AppendResult> done;
  auto future = done.get_future();
  AppendControl(*dlq_log_, EncodeRetire(ids), [&](const log::AppendResult& result) {
    {
      std::lock_guard lock(mutex_);
      NoteDlqAppendLocked(result, /*entry=*/false);
      if (result.durability == Durability::kTrue) {
        for (uint64_t id : ids) RetireDlqLocked(id);
        dlq_window_.Advance();
      }
    }
    done.set_value(result);
  });
  return FailureStatus(future.get(), "retiring dead letters");
}

Result<uint64_t> LocalBackendImpl::RedriveDeadLetters(const std::vector<uint64_t>& ids,
                                                      const RedriveTransform& transform) {
  std::lock_guard admin(admin_mutex_);
  {
    std::lock_guard lock(mutex_);
    if (closing_) return FailedPrecondition("backend is closed");
  }
  if (!transform) return InvalidArgument("redrive needs a transform");
  const std::vector<uint64_t> selected = SelectDeadLetters(ids);
  uint64_t moved = 0;
  for (size_t start = 0; start < selected.size(); start += kAdminChunk) {
    const size_t end = std::min(selected.size(), start + kAdminChunk);
    std::vector<uint64_t> chunk(selected.begin() + static_cast<std::ptrdiff_t>(start),
                                selected.begin() + static_cast<std::ptrdiff_t>(end));
    std::vector<QueueEntry> entries;
    entries.reserve(chunk.size());
    for (uint64_t id : chunk) {
      WAL_ASSIGN_OR_RETURN(std::vector<log::LogEntry> read, dlq_log_->Read(id, 1, kSingleReadBytes));
      if (read.empty() || read.front().id != id) return Internal("dead letter " + std::to_string(id) + " is not readable");
      Envelope envelope;
      WAL_RETURN_IF_ERROR(DecodeEnvelope(id, read.front().payload, &envelope).WithContext("dead-letter log"));
      if (envelope.kind != EnvelopeKind::kEntry) return Corruption("dead letter " + std::to_string(id) + " is a RETIRE");
      Result<QueueEntry> transformed = transform(std::string(envelope.record));
      if (!transformed.ok()) return transformed.status().WithContext("redriving dead letter " + std::to_string(id));
      entries.push_back(std::move(transformed).value());
    }
    // Durable on the main queue first; a crash before the DLQ RETIRE leaves a
    // duplicate (at-least-once), never a loss.
    AppendTracker tracker;
    for (QueueEntry& entry : entries) {
      tracker.Add(0);
      Append(std::move(entry), [&tracker](const AppendOutcome& outcome) {
        tracker.Done(0, outcome.durability == Durability::kTrue
                            ? Status::Ok()
                            : (outcome.status.ok() ? Internal("append not durable") : outcome.status));
      });
    }
    WAL_RETURN_IF_ERROR(tracker.WaitAll().WithContext("redrive: appending to the main log"));
    WAL_RETURN_IF_ERROR(RetireInDlq(chunk));
    moved += chunk.size();
  }
  return moved;
}

Result<uint64_t> LocalBackendImpl::PurgeDeadLetters(const std::vector<uint64_t>& ids) {
  std::lock_guard admin(admin_mutex_);
  {
    std::lock_guard lock(mutex_);
    if (closing_) return FailedPrecondition("backend is closed");
  }
  const std::vector<uint64_t> selected = SelectDeadLetters(ids);
  uint64_t purged = 0;
  for (size_t start = 0; start < selected.size(); start += kPurgeChunk) {
    const size_t end = std::min(selected.size(), start + kPurgeChunk);
    std::vector<uint64_t> chunk(selected.begin() + static_cast<std::ptrdiff_t>(start),
                                selected.begin() + static_cast<std::ptrdiff_t>(end));
    WAL_RETURN_IF_ERROR(RetireInDlq(chunk));
    purged += chunk.size();
  }
  return purged;
}


}  // namespace wal::queue::local
