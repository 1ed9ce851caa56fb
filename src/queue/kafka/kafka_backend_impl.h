// The Kafka backend's implementation class, shared by the files that hold its
// pieces:
//
//   kafka_backend.cc   the backend itself: open, close, librdkafka configuration
//   producer.cc        Append, producing, delivery reports, the producer thread
//   consumer.cc        Poll: the consumer thread, fetching, delay-tier hops, handing out
//   retire.cc          Complete, Reschedule, DeadLetter, retry in place
//   rebalance.cc       offset commits and partition assignment/revocation
//   topic_admin.cc     creating topics and counting their partitions
//   topic_reader.cc    group-less reads of a topic (DLQ listing, Read)
//   dead_letters.cc    listing, redriving and purging the DLQ
//   dlq_markers.{h,cc} the DLQ removal markers, through FileSystem
//   stats.cc           Stats and the watermark figures behind them
//
// Internal: include only from src/queue/kafka/. The public surface is
// kafka_backend.h.
//
// Threading: `mu_` guards the consumer state (parts_, closed_,
// consumer_started_, tier_end_) and `cv_` wakes Poll; the *Locked methods need
// it. `producer_mu_` is held shared by every produce and exclusively by Close,
// so nothing is produced once Close flushed. `stats_mu_` guards stats_ and
// partition_counts_. librdkafka calls DeliveryReport on the producer thread
// (rd_kafka_poll), RebalanceCallback and CommitCallback on the consumer thread;
// none of them runs under a backend lock.
#pragma once

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/time.h"
#include "queue/kafka/dlq_markers.h"
#include "queue/kafka/kafka_backend.h"
#include "queue/kafka/kafka_internal.h"

namespace wal::queue::kafka {

using Clock = std::chrono::system_clock;
using TopicPartition = std::pair<std::string, int32_t>;

// Partitions holding this many fetched, unfinished messages stop fetching.
inline constexpr size_t kMaxBufferedPerPartition = 2000;
// Entries due less than this far ahead are produced to the main topic (held
// there until due) rather than to a tier topic.
inline constexpr int64_t kMainTopicSlackMs = 100;
// After a failed reschedule/dead-letter/hop the entry rests this long.
inline constexpr int64_t kRetryRestMs = 1000;
// DLQ ids: (partition << 48) | offset, which is the plain offset on partition 0.
inline constexpr int kPartitionShift = 48;
inline constexpr uint64_t kOffsetMask = (uint64_t{1} << kPartitionShift) - 1;
// Partitions added to a topic while we run (kafka-topics --alter) are used by
// the producer and the consumer group once librdkafka refreshes its metadata
// (topic.metadata.refresh.interval.ms); the backlog figures follow this often.
inline constexpr int64_t kPartitionRecountMs = 10'000;
// rd_kafka_consumer_close() waits for the group coordinator (up to
// session.timeout.ms and longer while a commit waits for one), so with the
// broker gone it stalled shutdown for minutes. Close gives up after this; the
// broker then expires the member after session.timeout.ms, and whatever was not
// committed is handed out again (at least once, as after a crash). The producer
// flush at Close is bounded the same way.
inline constexpr int64_t kCloseLimitMs = 10'000;
// With every broker unreachable nothing is going to be acknowledged: do not wait long.
inline constexpr int64_t kCloseLimitBrokersDownMs = 2'000;

struct Watermarks {
  int64_t low = 0;   // first offset still stored
  int64_t high = 0;  // next offset to be written
};

// The watermarks of partitions 0..partitions-1 of `topic`, within `timeout`
// for each of the two ListOffsets rounds. Not rd_kafka_query_watermark_offsets:
// in librdkafka 2.0 it waits for its replies with no deadline, and a request
// in flight when the broker's connection drops is retried until the broker is
// back, so a broker that died mid-query blocked the caller for good (the
// producer thread, and with it the error callbacks and Close). The logical
// timestamps BEGINNING/END make offsets_for_times ask for the same two offsets,
// and it gives up at its timeout.
Result<std::vector<Watermarks>> QueryWatermarks(rd_kafka_t* rk, const std::string& topic, int partitions,
                                                std::chrono::milliseconds timeout);

// The last value of header `name` of `m`, empty when absent.
std::string HeaderValue(const rd_kafka_message_t* m, const char* name);
// A librdkafka configuration with `properties` set; InvalidArgument naming the
// property librdkafka refused. The caller owns the result.
Result<rd_kafka_conf_t*> MakeConf(const std::map<std::string, std::string>& properties);
// librdkafka's log callback: its levels mapped onto spdlog.
void LogCallback(const rd_kafka_t* rk, int level, const char* facility, const char* message);

struct Message {
  int64_t offset = 0;
  int64_t due_ms = 0;
  int64_t gate_ms = 0;  // tier topics: when it is due or hops (see TierGateMs); main topics: due
  std::string key;
  std::string value;
  bool handed = false;     // handed out by Poll, not finished
  bool hopping = false;    // being re-produced to another tier
  int64_t not_before = 0;  // rest after a failed retirement
};

struct PartitionState {
  std::string topic;
  int32_t partition = 0;
  bool is_tier = false;
  Milliseconds tier{0};
  uint64_t generation = 0;
  OffsetTracker tracker;
  std::map<int64_t, Message> buffered;  // fetched and not finished, by offset
  std::map<std::string, int> keys_in_flight;
  bool paused = false;
  int64_t last_committed = -1;
};

// The outcome of one produce, reported from the delivery-report callback.
using ProduceDone = std::function<void(Durability, int32_t partition, int64_t offset, const Status&)>;
struct ProduceOp {
  ProduceDone done;
};

struct DlqRecord {
  uint64_t id = 0;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string value;
  std::string key;
  int64_t due_ms = 0;
  std::string group;  // kGroupHeader of the dead letter: the group it failed in
};

class KafkaBackend final : public Backend {
 public:
  KafkaBackend(const BackendContext& context, KafkaSettings settings)
      : context_(context),
        settings_(std::move(settings)),
        markers_(context_.file_system, context_.data_dir, settings_.dlq_topic) {}
  ~KafkaBackend() override { (void)Close(); }

