// The SQS backend's implementation class, shared by the files that hold its
// pieces (the contract is in sqs_backend.h):
//
//   sqs_backend.cc   the backend itself: construction, Close, queue URLs, the
//                    message format (attributes, ids), Read, opening
//   sender.cc        Append and the sender threads (SendMessageBatch)
//   receiver.cc      Poll and the receiver threads: long polls, hops, the
//                    in-memory hold of messages less than a second early
//   retire.cc        Complete, Reschedule, DeadLetter on the retire workers
//   visibility.cc    the in-flight set and the heartbeat that extends it
//   dead_letters.cc  listing, redriving and purging the DLQ queue (sweeps)
//   stats.cc         Stats from the queues' approximate counts, cached
//
// Internal: include only from src/queue/sqs/.
//
// Threading: each mutex guards the members declared after it up to the next
// one. `buffer_mutex_` guards what receivers hand to Poll (ready_, waiting_,
// receive_error_); `send_mutex_` the append queue; `task_mutex_` the retire
// queue; `inflight_mutex_` the held messages. `heartbeat_mutex_` serialises
// visibility changes against the heartbeat, so a Reschedule's new visibility
// is not overwritten by an extension. No SQS call is made under
// buffer_mutex_, send_mutex_, task_mutex_ or inflight_mutex_, and callbacks
// never run under a backend lock.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/time.h"
#include "queue/sqs/sqs_backend.h"
#include "queue/sqs/sqs_config.h"

namespace wal::queue::sqs {

using Clock = std::chrono::system_clock;
using Steady = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::seconds;

inline constexpr char kDueAttribute[] = "wal-due-ms";
// The ordering key is bytes (the engine joins table, partition and key with
// 0x1F), and SQS refuses String attribute values with control characters
// (InvalidMessageContents), so it travels base64-encoded. The plain attribute
// is still read, for messages written before.
inline constexpr char kOrderingKeyAttribute[] = "wal-ordering-key-b64";
inline constexpr char kPlainOrderingKeyAttribute[] = "wal-ordering-key";
inline constexpr char kDeadAtAttribute[] = "wal-dead-at-ms";
inline constexpr char kOriginIdAttribute[] = "wal-origin-id";
inline constexpr size_t kMaxSweep = 1000;  // DLQ administration looks at most this many messages per call
inline constexpr seconds kSweepVisibility{30};


inline bool IsUrl(const std::string& queue) {
  return queue.rfind("http://", 0) == 0 || queue.rfind("https://", 0) == 0;
}

// Seconds to wait for `remaining`, rounded up so SQS never hands out early,
// capped at `cap`.
inline int CeilSeconds(milliseconds remaining, seconds cap) {
  if (remaining.count() <= 0) return 0;
  int64_t secs = (remaining.count() + 999) / 1000;
  return static_cast<int>(std::min<int64_t>(secs, cap.count()));
}

// Whole seconds of `remaining`, rounded down, capped at `cap`: the DelaySeconds
// of a send. SQS may then release a message up to a second early; the receiver
// holds such a message in memory until its wal-due-ms, so delays keep
// sub-second precision and nothing is handed out early.
inline int FloorSeconds(milliseconds remaining, seconds cap) {
  if (remaining.count() <= 0) return 0;
  return static_cast<int>(std::min<int64_t>(remaining.count() / 1000, cap.count()));
}

inline size_t MessageSize(const OutgoingMessage& message) {
  size_t size = message.body.size();
  for (const auto& [name, value] : message.attributes) size += name.size() + value.size() + 6;  // + DataType
  return size;
}

struct Task {
  std::function<void()> run;
};

class SqsBackend final : public Backend {
 public:
  // Starts the sender threads, the retire workers and the heartbeat; receivers
  // start on the first Poll.
  SqsBackend(const config::NamespaceConfig& config, SqsBackendOptions options);
  ~SqsBackend() override { (void)Close(); }

  // ---- Producer (sender.cc) ----
  void Append(QueueEntry entry, AppendCallback callback) override;

