#include "queue/sqs/sqs_backend.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <vector>

#include "queue/sqs/sigv4.h"

namespace wal::queue::sqs {
namespace {

using Clock = std::chrono::system_clock;
using Steady = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kDueAttribute[] = "wal-due-ms";
constexpr char kOrderingKeyAttribute[] = "wal-ordering-key";
constexpr char kDeadAtAttribute[] = "wal-dead-at-ms";
constexpr char kOriginIdAttribute[] = "wal-origin-id";
constexpr size_t kMaxSweep = 1000;  // DLQ administration looks at most this many messages per call
constexpr seconds kSweepVisibility{30};

int64_t ToMillis(TimePoint time) { return duration_cast<milliseconds>(time.time_since_epoch()).count(); }
TimePoint FromMillis(int64_t ms) { return TimePoint(milliseconds(ms)); }

bool IsUrl(const std::string& queue) { return queue.rfind("http://", 0) == 0 || queue.rfind("https://", 0) == 0; }

// Seconds to wait for `remaining`, rounded up so SQS never hands out early,
// capped at `cap`.
int CeilSeconds(milliseconds remaining, seconds cap) {
  if (remaining.count() <= 0) return 0;
  int64_t secs = (remaining.count() + 999) / 1000;
  return static_cast<int>(std::min<int64_t>(secs, cap.count()));
}

size_t MessageSize(const OutgoingMessage& message) {
  size_t size = message.body.size();
  for (const auto& [name, value] : message.attributes) size += name.size() + value.size() + 6;  // + DataType
  return size;
}

struct Task {
  std::function<void()> run;
};

class SqsBackend final : public Backend {
 public:
  SqsBackend(const config::NamespaceConfig& config, SqsBackendOptions options)
      : config_(config.backend.sqs),
        name_(config.name),
        dlq_name_(config.backend.sqs.dlq_queue.empty() ? config.dlq.name : config.backend.sqs.dlq_queue),
        options_(std::move(options)),
        client_(options_.client),
        hop_(std::clamp<seconds>(duration_cast<seconds>(config_.max_delay_hop), seconds(1), seconds(900))),
        per_poll_(std::clamp(config_.max_messages_per_poll, 1, 10)) {
    sender_ = std::thread([this] { SenderLoop(); });
    for (int i = 0; i < 2; ++i) workers_.emplace_back([this] { WorkerLoop(); });
    heartbeat_ = std::thread([this] { HeartbeatLoop(); });
  }

  ~SqsBackend() override { (void)Close(); }

  // ---- producer ------------------------------------------------------------