  // kafka_backend.cc. Loads the DLQ removal markers, creates the producer and
  // tries once to create the topics (the producer thread keeps trying).
  Status Open();

  // ---- Producer (producer.cc) ----
  void Append(QueueEntry entry, AppendCallback callback) override;

  // ---- Consumer (consumer.cc, retire.cc) ----
  Result<std::vector<Delivery>> Poll(size_t max_entries, std::chrono::milliseconds wait) override;
  void Complete(const Delivery& delivery, StatusCallback callback) override;
  void Reschedule(const Delivery& delivery, QueueEntry replacement, StatusCallback callback) override;
  void DeadLetter(const Delivery& delivery, std::string dead_record, StatusCallback callback) override;

  // ---- DLQ administration (dead_letters.cc) ----
  Result<std::vector<StoredEntry>> ListDeadLetters(uint64_t from_id, size_t limit) override;
  Result<uint64_t> RedriveDeadLetters(const std::vector<uint64_t>& ids, const RedriveTransform& transform) override;
  Result<uint64_t> PurgeDeadLetters(const std::vector<uint64_t>& ids) override;

  // ---- Inspection (topic_reader.cc, stats.cc, kafka_backend.cc) ----
  Result<std::vector<StoredEntry>> Read(uint64_t from_id, size_t limit) override;
  BackendStats Stats() const override;
  // Every outstanding produce reports (TRUE/FALSE/UNKNOWN) before Close
  // returns; the consumer commits what finished and leaves its group.
  Status Close() override;

  const std::string& consumer_group() const { return settings_.consumer_group; }

 private:
  struct Hop;