  // ---- Consumer (receiver.cc, retire.cc) ----
  // Receiver threads (started by the first Poll) long-poll SQS and keep up to
  // capacity_ received messages here; Poll only waits on that buffer, so the
  // engine's short poll waits cost no SQS requests. A message that is not due
  // yet hops (re-sent with a delay) when it is a second or more away, and is
  // held in memory until its due time when it is closer than that.
  Result<std::vector<Delivery>> Poll(size_t max_entries, milliseconds wait) override;
  void Complete(const Delivery& delivery, StatusCallback callback) override;
  void Reschedule(const Delivery& delivery, QueueEntry replacement, StatusCallback callback) override;
  void DeadLetter(const Delivery& delivery, std::string dead_record, StatusCallback callback) override;

  // ---- DLQ administration (dead_letters.cc) ----
  Result<std::vector<StoredEntry>> ListDeadLetters(uint64_t from_id, size_t limit) override;
  Result<uint64_t> RedriveDeadLetters(const std::vector<uint64_t>& ids, const RedriveTransform& transform) override;
  Result<uint64_t> PurgeDeadLetters(const std::vector<uint64_t>& ids) override;

  // ---- Inspection (sqs_backend.cc, stats.cc) ----
  Result<std::vector<StoredEntry>> Read(uint64_t, size_t) override;
  BackendStats Stats() const override;
  Status Close() override;

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

  // ---- Message format and queues (sqs_backend.cc) ----
  static uint64_t ParseCount(const std::string& value);
  OutgoingMessage MakeMessage(const QueueEntry& entry, std::string body, TimePoint now_or_zero) const;
  Delivery ToDelivery(const ReceivedMessage& message) const;
  Result<std::string> ResolveUrl(const std::string& queue, std::string* cache);
  Result<std::string> MainUrl() { return ResolveUrl(config_.queue, &main_url_); }
  Result<std::string> DlqUrl() { return ResolveUrl(dlq_name_, &dlq_url_); }

  // ---- Sending (sender.cc) ----
  void SenderLoop();
  void SendBatch(std::vector<Pending>& batch);

  // ---- Receiving (receiver.cc) ----
  // A message that is not due yet: re-send it with the remaining delay (capped
  // at one hop) and delete this copy. If the send fails, this copy stays and
  // comes back after its visibility timeout, to hop again.
  void Hop(const std::string& url, const ReceivedMessage& message, TimePoint due, TimePoint now);
  void StartReceivers();
  // Sleeps up to `duration`, or until Close().
  void SleepUnlessClosed(milliseconds duration);
  void ReceiverLoop();
  // wal-due-ms has millisecond precision: the true due time may lie anywhere
  // in that millisecond, so a message is held until its end.
  static TimePoint HoldUntil(const Delivery& delivery);
  void ReportReceiveError(Status status);
  // Moves held messages whose due time has come to ready_.
  void PromoteDueLocked(TimePoint now);
  // At Close: messages received but never handed out become visible again now
  // rather than after their visibility timeout.
  void ReleaseBuffered();

  // ---- Retiring (retire.cc) ----
  // A retirement call, retried twice on a transient failure (SQS briefly
  // unreachable or throttling) before the entry is left to reappear.
  static Status RetryTransient(const std::function<Status()>& call);
  // Runs `work` on a retire worker and hands its status to `callback`.
  void Post(StatusCallback callback, std::function<Status()> work);
  void WorkerLoop();

  // ---- Visibility of held messages (visibility.cc) ----
  // This process stops holding `id`: the heartbeat no longer extends it.
  void Forget(uint64_t id);
  struct ForgetOnExit {
    SqsBackend* backend;
    uint64_t id;
    ~ForgetOnExit() { backend->Forget(id); }
  };
  // Extends the visibility of every held message about every third of
  // in_flight_visibility, so a crash redelivers within in_flight_visibility.
  void HeartbeatLoop();

  // ---- DLQ sweeps (dead_letters.cc) ----
  // Receives up to kMaxSweep messages of `queue`, hiding them for
  // kSweepVisibility so one sweep sees each once. Callers Release() what they
  // did not delete.
  Result<std::vector<ReceivedMessage>> Sweep(const std::string& queue);
  void Release(const std::string& queue, const std::vector<ReceivedMessage>& messages);

  void InvalidateStats() { stats_stale_ = true; }

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

}  // namespace wal::queue::sqs
