#include "queue/kafka/kafka_backend_impl.h"

// Retiring handed-out entries: Complete, Reschedule (a replacement, or retry
// in place) and DeadLetter. An original is finished only once its successor
// is durable, so a failed produce never loses an entry.

namespace wal::queue::kafka {

void KafkaBackend::Complete(const Delivery& delivery, StatusCallback callback) {
  Receipt receipt;
  Status status = Validate(delivery, &receipt);
  if (status.ok()) status = Finish(receipt);
  callback(status);
}

void KafkaBackend::Reschedule(const Delivery& delivery, QueueEntry replacement, StatusCallback callback) {
  Receipt receipt;
  if (Status status = Validate(delivery, &receipt); !status.ok()) return callback(status);
  const int64_t due_ms = ToMillisRoundedUp(replacement.due);
  if (settings_.retry_in_place) return callback(RetryInPlace(receipt, std::move(replacement), due_ms));
  Produce(TopicFor(due_ms), replacement.ordering_key, replacement.record, due_ms, kSupersedesHeader,
          receipt.Coordinates(), settings_.consumer_group, RetireAfter(receipt, "reschedule", std::move(callback)));
}

void KafkaBackend::DeadLetter(const Delivery& delivery, std::string dead_record, StatusCallback callback) {
  Receipt receipt;
  if (Status status = Validate(delivery, &receipt); !status.ok()) return callback(status);
  Produce(settings_.dlq_topic, delivery.entry.ordering_key, dead_record, ToMillisRoundedUp(delivery.entry.due), kDeadFromHeader,
          receipt.Coordinates(), settings_.consumer_group, RetireAfter(receipt, "dead-letter", std::move(callback)));
}

Status KafkaBackend::Validate(const Delivery& delivery, Receipt* receipt) {
  if (!Receipt::Parse(delivery.receipt, receipt)) return InvalidArgument("not a kafka receipt: '" + delivery.receipt + "'");
  std::lock_guard lock(mu_);
  PartitionState* state = FindLocked(*receipt);
  if (state == nullptr) return Revoked(*receipt);
  auto it = state->buffered.find(receipt->offset);
  if (it == state->buffered.end() || !it->second.handed) {
    return FailedPrecondition("kafka entry " + receipt->Coordinates() + " is not handed out");
  }
  return Status::Ok();
}

Status KafkaBackend::Revoked(const Receipt& receipt) {
  return FailedPrecondition("kafka partition " + receipt.topic + "/" + std::to_string(receipt.partition) +
                            " was revoked from this consumer; entry " + receipt.Coordinates() +
                            " will be handed out again by its new owner");
}

Status KafkaBackend::Finish(const Receipt& receipt, bool require_handed) {
  {
    std::lock_guard lock(mu_);
    PartitionState* state = FindLocked(receipt);
    if (state == nullptr) return Revoked(receipt);
    auto it = state->buffered.find(receipt.offset);
    if (it == state->buffered.end() || (require_handed && !it->second.handed)) {
      return FailedPrecondition("kafka entry " + receipt.Coordinates() + " is not handed out");
    }
    if (it->second.handed && !it->second.key.empty()) {
      auto key = state->keys_in_flight.find(it->second.key);
      if (key != state->keys_in_flight.end() && --key->second <= 0) state->keys_in_flight.erase(key);
    }
    state->buffered.erase(it);
    state->tracker.Finish(receipt.offset);
  }
  cv_.notify_all();
  return Status::Ok();
}

Status KafkaBackend::RetryInPlace(const Receipt& receipt, QueueEntry replacement, int64_t due_ms) {
  {
    std::lock_guard lock(mu_);
    PartitionState* state = FindLocked(receipt);
    if (state == nullptr) return Revoked(receipt);
    auto it = state->buffered.find(receipt.offset);
    if (it == state->buffered.end() || !it->second.handed) {
      return FailedPrecondition("kafka entry " + receipt.Coordinates() + " is not handed out");
    }
    Message& message = it->second;
    if (!message.key.empty()) {
      auto key = state->keys_in_flight.find(message.key);
      if (key != state->keys_in_flight.end() && --key->second <= 0) state->keys_in_flight.erase(key);
    }
    message.handed = false;
    message.value = std::move(replacement.record);
    message.due_ms = due_ms;
    message.gate_ms = due_ms;  // never hops: it waits here until due
  }
  cv_.notify_all();
  return Status::Ok();
}

ProduceDone KafkaBackend::RetireAfter(const Receipt& receipt, const char* what, StatusCallback callback) {
  return [this, receipt, what, callback = std::move(callback)](Durability durability, int32_t, int64_t,
                                                                  const Status& status) {
    if (durability == Durability::kTrue) {
      Status finished = Finish(receipt);
      commit_soon_ = true;
      return callback(finished);
    }
    {
      std::lock_guard lock(mu_);
      if (PartitionState* state = FindLocked(receipt); state != nullptr) {
        auto it = state->buffered.find(receipt.offset);
        if (it != state->buffered.end() && it->second.handed) {
          it->second.handed = false;
          it->second.not_before = NowMillis() + kRetryRestMs;
          if (!it->second.key.empty()) {
            auto key = state->keys_in_flight.find(it->second.key);
            if (key != state->keys_in_flight.end() && --key->second <= 0) state->keys_in_flight.erase(key);
          }
        }
      }
    }
    callback(status.WithContext(std::string("kafka ") + what + " of " + receipt.Coordinates() + " (" +
                                std::string(DurabilityName(durability)) + ")"));
  };
}

}  // namespace wal::queue::kafka