  // ---- Producing (producer.cc) ----
  // Entries due within kMainTopicSlackMs go to the main topic and are held
  // there until due: the engine rounds "now" up to the next millisecond, so an
  // undelayed write is typically due 1 ms ahead, and sending it to a tier topic
  // would split one key's writes over two topics (no order between them).
  const std::string& TopicFor(int64_t due_ms) const;
  // Produces one message; `done` runs exactly once (inline on refusal).
  // A non-empty `group` is written as kGroupHeader: only that consumer group
  // consumes the message.
  void Produce(const std::string& topic, const std::string& key, const std::string& value, int64_t due_ms,
               const char* extra_header, const std::string& extra_value, const std::string& group, ProduceDone done);
  static void DeliveryReport(rd_kafka_t*, const rd_kafka_message_t* m, void*);
  static void ErrorCallback(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  // Serves delivery reports and, in the background, topic creation, the
  // brokers-down probe, partition recounts and stats refreshes.
  void ProducerLoop();
  bool closed_flag();

  // ---- Topics (topic_admin.cc) ----
  Status CreateTopics(const std::vector<std::pair<std::string, int>>& topics, std::chrono::milliseconds timeout);
  Result<int> PartitionCount(rd_kafka_t* rk, const std::string& topic, std::chrono::milliseconds timeout);
  // Creates what is missing: the log topics (wal.topic.partitions partitions),
  // one topic per delay tier (as many partitions as topics[0]) and the DLQ (1).
  Status EnsureTopics(std::chrono::milliseconds timeout);
  void RecountPartitions();

  // ---- Consuming (consumer.cc) ----
  Status StartConsumerLocked();
  void ConsumerLoop();
  // Closes the consumer in the background, serving its callbacks, and gives up
  // after `limit` (see kCloseLimitMs).
  void CloseConsumerWithin(std::chrono::milliseconds limit);
  void HandleMessage(rd_kafka_message_t* m);
  // Hops, pause/resume, and (when `commit`) committing finished prefixes.
  void Tick(int64_t now, bool commit);
  void CollectLocked(size_t max_entries, int64_t now, std::vector<Delivery>* out, int64_t* next_wake);
  PartitionState* FindLocked(const Receipt& receipt);

  // ---- Commits and rebalances (rebalance.cc) ----
  // Commits, per partition, the first offset not yet finished.
  void Commit(bool sync);
  // A failed commit is retried on the next tick.
  void ForgetCommitted(const rd_kafka_topic_partition_list_t* list, rd_kafka_resp_err_t err);
  static void CommitCallback(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets,
                             void* opaque);
  static void RebalanceCallback(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
                                void* opaque);
  void OnAssign(const rd_kafka_topic_partition_list_t* partitions);
  // Commits what the revoked partitions finished (unless the assignment was
  // lost), then forgets them: their unfinished entries go to the next owner.
  void OnRevoke(const rd_kafka_topic_partition_list_t* partitions, bool lost);

  // ---- Retiring (retire.cc) ----
  Status Validate(const Delivery& delivery, Receipt* receipt);
  static Status Revoked(const Receipt& receipt);
  Status Finish(const Receipt& receipt, bool require_handed = true);
  // wal.retry.in_place: the entry stays where it is (its offset uncommitted)
  // with the engine's updated record, and is handed out again when due. Later
  // entries with its key wait behind it, so per-key order survives retries; a
  // crash hands out the original again (attempt count from the original).
  Status RetryInPlace(const Receipt& receipt, QueueEntry replacement, int64_t due_ms);
  // The produce callback of Reschedule/DeadLetter: retire the original only
  // once its successor is durable; otherwise let it rest and hand it out again.
  ProduceDone RetireAfter(const Receipt& receipt, const char* what, StatusCallback callback);

  // ---- Reading (topic_reader.cc, dead_letters.cc) ----
  // Reads `topic` from `from` (an encoded DLQ id when `encoded`, else an offset
  // applied to every partition) up to its high watermark, at most `limit` records
  // per partition, with a group-less assign()-only consumer. Sorted by id.
  Result<std::vector<DlqRecord>> ReadTopic(const std::string& topic, uint64_t from, size_t limit, bool encoded);
  // The DLQ entries `ids` names that are not removed yet (all when empty).
  Result<std::vector<DlqRecord>> SelectDeadLetters(const std::vector<uint64_t>& ids);

  // ---- Stats (stats.cc) ----
  void RefreshStats();

  const BackendContext context_;
  const KafkaSettings settings_;

  // Producer.
  std::shared_mutex producer_mu_;
  bool producer_closed_ = false;
  rd_kafka_t* producer_ = nullptr;
  std::thread producer_thread_;
  std::atomic<bool> stop_producer_{false};
  std::atomic<bool> topics_ready_{false};
  std::atomic<bool> fatal_{false};
  std::atomic<bool> brokers_down_{false};  // the producer reported _ALL_BROKERS_DOWN; cleared by a metadata probe
  std::string fatal_reason_;

  // Consumer state.
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool closed_ = false;
  bool consumer_started_ = false;
  rd_kafka_t* consumer_ = nullptr;
  std::thread consumer_thread_;
  std::atomic<bool> stop_consumer_{false};
  std::atomic<bool> closing_{false};  // the consumer is leaving: no blocking commits
  std::atomic<bool> commit_soon_{false};
  std::map<TopicPartition, std::unique_ptr<PartitionState>> parts_;
  uint64_t next_generation_ = 1;
  uint64_t tier_end_ = 0;

  // Redriven and purged DLQ ids (Kafka cannot delete one record).
  DlqRemovalMarkers markers_;

  mutable std::mutex stats_mu_;
  BackendStats stats_;
  std::map<std::string, int> partition_counts_;  // topic -> partitions, as last counted
};

}  // namespace wal::queue::kafka
