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
#include "queue/sqs/sqs_config.h"

namespace wal::queue::sqs {
namespace {

using Clock = std::chrono::system_clock;
using Steady = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kDueAttribute[] = "wal-due-ms";
// The ordering key is bytes (the engine joins table, partition and key with
// 0x1F), and SQS refuses String attribute values with control characters
// (InvalidMessageContents), so it travels base64-encoded. The plain attribute
// is still read, for messages written before.
constexpr char kOrderingKeyAttribute[] = "wal-ordering-key-b64";
constexpr char kPlainOrderingKeyAttribute[] = "wal-ordering-key";
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

// Whole seconds of `remaining`, rounded down, capped at `cap`: the DelaySeconds
// of a send. SQS may then release a message up to a second early; the receiver
// holds such a message in memory until its wal-due-ms, so delays keep
// sub-second precision and nothing is handed out early.
int FloorSeconds(milliseconds remaining, seconds cap) {
  if (remaining.count() <= 0) return 0;
  return static_cast<int>(std::min<int64_t>(remaining.count() / 1000, cap.count()));
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
      : config_(config.backend.settings.Get<SqsBackendConfig>()),
        name_(config.name),
        dlq_name_(config_.dlq_queue.empty() ? config.dlq.name : config_.dlq_queue),
        options_(std::move(options)),
        client_(options_.client),
        hop_(std::clamp<seconds>(duration_cast<seconds>(config_.max_delay_hop), seconds(1), seconds(900))),
        per_poll_(std::clamp(config_.max_messages_per_poll, 1, 10)),
        poll_interval_(std::max(config_.poll_interval, milliseconds(0))),
        long_poll_seconds_(static_cast<int>(std::clamp<int64_t>(duration_cast<seconds>(poll_interval_).count(), 0, 20))),
        receiver_count_(std::clamp(config.consumer.concurrency, 1, 4)),
        capacity_(static_cast<size_t>(2 * per_poll_ * receiver_count_)) {
    for (int i = 0; i < std::clamp(options_.sender_threads, 1, 64); ++i) senders_.emplace_back([this] { SenderLoop(); });
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

  // Receiver threads (started by the first Poll) long-poll SQS and keep up to
  // capacity_ received messages here; Poll only waits on that buffer, so the
  // engine's short poll waits cost no SQS requests. A message that is not due
  // yet hops (re-sent with a delay) when it is a second or more away, and is
  // held in memory until its due time when it is closer than that.
  Result<std::vector<Delivery>> Poll(size_t max_entries, milliseconds wait) override {
    if (closed_) return FailedPrecondition("sqs backend: closed");
    std::vector<Delivery> deliveries;
    if (max_entries == 0) return deliveries;
    // A queue that cannot be resolved (does not exist, no access) fails the
    // poll at once, as it fails appends; after that the URL is cached.
    WAL_RETURN_IF_ERROR(MainUrl().status());
    StartReceivers();
    const auto deadline = Steady::now() + wait;
    {
      std::unique_lock lock(buffer_mutex_);
      while (true) {
        PromoteDueLocked(Clock::now());
        if (!ready_.empty() || closed_) break;
        if (!receive_error_.ok()) {
          // Reported once per failed receive, so the engine logs it once.
          Status error = std::move(receive_error_);
          receive_error_ = Status::Ok();
          return error;
        }
        auto now = Steady::now();
        if (now >= deadline) break;
        auto wake = deadline;
        if (!waiting_.empty()) {
          auto until_due = duration_cast<Steady::duration>(waiting_.begin()->first - Clock::now());
          wake = std::min(wake, now + std::max(until_due, Steady::duration::zero()));
        }
        ready_cv_.wait_until(lock, wake);
      }
      while (!ready_.empty() && deliveries.size() < max_entries) {
        deliveries.push_back(std::move(ready_.front()));
        ready_.pop_front();
      }
    }
    space_cv_.notify_all();
    std::sort(deliveries.begin(), deliveries.end(), [](const Delivery& a, const Delivery& b) {
      return a.entry.due != b.entry.due ? a.entry.due < b.entry.due : a.id < b.id;
    });
    return deliveries;
  }

  void Complete(const Delivery& delivery, StatusCallback callback) override {
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

  void Reschedule(const Delivery& delivery, QueueEntry replacement, StatusCallback callback) override {
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

  void DeadLetter(const Delivery& delivery, std::string dead_record, StatusCallback callback) override {
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
    stats.error.clear();
    auto url = self->MainUrl();
    if (!url.ok()) stats.error = "sqs: " + url.status().message();
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
      } else {
        stats.error = "sqs: " + attributes.status().message();
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
      std::lock_guard lock(buffer_mutex_);
      space_cv_.notify_all();
      ready_cv_.notify_all();
    }
    {
      std::lock_guard lock(receivers_mutex_);
      for (auto& receiver : receivers_) {
        if (receiver.joinable()) receiver.join();
      }
    }
    ReleaseBuffered();
    {
      std::lock_guard lock(send_mutex_);
      closing_ = true;
      send_cv_.notify_all();
    }
    for (auto& sender : senders_) {
      if (sender.joinable()) sender.join();
    }
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
    message.delay_seconds = FloorSeconds(duration_cast<milliseconds>(entry.due - now), hop_);
    message.attributes.emplace_back(kDueAttribute, std::to_string(std::max<int64_t>(0, ToMillis(entry.due))));
    if (!entry.ordering_key.empty()) {
      message.attributes.emplace_back(kOrderingKeyAttribute, Base64Encode(entry.ordering_key));
    }
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
      auto key = Base64Decode(it->second);
      delivery.entry.ordering_key = key.ok() ? std::move(key).value() : it->second;
    } else if (auto plain = message.attributes.find(kPlainOrderingKeyAttribute); plain != message.attributes.end()) {
      delivery.entry.ordering_key = plain->second;
    }
    return delivery;
  }

  // A message that is not due yet: re-send it with the remaining delay (capped
  // at one hop) and delete this copy. If the send fails, this copy stays and
  // comes back after its visibility timeout, to hop again.
  void Hop(const std::string& url, const ReceivedMessage& message, TimePoint due, TimePoint now) {
    OutgoingMessage next;
    next.body = message.body;
    next.delay_seconds = FloorSeconds(duration_cast<milliseconds>(due - now), hop_);
    for (const auto& [name, value] : message.attributes) next.attributes.emplace_back(name, value);
    SentMessage sent = client_.SendMessage(url, next);
    if (!sent.status.ok()) return;
    (void)client_.DeleteMessage(url, message.receipt_handle);
  }

  // ---- receiving -----------------------------------------------------------

  void StartReceivers() {
    std::lock_guard lock(receivers_mutex_);
    if (!receivers_.empty() || closed_) return;
    for (int i = 0; i < receiver_count_; ++i) receivers_.emplace_back([this] { ReceiverLoop(); });
  }

  // Sleeps up to `duration`, or until Close().
  void SleepUnlessClosed(milliseconds duration) {
    std::unique_lock lock(buffer_mutex_);
    space_cv_.wait_for(lock, duration, [this] { return closed_.load(); });
  }

  void ReceiverLoop() {
    while (!closed_) {
      {
        std::unique_lock lock(buffer_mutex_);
        space_cv_.wait(lock, [this] { return closed_ || ready_.size() + waiting_.size() < capacity_; });
        if (closed_) return;
      }
      auto url = MainUrl();
      if (!url.ok()) {
        ReportReceiveError(url.status());
        SleepUnlessClosed(milliseconds(1000));
        continue;
      }
      ReceiveOptions receive;
      receive.max_messages = per_poll_;
      receive.wait_seconds = long_poll_seconds_;
      receive.visibility_timeout = static_cast<int>(options_.in_flight_visibility.count());
      receive.cancel = &closed_;
      auto messages = client_.ReceiveMessage(*url, receive);
      if (!messages.ok()) {
        if (closed_) return;
        ReportReceiveError(messages.status());
        SleepUnlessClosed(milliseconds(1000));
        continue;
      }
      if (closed_) {
        Release(*url, *messages);  // not ours to hold any more: visible again at once
        return;
      }
      TimePoint now = Clock::now();
      std::vector<Delivery> due_now;
      std::vector<Delivery> due_soon;
      for (ReceivedMessage& message : *messages) {
        Delivery delivery = ToDelivery(message);
        const TimePoint hold_until = HoldUntil(delivery);
        if (hold_until - now >= seconds(1)) {
          Hop(*url, message, delivery.entry.due, now);
          continue;
        }
        {
          std::lock_guard lock(inflight_mutex_);
          // SQS may hand out a second copy of a message we hold: leave it alone
          // (it reappears after its visibility timeout if we do not retire it).
          if (!inflight_.emplace(delivery.id, InFlight{message.receipt_handle, Steady::now()}).second) continue;
        }
        (hold_until > now ? due_soon : due_now).push_back(std::move(delivery));
      }
      {
        std::lock_guard lock(buffer_mutex_);
        receive_error_ = Status::Ok();
        for (Delivery& delivery : due_now) ready_.push_back(std::move(delivery));
        for (Delivery& delivery : due_soon) {
          TimePoint until = HoldUntil(delivery);
          waiting_.emplace(until, std::move(delivery));
        }
      }
      ready_cv_.notify_all();
      if (messages->empty()) {
        // The queue had nothing for a whole long poll: wait out the rest of
        // the poll interval (short polls when it is under a second).
        if (long_poll_seconds_ == 0) {
          SleepUnlessClosed(std::max(poll_interval_, milliseconds(20)));
        } else if (poll_interval_ > seconds(long_poll_seconds_)) {
          SleepUnlessClosed(poll_interval_ - seconds(long_poll_seconds_));
        }
      }
    }
  }

  // wal-due-ms has millisecond precision: the true due time may lie anywhere
  // in that millisecond, so a message is held until its end.
  static TimePoint HoldUntil(const Delivery& delivery) {
    return delivery.entry.due + milliseconds(1) - TimePoint::duration(1);
  }

  void ReportReceiveError(Status status) {
    {
      std::lock_guard lock(buffer_mutex_);
      receive_error_ = std::move(status);
    }
    ready_cv_.notify_all();
  }

  // Moves held messages whose due time has come to ready_.
  void PromoteDueLocked(TimePoint now) {
    while (!waiting_.empty() && waiting_.begin()->first <= now) {
      ready_.push_back(std::move(waiting_.begin()->second));
      waiting_.erase(waiting_.begin());
    }
  }

  // At Close: messages received but never handed out become visible again now
  // rather than after their visibility timeout.
  void ReleaseBuffered() {
    std::vector<Delivery> buffered;
    {
      std::lock_guard lock(buffer_mutex_);
      for (Delivery& delivery : ready_) buffered.push_back(std::move(delivery));
      for (auto& [due, delivery] : waiting_) buffered.push_back(std::move(delivery));
      ready_.clear();
      waiting_.clear();
    }
    if (buffered.empty()) return;
    auto url = MainUrl();
    for (const Delivery& delivery : buffered) {
      Forget(delivery.id);
      if (url.ok()) (void)client_.ChangeMessageVisibility(*url, delivery.receipt, 0);
    }
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
  struct ForgetOnExit {
    SqsBackend* backend;
    uint64_t id;
    ~ForgetOnExit() { backend->Forget(id); }
  };

  // A retirement call, retried twice on a transient failure (SQS briefly
  // unreachable or throttling) before the entry is left to reappear.
  static Status RetryTransient(const std::function<Status()>& call) {
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

  const SqsBackendConfig config_;
  const std::string name_;
  const std::string dlq_name_;
  const SqsBackendOptions options_;
  SqsClient client_;
  const seconds hop_;
  const int per_poll_;

  std::atomic<bool> closed_{false};

  const milliseconds poll_interval_;
  const int long_poll_seconds_;  // WaitTimeSeconds of each receive
  const int receiver_count_;
  const size_t capacity_;  // received messages buffered (ready + held), at most
  std::mutex receivers_mutex_;
  std::vector<std::thread> receivers_;
  std::mutex buffer_mutex_;
  std::condition_variable ready_cv_;  // pollers: something is ready, or an error
  std::condition_variable space_cv_;  // receivers: room in the buffer, or closing
  std::deque<Delivery> ready_;
  std::multimap<TimePoint, Delivery> waiting_;  // received less than a second early
  Status receive_error_;

  std::mutex url_mutex_;
  std::string main_url_;
  std::string dlq_url_;

  std::mutex send_mutex_;
  std::condition_variable send_cv_;
  std::deque<Pending> pending_;
  bool closing_ = false;
  std::vector<std::thread> senders_;

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
  const SqsBackendConfig& sqs = config.backend.settings.Get<SqsBackendConfig>();
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
  const SqsBackendConfig& sqs = config.backend.settings.Get<SqsBackendConfig>();
  options.client.region = sqs.region;
  options.client.endpoint = sqs.endpoint;
  options.client.credentials = std::move(credentials).value();
  return OpenSqsBackendWithOptions(config, std::move(options));
}

}  // namespace wal::queue::sqs
