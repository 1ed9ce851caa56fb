#include "queue/sqs/sqs_backend_impl.h"

// The sending side: Append queues an entry, and sender threads send up to
// ten waiting entries per SendMessageBatch.

namespace wal::queue::sqs {

void SqsBackend::Append(QueueEntry entry, AppendCallback callback) {
  OutgoingMessage message = MakeMessage(entry, Base64Encode(entry.record), {});
  if (size_t size = MessageSize(message); size > options_.max_message_bytes) {
    callback(AppendOutcome{Durability::kFalse, 0,
                           InvalidArgument("sqs backend (queue " + config_.queue + "): record of " +
                                           std::to_string(entry.record.size()) + " bytes is " + std::to_string(size) +
                                           " bytes as an SQS message (base64 body + attributes); SQS messages "
                                           "hold at most " +
                                           std::to_string(options_.max_message_bytes) + " bytes")});
    return;
  }
  {
    std::lock_guard lock(send_mutex_);
    if (!closing_) {
      pending_.push_back(Pending{std::move(entry), std::move(message), std::move(callback)});
      send_cv_.notify_one();
      return;
    }
  }
  callback(AppendOutcome{Durability::kFalse, 0, FailedPrecondition("sqs backend: closed")});
}

void SqsBackend::SenderLoop() {
  while (true) {
    std::vector<Pending> batch;
    {
      std::unique_lock lock(send_mutex_);
      send_cv_.wait(lock, [&] { return closing_ || !pending_.empty(); });
      if (pending_.empty()) return;
      size_t bytes = 0;
      while (!pending_.empty() && batch.size() < 10) {
        size_t size = MessageSize(pending_.front().message);
        if (!batch.empty() && bytes + size > options_.max_message_bytes) break;  // batch payload limit
        bytes += size;
        batch.push_back(std::move(pending_.front()));
        pending_.pop_front();
      }
    }
    SendBatch(batch);
  }
}

void SqsBackend::SendBatch(std::vector<Pending>& batch) {
  auto url = MainUrl();
  if (!url.ok()) {
    for (Pending& pending : batch) pending.callback(AppendOutcome{Durability::kFalse, 0, url.status()});
    return;
  }
  std::vector<OutgoingMessage> messages;
  TimePoint now = Clock::now();
  for (Pending& pending : batch) {
    // The delay counts from now, not from Append(): time spent queued is not added.
    pending.message.delay_seconds = FloorSeconds(duration_cast<milliseconds>(pending.entry.due - now), hop_);
    messages.push_back(pending.message);
  }
  std::vector<SentMessage> results = client_.SendMessageBatch(*url, messages);
  InvalidateStats();
  for (size_t i = 0; i < batch.size(); ++i) {
    const SentMessage& sent = results[i];
    AppendOutcome outcome;
    if (sent.status.ok()) {
      outcome.durability = Durability::kTrue;
      outcome.id = EntryIdForMessage(sent.message_id);
    } else {
      outcome.durability = sent.indeterminate ? Durability::kUnknown : Durability::kFalse;
      outcome.status = sent.status;
    }
    batch[i].callback(outcome);
  }
}

}  // namespace wal::queue::sqs
