#include "queue/sqs/sqs_backend_impl.h"

#include <exception>
#include <set>

// DLQ administration over the DLQ queue: a sweep receives (and hides) up to
// kMaxSweep messages, and what a call does not delete is released again.

namespace wal::queue::sqs {

Result<std::vector<StoredEntry>> SqsBackend::ListDeadLetters(uint64_t from_id, size_t limit) {
  WAL_ASSIGN_OR_RETURN(std::string dlq, DlqUrl());
  WAL_ASSIGN_OR_RETURN(std::vector<ReceivedMessage> messages, Sweep(dlq));
  std::vector<StoredEntry> entries;
  for (const ReceivedMessage& message : messages) {
    uint64_t id = EntryIdForMessage(message.message_id);
    if (id < from_id) continue;
    auto record = Base64Decode(message.body);
    entries.push_back(StoredEntry{id, record.ok() ? std::move(record).value() : message.body});
  }
  Release(dlq, messages);
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  if (entries.size() > limit) entries.resize(limit);
  return entries;
}

Result<uint64_t> SqsBackend::RedriveDeadLetters(const std::vector<uint64_t>& ids, const RedriveTransform& transform) {
  WAL_ASSIGN_OR_RETURN(std::string url, MainUrl());
  WAL_ASSIGN_OR_RETURN(std::string dlq, DlqUrl());
  WAL_ASSIGN_OR_RETURN(std::vector<ReceivedMessage> messages, Sweep(dlq));
  std::set<uint64_t> wanted(ids.begin(), ids.end());
  uint64_t moved = 0;
  Status failure;
  std::vector<ReceivedMessage> untouched;
  for (ReceivedMessage& message : messages) {
    uint64_t id = EntryIdForMessage(message.message_id);
    if (!failure.ok() || (!wanted.empty() && wanted.count(id) == 0)) {
      untouched.push_back(std::move(message));
      continue;
    }
    auto record = Base64Decode(message.body);
    Result<QueueEntry> entry = InvalidArgument("redrive transform threw");
    try {
      entry = transform(record.ok() ? record.value() : message.body);
    } catch (const std::exception& error) {
      entry = InvalidArgument(std::string("redrive transform threw: ") + error.what());
    }
    if (!entry.ok()) {
      failure = entry.status();
      untouched.push_back(std::move(message));
      continue;
    }
    OutgoingMessage outgoing = MakeMessage(*entry, Base64Encode(entry->record), {});
    SentMessage sent = client_.SendMessage(url, outgoing);
    if (!sent.status.ok()) {
      failure = sent.status;
      untouched.push_back(std::move(message));
      continue;
    }
    if (Status deleted = client_.DeleteMessage(dlq, message.receipt_handle); !deleted.ok()) {
      // Now on both queues; the copy in the DLQ reappears and can be purged.
      failure = deleted;
      continue;
    }
    ++moved;
  }
  Release(dlq, untouched);
  if (!failure.ok()) return failure.WithContext("redrive moved " + std::to_string(moved) + " entries, then");
  return moved;
}

Result<uint64_t> SqsBackend::PurgeDeadLetters(const std::vector<uint64_t>& ids) {
  WAL_ASSIGN_OR_RETURN(std::string dlq, DlqUrl());
  if (ids.empty()) {
    uint64_t count = 0;
    auto attributes = client_.GetQueueAttributes(
        dlq, {"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
              "ApproximateNumberOfMessagesDelayed"});
    if (attributes.ok()) {
      for (const auto& [name, value] : *attributes) count += ParseCount(value);
    }
    WAL_RETURN_IF_ERROR(client_.PurgeQueue(dlq));
    InvalidateStats();
    return count;
  }
  WAL_ASSIGN_OR_RETURN(std::vector<ReceivedMessage> messages, Sweep(dlq));
  std::set<uint64_t> wanted(ids.begin(), ids.end());
  uint64_t purged = 0;
  std::vector<ReceivedMessage> untouched;
  Status failure;
  for (ReceivedMessage& message : messages) {
    if (wanted.count(EntryIdForMessage(message.message_id)) == 0) {
      untouched.push_back(std::move(message));
      continue;
    }
    if (Status deleted = client_.DeleteMessage(dlq, message.receipt_handle); !deleted.ok()) {
      failure = deleted;
      untouched.push_back(std::move(message));
      continue;
    }
    ++purged;
  }
  Release(dlq, untouched);
  InvalidateStats();
  if (!failure.ok()) return failure.WithContext("purged " + std::to_string(purged) + " entries, then");
  return purged;
}

Result<std::vector<ReceivedMessage>> SqsBackend::Sweep(const std::string& queue) {
  std::vector<ReceivedMessage> out;
  std::set<std::string> seen;
  while (out.size() < kMaxSweep) {
    ReceiveOptions receive;
    receive.max_messages = 10;
    receive.wait_seconds = out.empty() ? 1 : 0;
    receive.visibility_timeout = static_cast<int>(kSweepVisibility.count());
    auto messages = client_.ReceiveMessage(queue, receive);
    if (!messages.ok()) {
      Release(queue, out);
      return messages.status();
    }
    if (messages->empty()) break;
    for (ReceivedMessage& message : *messages) {
      if (seen.insert(message.message_id).second) out.push_back(std::move(message));
    }
  }
  return out;
}

void SqsBackend::Release(const std::string& queue, const std::vector<ReceivedMessage>& messages) {
  for (const ReceivedMessage& message : messages) {
    (void)client_.ChangeMessageVisibility(queue, message.receipt_handle, 0);
  }
}

}  // namespace wal::queue::sqs