  void Append(QueueEntry entry, AppendCallback callback) override {
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

  // ---- consumer ------------------------------------------------------------

  Result<std::vector<Delivery>> Poll(size_t max_entries, milliseconds wait) override {
    if (closed_) return FailedPrecondition("sqs backend: closed");
    std::vector<Delivery> deliveries;
    if (max_entries == 0) return deliveries;
    WAL_ASSIGN_OR_RETURN(std::string url, MainUrl());
    auto deadline = Steady::now() + wait;
    while (true) {
      auto remaining = duration_cast<milliseconds>(deadline - Steady::now());
      int wait_seconds = static_cast<int>(std::clamp<int64_t>(remaining.count() / 1000, 0, 20));
      ReceiveOptions receive;
      receive.max_messages = static_cast<int>(std::min<size_t>(max_entries, size_t(per_poll_)));
      receive.wait_seconds = wait_seconds;
      receive.visibility_timeout = static_cast<int>(options_.in_flight_visibility.count());
      auto messages = client_.ReceiveMessage(url, receive);
      if (!messages.ok()) return messages.status();
      TimePoint now = Clock::now();
      for (ReceivedMessage& message : *messages) {
        Delivery delivery = ToDelivery(message);
        if (delivery.entry.due > now) {
          Hop(url, message, delivery.entry.due, now);
          continue;
        }
        {
          std::lock_guard lock(inflight_mutex_);
          // SQS may hand out a second copy of a message we hold: leave it alone
          // (it reappears after its visibility timeout if we do not retire it).
          if (!inflight_.emplace(delivery.id, InFlight{message.receipt_handle, Steady::now()}).second) continue;
        }
        deliveries.push_back(std::move(delivery));
      }
      if (!deliveries.empty() || closed_) break;
      if (wait_seconds == 0 && messages->empty()) break;
      if (Steady::now() >= deadline) break;
    }
    std::sort(deliveries.begin(), deliveries.end(), [](const Delivery& a, const Delivery& b) {
      return a.entry.due != b.entry.due ? a.entry.due < b.entry.due : a.id < b.id;
    });
    return deliveries;
  }

  void Complete(const Delivery& delivery, StatusCallback callback) override {
    std::string receipt = delivery.receipt;
    uint64_t id = delivery.id;
    Post(std::move(callback), [this, receipt, id]() -> Status {
      WAL_ASSIGN_OR_RETURN(std::string url, MainUrl());
      WAL_RETURN_IF_ERROR(client_.DeleteMessage(url, receipt));
      Forget(id);
      return Status::Ok();
    });
  }

  void Reschedule(const Delivery& delivery, QueueEntry replacement, StatusCallback callback) override {
    std::string receipt = delivery.receipt;
    uint64_t id = delivery.id;
    auto shared = std::make_shared<QueueEntry>(std::move(replacement));
    Post(std::move(callback), [this, receipt, id, shared]() -> Status {
      WAL_ASSIGN_OR_RETURN(std::string url, MainUrl());
      auto delay = duration_cast<milliseconds>(shared->due - Clock::now());
      if (delay <= kMaxVisibilityTimeout) {
        // Hidden until the retry is due; SQS counts the next receive, and that
        // count (ApproximateReceiveCount) is the attempt number.
        std::lock_guard heartbeat(heartbeat_mutex_);
        Forget(id);
        Status status = client_.ChangeMessageVisibility(url, receipt, CeilSeconds(delay, kMaxVisibilityTimeout));
        if (!status.ok()) Hold(id, receipt);
        return status;
      }
      OutgoingMessage message = MakeMessage(*shared, Base64Encode(shared->record), {});
      if (MessageSize(message) > options_.max_message_bytes) {
        return InvalidArgument("sqs backend: rescheduled record exceeds the SQS message size limit");
      }
      SentMessage sent = client_.SendMessage(url, message);
      WAL_RETURN_IF_ERROR(sent.status);
      WAL_RETURN_IF_ERROR(client_.DeleteMessage(url, receipt));
      Forget(id);
      return Status::Ok();
    });
  }

  void DeadLetter(const Delivery& delivery, std::string dead_record, StatusCallback callback) override {
    std::string receipt = delivery.receipt;
    uint64_t id = delivery.id;
    auto record = std::make_shared<std::string>(std::move(dead_record));
    Post(std::move(callback), [this, receipt, id, record]() -> Status {
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
      WAL_RETURN_IF_ERROR(client_.DeleteMessage(url, receipt));
      Forget(id);
      return Status::Ok();
    });
  }

  // ---- DLQ administration --------------------------------------------------

  Result<std::vector<StoredEntry>> ListDeadLetters(uint64_t from_id, size_t limit) override {
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

  Result<uint64_t> RedriveDeadLetters(const std::vector<uint64_t>& ids, const RedriveTransform& transform) override {
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

  Result<uint64_t> PurgeDeadLetters(const std::vector<uint64_t>& ids) override {
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

  // ---- inspection ----------------------------------------------------------

  Result<std::vector<StoredEntry>> Read(uint64_t, size_t) override {
    return FailedPrecondition(
        "sqs backend: reading the main queue is not supported: every SQS receive, even a peek, raises the "
        "message's ApproximateReceiveCount, which is its attempt count; see the counts in the namespace stats");
  }

  BackendStats Stats() const override {
    std::lock_guard lock(stats_mutex_);
    if (stats_valid_ && !stats_stale_.exchange(false) && Steady::now() - stats_at_ < options_.stats_cache) {
      return stats_;
    }
    auto* self = const_cast<SqsBackend*>(this);
    BackendStats stats = stats_;
    stats.writable = false;
    auto url = self->MainUrl();
    if (url.ok()) {
      auto attributes = self->client_.GetQueueAttributes(
          *url, {"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed",
                 "ApproximateNumberOfMessagesNotVisible"});
      if (attributes.ok()) {
        uint64_t visible = ParseCount((*attributes)["ApproximateNumberOfMessages"]);
        uint64_t delayed = ParseCount((*attributes)["ApproximateNumberOfMessagesDelayed"]);
        uint64_t hidden = ParseCount((*attributes)["ApproximateNumberOfMessagesNotVisible"]);
        stats.pending = visible + delayed + hidden;
        stats.pending_delayed = delayed;
        stats.in_flight = hidden;
        stats.writable = true;
      }
    }
    auto dlq = self->DlqUrl();
    if (dlq.ok()) {
      auto attributes = self->client_.GetQueueAttributes(
          *dlq, {"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed",
                 "ApproximateNumberOfMessagesNotVisible"});
      if (attributes.ok()) {
        stats.dead_letters = 0;
        for (const auto& [name, value] : *attributes) stats.dead_letters += ParseCount(value);
      }
    }
    stats_ = stats;
    stats_valid_ = true;
    stats_at_ = Steady::now();
    return stats;
  }

  Status Close() override {
    if (closed_.exchange(true)) return Status::Ok();
    {
      std::lock_guard lock(send_mutex_);
      closing_ = true;
      send_cv_.notify_all();
    }
    if (sender_.joinable()) sender_.join();
    {
      std::lock_guard lock(task_mutex_);
      tasks_closing_ = true;
      task_cv_.notify_all();
    }
    for (auto& worker : workers_) {
      if (worker.joinable()) worker.join();
    }
    {
      std::lock_guard lock(inflight_mutex_);
      heartbeat_stop_ = true;
      heartbeat_cv_.notify_all();
    }
    if (heartbeat_.joinable()) heartbeat_.join();
    return Status::Ok();
  }

 private:
  struct Pending {
    QueueEntry entry;
    OutgoingMessage message;
    AppendCallback callback;
  };
  struct InFlight {
    std::string receipt;
    Steady::time_point extended_at;
  };

  static uint64_t ParseCount(const std::string& value) {
    try {
      return value.empty() ? 0 : std::stoull(value);
    } catch (const std::exception&) {
      return 0;
    }
  }

  OutgoingMessage MakeMessage(const QueueEntry& entry, std::string body, TimePoint now_or_zero) const {
    OutgoingMessage message;
    message.body = std::move(body);
    TimePoint now = now_or_zero == TimePoint{} ? Clock::now() : now_or_zero;
    message.delay_seconds = CeilSeconds(duration_cast<milliseconds>(entry.due - now), hop_);
    message.attributes.emplace_back(kDueAttribute, std::to_string(std::max<int64_t>(0, ToMillis(entry.due))));
    if (!entry.ordering_key.empty()) message.attributes.emplace_back(kOrderingKeyAttribute, entry.ordering_key);
    return message;
  }

  Delivery ToDelivery(const ReceivedMessage& message) const {
    Delivery delivery;
    delivery.id = EntryIdForMessage(message.message_id);
    delivery.receipt = message.receipt_handle;
    delivery.receive_count = message.receive_count;
    auto record = Base64Decode(message.body);
    // A body that is not base64 was not written by us; hand it out as is.
    delivery.entry.record = record.ok() ? std::move(record).value() : message.body;
    if (auto it = message.attributes.find(kDueAttribute); it != message.attributes.end()) {
      delivery.entry.due = FromMillis(static_cast<int64_t>(ParseCount(it->second)));
    }
    if (auto it = message.attributes.find(kOrderingKeyAttribute); it != message.attributes.end()) {
      delivery.entry.ordering_key = it->second;
    }
    return delivery;
  }

  // A message that is not due yet: re-send it with the remaining delay (capped
  // at one hop) and delete this copy. If the send fails, this copy stays and
  // comes back after its visibility timeout, to hop again.
  void Hop(const std::string& url, const ReceivedMessage& message, TimePoint due, TimePoint now) {
    OutgoingMessage next;
    next.body = message.body;
    next.delay_seconds = CeilSeconds(duration_cast<milliseconds>(due - now), hop_);
    for (const auto& [name, value] : message.attributes) next.attributes.emplace_back(name, value);
    SentMessage sent = client_.SendMessage(url, next);
    if (!sent.status.ok()) return;
    (void)client_.DeleteMessage(url, message.receipt_handle);
  }

  Result<std::string> ResolveUrl(const std::string& queue, std::string* cache) {
    {
      std::lock_guard lock(url_mutex_);
      if (!cache->empty()) return *cache;
    }
    if (queue.empty()) return FailedPrecondition("sqs backend: namespace " + name_ + " names no queue");
    std::string url;
    if (IsUrl(queue)) {
      url = queue;
    } else {
      auto resolved = client_.GetQueueUrl(queue);
      if (!resolved.ok()) return resolved.status();
      url = std::move(resolved).value();
    }
    std::lock_guard lock(url_mutex_);
    *cache = url;
    return url;
  }
  Result<std::string> MainUrl() { return ResolveUrl(config_.queue, &main_url_); }
  Result<std::string> DlqUrl() { return ResolveUrl(dlq_name_, &dlq_url_); }

  // Receives up to kMaxSweep messages of `queue`, hiding them for
  // kSweepVisibility so one sweep sees each once. Callers Release() what they
  // did not delete.
  Result<std::vector<ReceivedMessage>> Sweep(const std::string& queue) {
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

  void Release(const std::string& queue, const std::vector<ReceivedMessage>& messages) {
    for (const ReceivedMessage& message : messages) {
      (void)client_.ChangeMessageVisibility(queue, message.receipt_handle, 0);
    }
  }

  void Forget(uint64_t id) {
    std::lock_guard lock(inflight_mutex_);
    inflight_.erase(id);
  }
  void Hold(uint64_t id, const std::string& receipt) {
    std::lock_guard lock(inflight_mutex_);
    inflight_.emplace(id, InFlight{receipt, Steady::now()});
  }

  void InvalidateStats() { stats_stale_ = true; }

  // Runs `work` on a retire worker and hands its status to `callback`.
  void Post(StatusCallback callback, std::function<Status()> work) {
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

  void WorkerLoop() {
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

  void SenderLoop() {
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

  void SendBatch(std::vector<Pending>& batch) {
    auto url = MainUrl();
    if (!url.ok()) {
      for (Pending& pending : batch) pending.callback(AppendOutcome{Durability::kFalse, 0, url.status()});
      return;
    }
    std::vector<OutgoingMessage> messages;
    TimePoint now = Clock::now();
    for (Pending& pending : batch) {
      // The delay counts from now, not from Append(): time spent queued is not added.
      pending.message.delay_seconds = CeilSeconds(duration_cast<milliseconds>(pending.entry.due - now), hop_);
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

  void HeartbeatLoop() {
    const auto period = std::max<milliseconds>(milliseconds(500), options_.in_flight_visibility / 3);
    std::unique_lock lock(inflight_mutex_);
    while (!heartbeat_stop_) {
      heartbeat_cv_.wait_for(lock, period);
      if (heartbeat_stop_) break;
      std::vector<std::pair<uint64_t, std::string>> due;
      auto now = Steady::now();
      for (const auto& [id, held] : inflight_) {
        if (now - held.extended_at >= period) due.emplace_back(id, held.receipt);
      }
      if (due.empty()) continue;
      lock.unlock();
      {
        std::lock_guard serial(heartbeat_mutex_);
        auto url = MainUrl();
        for (const auto& [id, receipt] : due) {
          if (!url.ok()) break;
          {
            std::lock_guard check(inflight_mutex_);
            auto it = inflight_.find(id);
            if (it == inflight_.end() || it->second.receipt != receipt) continue;  // retired meanwhile
          }
          Status status =
              client_.ChangeMessageVisibility(*url, receipt, static_cast<int>(options_.in_flight_visibility.count()));
          std::lock_guard update(inflight_mutex_);
          auto it = inflight_.find(id);
          if (it == inflight_.end()) continue;
          if (status.ok()) {
            it->second.extended_at = Steady::now();
          } else if (status.code() == StatusCode::kInvalidArgument) {
            inflight_.erase(it);  // the receipt expired: SQS already made the message visible again
          }
        }
      }
      lock.lock();
    }
  }

  const config::SqsBackendConfig config_;
  const std::string name_;
  const std::string dlq_name_;
  const SqsBackendOptions options_;
  SqsClient client_;
  const seconds hop_;
  const int per_poll_;

  std::atomic<bool> closed_{false};

  std::mutex url_mutex_;
  std::string main_url_;
  std::string dlq_url_;

  std::mutex send_mutex_;
  std::condition_variable send_cv_;
  std::deque<Pending> pending_;
  bool closing_ = false;
  std::thread sender_;

  std::mutex task_mutex_;
  std::condition_variable task_cv_;
  std::deque<Task> tasks_;
  bool tasks_closing_ = false;
  std::vector<std::thread> workers_;

  std::mutex heartbeat_mutex_;  // serialises visibility changes against the heartbeat
  std::mutex inflight_mutex_;
  std::condition_variable heartbeat_cv_;
  std::unordered_map<uint64_t, InFlight> inflight_;
  bool heartbeat_stop_ = false;
  std::thread heartbeat_;

  mutable std::mutex stats_mutex_;
  mutable BackendStats stats_;
  mutable bool stats_valid_ = false;
  mutable std::atomic<bool> stats_stale_{false};
  mutable Steady::time_point stats_at_;
};

}  // namespace

uint64_t EntryIdForMessage(std::string_view message_id) {
  std::string hex = Sha256Hex(message_id).substr(0, 16);
  return std::stoull(hex, nullptr, 16) & 0x7fffffffffffffffULL;
}

Result<std::unique_ptr<Backend>> OpenSqsBackendWithOptions(const config::NamespaceConfig& config,
                                                           SqsBackendOptions options) {
  const config::SqsBackendConfig& sqs = config.backend.sqs;
  if (sqs.queue.empty()) {
    return InvalidArgument("namespace " + config.name + ": backend.sqs.queue: required for the sqs backend");
  }
  if (!sqs.region.empty()) options.client.region = sqs.region;
  if (options.client.endpoint.empty()) options.client.endpoint = sqs.endpoint;
  if (options.max_message_bytes == 0) options.max_message_bytes = kMaxSqsMessageBytes;
  if (options.in_flight_visibility < seconds(1)) options.in_flight_visibility = seconds(1);
  return std::unique_ptr<Backend>(new SqsBackend(config, std::move(options)));
}

Result<std::unique_ptr<Backend>> OpenSqsBackend(const BackendContext& /*context*/,
                                                const config::NamespaceConfig& config) {
  auto credentials = LoadCredentials(ProcessEnvironment());
  if (!credentials.ok()) return credentials.status().WithContext("namespace " + config.name + ": sqs backend");
  SqsBackendOptions options;
  options.client.region = config.backend.sqs.region;
  options.client.endpoint = config.backend.sqs.endpoint;
  options.client.credentials = std::move(credentials).value();
  return OpenSqsBackendWithOptions(config, std::move(options));
}

}  // namespace wal::queue::sqs
