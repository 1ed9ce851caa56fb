#include "queue/sqs/sqs_backend_impl.h"

// Retiring handed-out messages on the retire workers: Complete deletes,
// Reschedule hides (or re-sends) and DeadLetter moves to the DLQ queue.

namespace wal::queue::sqs {

void SqsBackend::Complete(const Delivery& delivery, StatusCallback callback) {
  std::string receipt = delivery.receipt;
  uint64_t id = delivery.id;
  Post(std::move(callback), [this, receipt, id]() -> Status {
    // Whatever happens, this process stops holding the message: if the delete
    // failed, SQS makes it visible again when its visibility runs out (at
    // most in_flight_visibility, as the heartbeat no longer extends it) and it
    // is delivered again (at-least-once) instead of staying hidden for good.
    ForgetOnExit forget{this, id};
    WAL_ASSIGN_OR_RETURN(std::string url, MainUrl());
    return RetryTransient([&] { return client_.DeleteMessage(url, receipt); });
  });
}

void SqsBackend::Reschedule(const Delivery& delivery, QueueEntry replacement, StatusCallback callback) {
  std::string receipt = delivery.receipt;
  uint64_t id = delivery.id;
  auto shared = std::make_shared<QueueEntry>(std::move(replacement));
  Post(std::move(callback), [this, receipt, id, shared]() -> Status {
    ForgetOnExit forget{this, id};
    WAL_ASSIGN_OR_RETURN(std::string url, MainUrl());
    auto delay = duration_cast<milliseconds>(shared->due - Clock::now());
    if (delay <= kMaxVisibilityTimeout) {
      // Hidden until the retry is due; SQS counts the next receive, and that
      // count (ApproximateReceiveCount) is the attempt number.
      // On failure the message still reappears when its current visibility
      // runs out (at most in_flight_visibility): a retry that comes early.
      std::lock_guard heartbeat(heartbeat_mutex_);
      Forget(id);
      return RetryTransient(
          [&] { return client_.ChangeMessageVisibility(url, receipt, CeilSeconds(delay, kMaxVisibilityTimeout)); });
    }
    OutgoingMessage message = MakeMessage(*shared, Base64Encode(shared->record), {});
    if (MessageSize(message) > options_.max_message_bytes) {
      return InvalidArgument("sqs backend: rescheduled record exceeds the SQS message size limit");
    }
    SentMessage sent = client_.SendMessage(url, message);
    WAL_RETURN_IF_ERROR(sent.status);
    return RetryTransient([&] { return client_.DeleteMessage(url, receipt); });
  });
}

void SqsBackend::DeadLetter(const Delivery& delivery, std::string dead_record, StatusCallback callback) {
  std::string receipt = delivery.receipt;
  uint64_t id = delivery.id;
  auto record = std::make_shared<std::string>(std::move(dead_record));
  Post(std::move(callback), [this, receipt, id, record]() -> Status {
    ForgetOnExit forget{this, id};
    WAL_ASSIGN_OR_RETURN(std::string url, MainUrl());
    WAL_ASSIGN_OR_RETURN(std::string dlq, DlqUrl());
    OutgoingMessage message;
    message.body = Base64Encode(*record);
    message.attributes = {{kDeadAtAttribute, std::to_string(ToMillis(Clock::now()))},
                          {kOriginIdAttribute, std::to_string(id)}};
    if (MessageSize(message) > options_.max_message_bytes) {
      return InvalidArgument("sqs backend: dead-letter record of " + std::to_string(record->size()) +
                             " bytes exceeds the SQS message size limit of " +
                             std::to_string(options_.max_message_bytes) + " bytes");
    }
    SentMessage sent = client_.SendMessage(dlq, message);
    if (!sent.status.ok()) return sent.status.WithContext("moving entry to the DLQ " + dlq_name_);
    return RetryTransient([&] { return client_.DeleteMessage(url, receipt); });
  });
}

Status SqsBackend::RetryTransient(const std::function<Status()>& call) {
  Status status;
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(milliseconds(250 * attempt));
    status = call();
    if (status.ok() || (status.code() != StatusCode::kUnavailable && status.code() != StatusCode::kDeadlineExceeded)) {
      break;
    }
  }
  return status;
}

void SqsBackend::Post(StatusCallback callback, std::function<Status()> work) {
  {
    std::lock_guard lock(task_mutex_);
    if (!tasks_closing_) {
      tasks_.push_back(Task{[callback = std::move(callback), work = std::move(work), this] {
        Status status = work();
        InvalidateStats();
        callback(status);
      }});
      task_cv_.notify_one();
      return;
    }
  }
  callback(FailedPrecondition("sqs backend: closed"));
}

void SqsBackend::WorkerLoop() {
  while (true) {
    Task task;
    {
      std::unique_lock lock(task_mutex_);
      task_cv_.wait(lock, [&] { return tasks_closing_ || !tasks_.empty(); });
      if (tasks_.empty()) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task.run();
  }
}

}  // namespace wal::queue::sqs
