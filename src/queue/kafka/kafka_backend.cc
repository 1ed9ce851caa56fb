#include "queue/kafka/kafka_backend.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <future>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <sstream>
#include <thread>
#include <utility>

#include "queue/kafka/kafka_internal.h"

namespace wal::queue::kafka {
namespace {

using Clock = std::chrono::system_clock;
using TopicPartition = std::pair<std::string, int32_t>;

// Partitions holding this many fetched, unfinished messages stop fetching.
constexpr size_t kMaxBufferedPerPartition = 2000;
// Entries due less than this far ahead are produced to the main topic (held
// there until due) rather than to a tier topic.
constexpr int64_t kMainTopicSlackMs = 100;
// After a failed reschedule/dead-letter/hop the entry rests this long.
constexpr int64_t kRetryRestMs = 1000;
// DLQ ids: (partition << 48) | offset, which is the plain offset on partition 0.
constexpr int kPartitionShift = 48;
constexpr uint64_t kOffsetMask = (uint64_t{1} << kPartitionShift) - 1;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count();
}
TimePoint FromMs(int64_t ms) { return TimePoint(std::chrono::milliseconds(ms)); }
// Due times travel as whole milliseconds, rounded up so "not before due" holds
// for the caller's exact instant.
int64_t DueMs(TimePoint t) {
  return std::chrono::ceil<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

bool ParseInt64(std::string_view text, int64_t* out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size() && !text.empty();
}

std::string HeaderValue(const rd_kafka_message_t* m, const char* name) {
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(m, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR || headers == nullptr) return "";
  const void* value = nullptr;
  size_t size = 0;
  if (rd_kafka_header_get_last(headers, name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR || value == nullptr) return "";
  return std::string(static_cast<const char*>(value), size);
}

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
                                                std::chrono::milliseconds timeout) {
  std::vector<Watermarks> marks(static_cast<size_t>(std::max(partitions, 0)));
  for (const int64_t which : {int64_t{RD_KAFKA_OFFSET_BEGINNING}, int64_t{RD_KAFKA_OFFSET_END}}) {
    if (marks.empty()) break;
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
    for (int32_t p = 0; p < partitions; ++p) rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = which;
    rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(rk, list, static_cast<int>(timeout.count()));
    for (int i = 0; i < list->cnt && err == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
      const rd_kafka_topic_partition_t& entry = list->elems[i];
      if (entry.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        err = entry.err;
      } else if (entry.offset < 0) {
        err = RD_KAFKA_RESP_ERR__BAD_MSG;  // the partition was missing from the response
      } else {
        Watermarks& mark = marks[static_cast<size_t>(entry.partition)];
        (which == RD_KAFKA_OFFSET_BEGINNING ? mark.low : mark.high) = entry.offset;
      }
    }
    rd_kafka_topic_partition_list_destroy(list);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Unavailable("kafka watermarks of " + topic + ": " + rd_kafka_err2str(err));
    }
  }
  return marks;
}

Result<rd_kafka_conf_t*> MakeConf(const std::map<std::string, std::string>& properties) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char error[512];
  for (const auto& [key, value] : properties) {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), error, sizeof(error)) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return InvalidArgument("backend.kafka.properties." + key + ": " + error);
    }
  }
  return conf;
}

void LogCallback(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
  // Shared properties land on both clients; librdkafka warns about the half
  // that does not apply.
  if (std::strcmp(facility, "CONFWARN") == 0) level = 7;
  if (level <= 3) {
    spdlog::error("kafka {}: {}: {}", rd_kafka_name(rk), facility, message);
  } else if (level == 4) {
    spdlog::warn("kafka {}: {}: {}", rd_kafka_name(rk), facility, message);
  } else {
    spdlog::debug("kafka {}: {}: {}", rd_kafka_name(rk), facility, message);
  }
}

// Where a Delivery came from; the text form is Delivery.receipt.
struct Receipt {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  uint64_t generation = 0;  // the assignment it was handed out under

  std::string Coordinates() const { return topic + "/" + std::to_string(partition) + "/" + std::to_string(offset); }
  std::string ToString() const { return Coordinates() + "/" + std::to_string(generation); }

  static bool Parse(const std::string& text, Receipt* out) {
    std::vector<std::string> parts;
    std::stringstream stream(text);
    std::string part;
    while (std::getline(stream, part, '/')) parts.push_back(part);
    if (parts.size() != 4 || parts[0].empty()) return false;
    int64_t partition = 0, offset = 0, generation = 0;
    if (!ParseInt64(parts[1], &partition) || !ParseInt64(parts[2], &offset) || !ParseInt64(parts[3], &generation)) {
      return false;
    }
    out->topic = parts[0];
    out->partition = static_cast<int32_t>(partition);
    out->offset = offset;
    out->generation = static_cast<uint64_t>(generation);
    return true;
  }
};

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
      : context_(context), settings_(std::move(settings)) {}
  ~KafkaBackend() override { (void)Close(); }

  Status Open() {
    LoadRemovedMarkers();
    WAL_ASSIGN_OR_RETURN(rd_kafka_conf_t * conf, MakeConf(settings_.producer_properties));
    rd_kafka_conf_set_opaque(conf, this);
    rd_kafka_conf_set_dr_msg_cb(conf, &KafkaBackend::DeliveryReport);
    rd_kafka_conf_set_error_cb(conf, &KafkaBackend::ErrorCallback);
    rd_kafka_conf_set_log_cb(conf, &LogCallback);
    char error[512];
    producer_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
    if (producer_ == nullptr) {
      rd_kafka_conf_destroy(conf);
      return InvalidArgument(std::string("kafka producer: ") + error);
    }
    // One quick attempt so a reachable broker has the topics before Open returns;
    // otherwise the producer thread keeps trying.
    Status topics = EnsureTopics(std::chrono::milliseconds(5000));
    if (!topics.ok()) {
      spdlog::warn("namespace {}: kafka topics not ready yet (retrying in the background): {}", settings_.name,
                   topics.ToString());
    }
    producer_thread_ = std::thread([this] { ProducerLoop(); });
    return Status::Ok();
  }

  // ---- Producer side -------------------------------------------------------

  void Append(QueueEntry entry, AppendCallback callback) override {
    const int64_t due_ms = DueMs(entry.due);
    Produce(TopicFor(due_ms), entry.ordering_key, entry.record, due_ms, "", "", /*group=*/"",
            [callback = std::move(callback)](Durability durability, int32_t, int64_t offset, const Status& status) {
              AppendOutcome outcome;
              outcome.durability = durability;
              outcome.id = offset >= 0 ? static_cast<uint64_t>(offset) : 0;
              outcome.status = status;
              callback(outcome);
            });
  }

  // ---- Consumer side -------------------------------------------------------

  Result<std::vector<Delivery>> Poll(size_t max_entries, std::chrono::milliseconds wait) override {
    std::unique_lock lock(mu_);
    if (closed_) return FailedPrecondition("kafka backend of namespace " + settings_.name + " is closed");
    if (!consumer_started_) WAL_RETURN_IF_ERROR(StartConsumerLocked());
    const int64_t deadline = NowMs() + wait.count();
    std::vector<Delivery> out;
    while (true) {
      const int64_t now = NowMs();
      int64_t next_wake = deadline;
      CollectLocked(max_entries, now, &out, &next_wake);
      if (!out.empty() || now >= deadline || closed_) return out;
      cv_.wait_until(lock, FromMs(std::min(deadline, std::max(next_wake, now + 1))));
    }
  }

  void Complete(const Delivery& delivery, StatusCallback callback) override {
    Receipt receipt;
    Status status = Validate(delivery, &receipt);
    if (status.ok()) status = Finish(receipt);
    callback(status);
  }

  void Reschedule(const Delivery& delivery, QueueEntry replacement, StatusCallback callback) override {
    Receipt receipt;
    if (Status status = Validate(delivery, &receipt); !status.ok()) return callback(status);
    const int64_t due_ms = DueMs(replacement.due);
    if (settings_.retry_in_place) return callback(RetryInPlace(receipt, std::move(replacement), due_ms));
    Produce(TopicFor(due_ms), replacement.ordering_key, replacement.record, due_ms, kSupersedesHeader,
            receipt.Coordinates(), settings_.consumer_group, RetireAfter(receipt, "reschedule", std::move(callback)));
  }

  void DeadLetter(const Delivery& delivery, std::string dead_record, StatusCallback callback) override {
    Receipt receipt;
    if (Status status = Validate(delivery, &receipt); !status.ok()) return callback(status);
    Produce(settings_.dlq_topic, delivery.entry.ordering_key, dead_record, DueMs(delivery.entry.due), kDeadFromHeader,
            receipt.Coordinates(), settings_.consumer_group, RetireAfter(receipt, "dead-letter", std::move(callback)));
  }

  // ---- Dead-letter queue administration ------------------------------------

  Result<std::vector<StoredEntry>> ListDeadLetters(uint64_t from_id, size_t limit) override {
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

  Result<uint64_t> RedriveDeadLetters(const std::vector<uint64_t>& ids, const RedriveTransform& transform) override {
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

  Result<uint64_t> PurgeDeadLetters(const std::vector<uint64_t>& ids) override {
    WAL_ASSIGN_OR_RETURN(std::vector<DlqRecord> records, SelectDeadLetters(ids));
    uint64_t purged = 0;
    for (const DlqRecord& record : records) {
      WAL_RETURN_IF_ERROR(MarkRemoved(record.id));
      ++purged;
    }
    return purged;
  }

  const std::string& consumer_group() const { return settings_.consumer_group; }

  // ---- Inspection ----------------------------------------------------------

  Result<std::vector<StoredEntry>> Read(uint64_t from_id, size_t limit) override {
    WAL_ASSIGN_OR_RETURN(std::vector<DlqRecord> records, ReadTopic(settings_.topics[0], from_id, limit, false));
    std::vector<StoredEntry> out;
    for (DlqRecord& record : records) {
      if (out.size() >= limit) break;
      out.push_back(StoredEntry{record.id, std::move(record.value)});
    }
    return out;
  }

  BackendStats Stats() const override {
    BackendStats stats;
    {
      std::lock_guard lock(stats_mu_);
      stats = stats_;
    }
    std::lock_guard lock(mu_);
    uint64_t in_flight = 0, committed_main = 0, committed_tier = 0;
    for (const auto& [tp, state] : parts_) {
      for (const auto& [offset, message] : state->buffered) in_flight += message.handed ? 1 : 0;
      const uint64_t committed = state->last_committed > 0 ? static_cast<uint64_t>(state->last_committed) : 0;
      (state->is_tier ? committed_tier : committed_main) += committed;
    }
    stats.in_flight = in_flight;
    stats.consumed = std::min(committed_main, stats.log_end);
    const uint64_t tier_pending = tier_end_ > committed_tier ? tier_end_ - committed_tier : 0;
    stats.pending_delayed = consumer_started_ ? tier_pending : tier_end_;
    stats.pending = (stats.log_end - (consumer_started_ ? stats.consumed : stats.first_id)) + stats.pending_delayed;
    stats.writable = !fatal_.load();
    if (!stats.writable) {
      stats.error = "kafka producer hit a fatal error (" + fatal_reason_ + "); reopen the namespace";
    } else if (brokers_down_.load()) {
      stats.error = "every kafka broker of " + settings_.bootstrap_servers + " is unreachable; writes wait, then "
                    "answer UNKNOWN";
    }
    return stats;
  }

  Status Close() override {
    {
      std::lock_guard lock(mu_);
      if (closed_) return Status::Ok();
      closed_ = true;
    }
    cv_.notify_all();
    {
      std::unique_lock lock(producer_mu_);  // no Produce after this
      producer_closed_ = true;
    }
    if (producer_ != nullptr) {
      // Every outstanding produce reports (TRUE/FALSE/UNKNOWN) before Close
      // returns: those the broker has not acknowledged within the bound are
      // purged and answered UNKNOWN, so a broker outage cannot stall shutdown.
      const int flush_ms = static_cast<int>(
          brokers_down_.load() ? kCloseLimitBrokersDownMs
                               : std::min<int64_t>(settings_.message_timeout.count() + 2000, kCloseLimitMs));
      if (rd_kafka_flush(producer_, flush_ms) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_purge(producer_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        (void)rd_kafka_flush(producer_, 1000);
      }
    }
    stop_consumer_ = true;
    if (consumer_thread_.joinable()) consumer_thread_.join();
    stop_producer_ = true;
    if (producer_thread_.joinable()) producer_thread_.join();
    if (producer_ != nullptr) {
      rd_kafka_poll(producer_, 0);
      rd_kafka_destroy(producer_);
      producer_ = nullptr;
    }
    return Status::Ok();
  }

 private:
  // ---- Producing -------------------------------------------------------------

  // Entries due within kMainTopicSlackMs go to the main topic and are held
  // there until due: the engine rounds "now" up to the next millisecond, so an
  // undelayed write is typically due 1 ms ahead, and sending it to a tier topic
  // would split one key's writes over two topics (no order between them).
  const std::string& TopicFor(int64_t due_ms) const {
    const int64_t remaining = due_ms - NowMs();
    if (remaining <= kMainTopicSlackMs) return settings_.topics[0];
    return settings_.tier_topics[SelectTier(settings_.tiers, Milliseconds(remaining))];
  }

  // Produces one message; `done` runs exactly once (inline on refusal).
  // A non-empty `group` is written as kGroupHeader: only that consumer group
  // consumes the message.
  void Produce(const std::string& topic, const std::string& key, const std::string& value, int64_t due_ms,
               const char* extra_header, const std::string& extra_value, const std::string& group, ProduceDone done) {
    std::shared_lock lock(producer_mu_);
    if (producer_closed_ || producer_ == nullptr) {
      lock.unlock();
      return done(Durability::kFalse, -1, -1, Unavailable("kafka backend of namespace " + settings_.name + " is closed"));
    }
    if (fatal_.load()) {
      lock.unlock();
      return done(Durability::kFalse, -1, -1,
                  Unavailable("kafka producer hit a fatal error (" + fatal_reason_ + "); reopen the namespace"));
    }
    rd_kafka_headers_t* headers = rd_kafka_headers_new(3);
    const std::string due_text = std::to_string(due_ms);
    rd_kafka_header_add(headers, kDueHeader, -1, due_text.data(), static_cast<ssize_t>(due_text.size()));
    if (extra_header != nullptr && *extra_header != '\0') {
      rd_kafka_header_add(headers, extra_header, -1, extra_value.data(), static_cast<ssize_t>(extra_value.size()));
    }
    if (!group.empty()) {
      rd_kafka_header_add(headers, kGroupHeader, -1, group.data(), static_cast<ssize_t>(group.size()));
    }
    auto* op = new ProduceOp{std::move(done)};
    rd_kafka_resp_err_t err = rd_kafka_producev(
        producer_, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
        RD_KAFKA_V_KEY(key.empty() ? nullptr : key.data(), key.size()), RD_KAFKA_V_HEADERS(headers),
        RD_KAFKA_V_OPAQUE(op), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      lock.unlock();
      rd_kafka_headers_destroy(headers);
      ProduceDone callback = std::move(op->done);
      delete op;
      const std::string why = std::string("kafka produce to ") + topic + " refused: " + rd_kafka_err2str(err);
      Status status = err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ? ResourceExhausted(why)
                      : err == RD_KAFKA_RESP_ERR__QUEUE_FULL   ? ResourceExhausted(why)
                                                                : Unavailable(why);
      callback(Durability::kFalse, -1, -1, status);
    }
  }

  static void DeliveryReport(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
    auto* op = static_cast<ProduceOp*>(m->_private);
    if (op == nullptr) return;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      op->done(Durability::kTrue, m->partition, m->offset, Status::Ok());
    } else {
      const std::string why = std::string("kafka delivery to ") + rd_kafka_topic_name(m->rkt) + ": " + rd_kafka_err2str(m->err);
      // NOT_PERSISTED: the broker certainly does not have it. Anything else
      // (timed out in flight, connection lost after sending) may be stored.
      const bool not_stored = rd_kafka_message_status(m) == RD_KAFKA_MSG_STATUS_NOT_PERSISTED;
      Status status = m->err == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT ? DeadlineExceeded(why)
                      : m->err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE || m->err == RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE
                          ? ResourceExhausted(why)
                          : Unavailable(why);
      op->done(not_stored ? Durability::kFalse : Durability::kUnknown, m->partition, -1, status);
    }
    delete op;
  }

  static void ErrorCallback(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
    auto* self = static_cast<KafkaBackend*>(opaque);
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
      char buffer[512];
      rd_kafka_fatal_error(rk, buffer, sizeof(buffer));
      spdlog::error("namespace {}: kafka fatal error: {}", self->settings_.name, buffer);
      if (rd_kafka_type(rk) == RD_KAFKA_PRODUCER) {
        self->fatal_reason_ = buffer;
        self->fatal_ = true;
      }
      return;
    }
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN && rd_kafka_type(rk) == RD_KAFKA_PRODUCER) self->brokers_down_ = true;
    spdlog::warn("namespace {}: kafka {}: {}", self->settings_.name, rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)),
                 reason);
  }

  void ProducerLoop() {
    int64_t next_topics = 0, next_stats = 0, next_partitions = 0;
    while (!stop_producer_.load()) {
      rd_kafka_poll(producer_, 50);
      const int64_t now = NowMs();
      if (!topics_ready_.load() && now >= next_topics && !closed_flag()) {
        Status status = EnsureTopics(std::chrono::milliseconds(3000));
        if (!status.ok()) spdlog::debug("namespace {}: kafka topics: {}", settings_.name, status.ToString());
        next_topics = NowMs() + 2000;
        next_partitions = NowMs() + kPartitionRecountMs;
      }
      // While every broker is down only a metadata request probes for their
      // return: a watermark query gives up at its timeout (QueryWatermarks) but
      // leaves its request retrying until a broker is back.
      if (brokers_down_.load() && now >= next_stats && !closed_flag()) {
        if (PartitionCount(producer_, settings_.topics[0], std::chrono::milliseconds(500)).ok()) brokers_down_ = false;
        next_stats = NowMs() + 2000;
        continue;
      }
      if (topics_ready_.load() && now >= next_partitions && !closed_flag()) {
        RecountPartitions();
        next_partitions = NowMs() + kPartitionRecountMs;
      }
      if (topics_ready_.load() && now >= next_stats && !closed_flag()) {
        RefreshStats();
        next_stats = NowMs() + 2000;
      }
    }
  }

  // Partitions added to a topic while we run (kafka-topics --alter) are used by
  // the producer and the consumer group once librdkafka refreshes its metadata
  // (topic.metadata.refresh.interval.ms); the backlog figures follow here.
  static constexpr int64_t kPartitionRecountMs = 10'000;
  void RecountPartitions() {
    std::vector<std::string> topics = {settings_.topics[0], settings_.dlq_topic};
    topics.insert(topics.end(), settings_.tier_topics.begin(), settings_.tier_topics.end());
    std::map<std::string, int> counts;
    for (const std::string& topic : topics) {
      auto count = PartitionCount(producer_, topic, std::chrono::milliseconds(1000));
      if (!count.ok()) return;
      counts[topic] = *count;
    }
    std::lock_guard lock(stats_mu_);
    for (const auto& [topic, count] : counts) {
      const int before = partition_counts_[topic];
      if (before != count) {
        spdlog::info("namespace {}: topic {} now has {} partitions (was {})", settings_.name, topic, count, before);
      }
    }
    partition_counts_ = std::move(counts);
  }

  bool closed_flag() {
    std::lock_guard lock(mu_);
    return closed_;
  }

  // ---- Topics ---------------------------------------------------------------

  Status CreateTopics(const std::vector<std::pair<std::string, int>>& topics, std::chrono::milliseconds timeout) {
    char error[512];
    std::vector<rd_kafka_NewTopic_t*> new_topics;
    for (const auto& [name, partitions] : topics) {
      rd_kafka_NewTopic_t* topic =
          rd_kafka_NewTopic_new(name.c_str(), partitions, settings_.replication_factor, error, sizeof(error));
      if (topic == nullptr) {
        for (auto* t : new_topics) rd_kafka_NewTopic_destroy(t);
        return InvalidArgument("kafka topic " + name + ": " + error);
      }
      new_topics.push_back(topic);
    }
    rd_kafka_AdminOptions_t* options = rd_kafka_AdminOptions_new(producer_, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_request_timeout(options, static_cast<int>(timeout.count()), error, sizeof(error));
    rd_kafka_queue_t* queue = rd_kafka_queue_new(producer_);
    rd_kafka_CreateTopics(producer_, new_topics.data(), new_topics.size(), options, queue);
    rd_kafka_event_t* event = rd_kafka_queue_poll(queue, static_cast<int>(timeout.count()) + 1000);
    Status status;
    if (event == nullptr) {
      status = Unavailable("kafka CreateTopics timed out");
    } else if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      status = Unavailable(std::string("kafka CreateTopics: ") + rd_kafka_event_error_string(event));
    } else {
      const rd_kafka_CreateTopics_result_t* result = rd_kafka_event_CreateTopics_result(event);
      size_t count = 0;
      const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(result, &count);
      for (size_t i = 0; i < count && status.ok(); ++i) {
        rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
          const char* message = rd_kafka_topic_result_error_string(results[i]);
          status = Unavailable(std::string("kafka create topic ") + rd_kafka_topic_result_name(results[i]) + ": " +
                               (message ? message : rd_kafka_err2str(err)));
        }
      }
    }
    if (event != nullptr) rd_kafka_event_destroy(event);
    rd_kafka_queue_destroy(queue);
    rd_kafka_AdminOptions_destroy(options);
    for (auto* t : new_topics) rd_kafka_NewTopic_destroy(t);
    return status;
  }

  Result<int> PartitionCount(rd_kafka_t* rk, const std::string& topic, std::chrono::milliseconds timeout) {
    rd_kafka_topic_t* handle = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
    const rd_kafka_metadata_t* metadata = nullptr;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, handle, &metadata, static_cast<int>(timeout.count()));
    rd_kafka_topic_destroy(handle);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return Unavailable("kafka metadata for " + topic + ": " + rd_kafka_err2str(err));
    int count = -1;
    rd_kafka_resp_err_t topic_err = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (metadata->topic_cnt == 1) {
      count = metadata->topics[0].partition_cnt;
      topic_err = metadata->topics[0].err;
    }
    rd_kafka_metadata_destroy(metadata);
    if (topic_err != RD_KAFKA_RESP_ERR_NO_ERROR || count <= 0) {
      return Unavailable("kafka topic " + topic + ": " + rd_kafka_err2str(topic_err));
    }
    return count;
  }

  // Creates what is missing: the log topics (wal.topic.partitions partitions),
  // one topic per delay tier (as many partitions as topics[0]) and the DLQ (1).
  Status EnsureTopics(std::chrono::milliseconds timeout) {
    std::vector<std::pair<std::string, int>> main;
    for (const std::string& topic : settings_.topics) main.emplace_back(topic, settings_.topic_partitions);
    WAL_RETURN_IF_ERROR(CreateTopics(main, timeout));
    WAL_ASSIGN_OR_RETURN(int partitions, PartitionCount(producer_, settings_.topics[0], timeout));
    std::vector<std::pair<std::string, int>> others;
    for (const std::string& topic : settings_.tier_topics) others.emplace_back(topic, partitions);
    others.emplace_back(settings_.dlq_topic, 1);
    WAL_RETURN_IF_ERROR(CreateTopics(others, timeout));
    std::map<std::string, int> counts = {{settings_.topics[0], partitions}};
    for (const std::string& topic : settings_.tier_topics) {
      WAL_ASSIGN_OR_RETURN(counts[topic], PartitionCount(producer_, topic, timeout));
    }
    WAL_ASSIGN_OR_RETURN(counts[settings_.dlq_topic], PartitionCount(producer_, settings_.dlq_topic, timeout));
    {
      std::lock_guard lock(stats_mu_);
      partition_counts_ = std::move(counts);
    }
    topics_ready_ = true;
    cv_.notify_all();
    return Status::Ok();
  }

  // ---- Consumer ---------------------------------------------------------------

  Status StartConsumerLocked() {
    WAL_ASSIGN_OR_RETURN(rd_kafka_conf_t * conf, MakeConf(settings_.consumer_properties));
    rd_kafka_conf_set_opaque(conf, this);
    rd_kafka_conf_set_rebalance_cb(conf, &KafkaBackend::RebalanceCallback);
    rd_kafka_conf_set_offset_commit_cb(conf, &KafkaBackend::CommitCallback);
    rd_kafka_conf_set_error_cb(conf, &KafkaBackend::ErrorCallback);
    rd_kafka_conf_set_log_cb(conf, &LogCallback);
    char error[512];
    consumer_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof(error));
    if (consumer_ == nullptr) {
      rd_kafka_conf_destroy(conf);
      return InvalidArgument(std::string("kafka consumer: ") + error);
    }
    rd_kafka_poll_set_consumer(consumer_);
    consumer_started_ = true;
    consumer_thread_ = std::thread([this] { ConsumerLoop(); });
    return Status::Ok();
  }

  void ConsumerLoop() {
    bool subscribed = false;
    int64_t last_commit = 0;
    while (!stop_consumer_.load()) {
      if (!subscribed) {
        if (!topics_ready_.load()) {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          continue;
        }
        rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(8);
        for (const std::string& topic : settings_.topics) {
          rd_kafka_topic_partition_list_add(topics, topic.c_str(), RD_KAFKA_PARTITION_UA);
        }
        for (const std::string& topic : settings_.tier_topics) {
          rd_kafka_topic_partition_list_add(topics, topic.c_str(), RD_KAFKA_PARTITION_UA);
        }
        rd_kafka_resp_err_t err = rd_kafka_subscribe(consumer_, topics);
        rd_kafka_topic_partition_list_destroy(topics);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
          spdlog::warn("namespace {}: kafka subscribe: {}", settings_.name, rd_kafka_err2str(err));
          std::this_thread::sleep_for(std::chrono::milliseconds(500));
          continue;
        }
        subscribed = true;
      }
      rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer_, 20);
      for (int n = 0; m != nullptr; ++n) {
        HandleMessage(m);
        rd_kafka_message_destroy(m);
        m = n < 500 ? rd_kafka_consumer_poll(consumer_, 0) : nullptr;
      }
      const int64_t now = NowMs();
      const bool commit = commit_soon_.exchange(false) || now - last_commit >= settings_.commit_interval.count();
      Tick(now, commit);
      if (commit) last_commit = now;
    }
    // Final commit of everything finished, then leave the group (revokes run).
    closing_ = true;
    if (subscribed) Commit(/*sync=*/false);
    CloseConsumerWithin(std::chrono::milliseconds(brokers_down_.load() ? kCloseLimitBrokersDownMs : kCloseLimitMs));
    consumer_ = nullptr;
  }

  // rd_kafka_consumer_close() waits for the group coordinator (up to
  // session.timeout.ms and longer while a commit waits for one), so with the
  // broker gone it stalled shutdown for minutes. Close in the background, serve
  // its callbacks, and give up after `limit`: the broker then expires this
  // member after session.timeout.ms, and whatever was not committed is handed
  // out again (at least once, as after a crash).
  static constexpr int64_t kCloseLimitMs = 10'000;
  // With every broker unreachable nothing is going to be acknowledged: do not wait long.
  static constexpr int64_t kCloseLimitBrokersDownMs = 2'000;
  void CloseConsumerWithin(std::chrono::milliseconds limit) {
    rd_kafka_queue_t* queue = rd_kafka_queue_new(consumer_);
    bool closed = false;
    if (rd_kafka_error_t* error = rd_kafka_consumer_close_queue(consumer_, queue)) {
      spdlog::warn("namespace {}: kafka consumer close: {}", settings_.name, rd_kafka_error_string(error));
      rd_kafka_error_destroy(error);
    } else {
      const int64_t deadline = NowMs() + limit.count();
      while (!(closed = rd_kafka_consumer_closed(consumer_) != 0) && NowMs() < deadline) {
        (void)rd_kafka_queue_poll_callback(queue, 100);
      }
    }
    rd_kafka_queue_destroy(queue);
    if (!closed) {
      spdlog::warn("namespace {}: kafka consumer did not leave its group within {} ms (broker unreachable?); "
                   "closing without it: unfinished entries are redelivered to the group",
                   settings_.name, limit.count());
    }
    rd_kafka_destroy_flags(consumer_, closed ? 0 : RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  }

  void HandleMessage(rd_kafka_message_t* m) {
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        spdlog::warn("namespace {}: kafka consume: {}", settings_.name, rd_kafka_message_errstr(m));
      }
      return;
    }
    const std::string topic = rd_kafka_topic_name(m->rkt);
    rd_kafka_timestamp_type_t type;
    int64_t produced_ms = rd_kafka_message_timestamp(m, &type);
    if (produced_ms < 0) produced_ms = NowMs();
    int64_t due_ms = 0;
    if (!ParseInt64(HeaderValue(m, kDueHeader), &due_ms)) due_ms = produced_ms;  // foreign message: due now
    const std::string owner = HeaderValue(m, kGroupHeader);
    std::lock_guard lock(mu_);
    auto it = parts_.find({topic, m->partition});
    if (it == parts_.end()) return;  // revoked meanwhile
    PartitionState& state = *it->second;
    if (m->offset < state.tracker.next()) return;  // already seen (refetch after a resume)
    if (!owner.empty() && owner != settings_.consumer_group) {
      // Another group's retry or hop copy: that group delivers it, we skip it.
      state.tracker.Add(m->offset);
      state.tracker.Finish(m->offset);
      return;
    }
    Message message;
    message.offset = m->offset;
    message.due_ms = due_ms;
    message.gate_ms = state.is_tier ? TierGateMs(produced_ms, due_ms, state.tier) : due_ms;
    if (m->key != nullptr) message.key.assign(static_cast<const char*>(m->key), m->key_len);
    if (m->payload != nullptr) message.value.assign(static_cast<const char*>(m->payload), m->len);
    state.tracker.Add(m->offset);
    state.buffered.emplace(m->offset, std::move(message));
    cv_.notify_all();
  }

  struct Hop {
    Receipt from;
    std::string key, value;
    int64_t due_ms;
  };

  // Hops, pause/resume, and (when `commit`) committing finished prefixes.
  void Tick(int64_t now, bool commit) {
    std::vector<Hop> hops;
    rd_kafka_topic_partition_list_t* pause = rd_kafka_topic_partition_list_new(4);
    rd_kafka_topic_partition_list_t* resume = rd_kafka_topic_partition_list_new(4);
    {
      std::lock_guard lock(mu_);
      for (auto& [tp, state] : parts_) {
        if (state->is_tier && !closed_) {
          for (auto& [offset, message] : state->buffered) {
            if (message.handed || message.hopping || now < message.not_before) continue;
            if (now >= message.gate_ms && message.due_ms > now) {
              message.hopping = true;
              hops.push_back(Hop{Receipt{state->topic, state->partition, offset, state->generation}, message.key,
                                 message.value, message.due_ms});
            }
          }
        }
        bool want_pause = state->buffered.size() >= kMaxBufferedPerPartition;
        // A tier topic is FIFO in gate order: once the newest fetched message is
        // not at its gate yet, nothing behind it is either, so stop fetching.
        if (state->is_tier && !state->buffered.empty() && state->buffered.rbegin()->second.gate_ms > now) want_pause = true;
        if (want_pause != state->paused) {
          rd_kafka_topic_partition_list_add(want_pause ? pause : resume, state->topic.c_str(), state->partition);
          state->paused = want_pause;
        }
      }
    }
    if (pause->cnt > 0) rd_kafka_pause_partitions(consumer_, pause);
    if (resume->cnt > 0) rd_kafka_resume_partitions(consumer_, resume);
    rd_kafka_topic_partition_list_destroy(pause);
    rd_kafka_topic_partition_list_destroy(resume);
    for (Hop& hop : hops) {
      // The message sat out its tier but is not due: move it to the tier that
      // fits the rest of its delay, then retire the old copy.
      Receipt from = hop.from;
      Produce(TopicFor(hop.due_ms), hop.key, hop.value, hop.due_ms, "", "", settings_.consumer_group,
              [this, from](Durability durability, int32_t, int64_t, const Status& status) {
                if (durability == Durability::kTrue) {
                  (void)Finish(from, /*require_handed=*/false);
                  return;
                }
                spdlog::warn("namespace {}: delay hop of {} failed: {}", settings_.name, from.Coordinates(), status.ToString());
                std::lock_guard lock(mu_);
                if (PartitionState* state = FindLocked(from); state != nullptr) {
                  auto it = state->buffered.find(from.offset);
                  if (it != state->buffered.end()) {
                    it->second.hopping = false;
                    it->second.not_before = NowMs() + kRetryRestMs;
                  }
                }
              });
    }
    if (commit) Commit(/*sync=*/false);
  }

  // Commits, per partition, the first offset not yet finished.
  void Commit(bool sync) {
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(4);
    {
      std::lock_guard lock(mu_);
      for (auto& [tp, state] : parts_) {
        const int64_t position = state->tracker.Committable();
        if (position >= 0 && position > state->last_committed) {
          rd_kafka_topic_partition_list_add(list, state->topic.c_str(), state->partition)->offset = position;
          state->last_committed = position;
        }
      }
    }
    if (list->cnt > 0) {
      rd_kafka_resp_err_t err = rd_kafka_commit(consumer_, list, sync ? 0 : 1);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) ForgetCommitted(list, err);
    }
    rd_kafka_topic_partition_list_destroy(list);
  }

  // A failed commit is retried on the next tick.
  void ForgetCommitted(const rd_kafka_topic_partition_list_t* list, rd_kafka_resp_err_t err) {
    spdlog::warn("namespace {}: kafka offset commit failed: {}", settings_.name, rd_kafka_err2str(err));
    std::lock_guard lock(mu_);
    for (int i = 0; i < list->cnt; ++i) {
      auto it = parts_.find({list->elems[i].topic, list->elems[i].partition});
      if (it != parts_.end()) it->second->last_committed = -1;
    }
  }

  static void CommitCallback(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets, void* opaque) {
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET || offsets == nullptr) return;
    static_cast<KafkaBackend*>(opaque)->ForgetCommitted(offsets, err);
  }

  static void RebalanceCallback(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
                                void* opaque) {
    auto* self = static_cast<KafkaBackend*>(opaque);
    const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      self->OnAssign(partitions);
      if (cooperative) {
        if (rd_kafka_error_t* error = rd_kafka_incremental_assign(rk, partitions)) rd_kafka_error_destroy(error);
      } else {
        rd_kafka_assign(rk, partitions);
      }
    } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
      self->OnRevoke(partitions, rd_kafka_assignment_lost(rk) != 0);
      if (cooperative) {
        if (rd_kafka_error_t* error = rd_kafka_incremental_unassign(rk, partitions)) rd_kafka_error_destroy(error);
      } else {
        rd_kafka_assign(rk, nullptr);
      }
    } else {
      spdlog::warn("namespace {}: kafka rebalance error: {}", self->settings_.name, rd_kafka_err2str(err));
      self->OnRevoke(partitions, true);
      rd_kafka_assign(rk, nullptr);
    }
  }

  void OnAssign(const rd_kafka_topic_partition_list_t* partitions) {
    std::lock_guard lock(mu_);
    for (int i = 0; i < partitions->cnt; ++i) {
      auto state = std::make_unique<PartitionState>();
      state->topic = partitions->elems[i].topic;
      state->partition = partitions->elems[i].partition;
      state->generation = next_generation_++;
      for (size_t t = 0; t < settings_.tier_topics.size(); ++t) {
        if (settings_.tier_topics[t] == state->topic) {
          state->is_tier = true;
          state->tier = settings_.tiers[t];
        }
      }
      parts_[{state->topic, state->partition}] = std::move(state);
    }
    spdlog::info("namespace {}: kafka assigned {} partition(s)", settings_.name, partitions->cnt);
  }

  // Commits what the revoked partitions finished (unless the assignment was
  // lost), then forgets them: their unfinished entries go to the next owner.
  void OnRevoke(const rd_kafka_topic_partition_list_t* partitions, bool lost) {
    if (!lost && consumer_ != nullptr) {
      rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(4);
      {
        std::lock_guard lock(mu_);
        for (int i = 0; i < partitions->cnt; ++i) {
          auto it = parts_.find({partitions->elems[i].topic, partitions->elems[i].partition});
          if (it == parts_.end()) continue;
          const int64_t position = it->second->tracker.Committable();
          if (position >= 0 && position > it->second->last_committed) {
            rd_kafka_topic_partition_list_add(list, it->second->topic.c_str(), it->second->partition)->offset = position;
          }
        }
      }
      if (list->cnt > 0) {
        // While closing, a synchronous commit could wait on a coordinator that is gone.
        rd_kafka_resp_err_t err = rd_kafka_commit(consumer_, list, closing_ ? 1 : 0);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
          spdlog::warn("namespace {}: kafka commit on revoke: {}", settings_.name, rd_kafka_err2str(err));
        }
      }
      rd_kafka_topic_partition_list_destroy(list);
    }
    std::lock_guard lock(mu_);
    for (int i = 0; i < partitions->cnt; ++i) parts_.erase({partitions->elems[i].topic, partitions->elems[i].partition});
    spdlog::info("namespace {}: kafka revoked {} partition(s){}", settings_.name, partitions->cnt, lost ? " (lost)" : "");
  }

  // ---- Handing out and retiring ----------------------------------------------

  void CollectLocked(size_t max_entries, int64_t now, std::vector<Delivery>* out, int64_t* next_wake) {
    struct Candidate {
      PartitionState* state;
      Message* message;
    };
    std::vector<Candidate> candidates;
    for (auto& [tp, state] : parts_) {
      std::set<std::string> blocked;  // keys with an earlier entry not handed out or in flight
      for (auto& [offset, message] : state->buffered) {
        const bool keyed = !message.key.empty();
        if (message.handed || message.hopping) {
          if (keyed) blocked.insert(message.key);
          continue;
        }
        if (keyed && (state->keys_in_flight.count(message.key) || blocked.count(message.key))) continue;
        if (message.due_ms > now || message.not_before > now) {
          if (keyed) blocked.insert(message.key);
          // Tier messages not due at their gate hop (the consumer thread wakes us).
          const int64_t wake = std::max(message.due_ms, message.not_before);
          if (!state->is_tier || message.due_ms <= message.gate_ms) *next_wake = std::min(*next_wake, wake);
          continue;
        }
        candidates.push_back({state.get(), &message});
        if (keyed) blocked.insert(message.key);
      }
    }
    std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
      if (a.message->due_ms != b.message->due_ms) return a.message->due_ms < b.message->due_ms;
      return a.message->offset < b.message->offset;
    });
    if (candidates.size() > max_entries) candidates.resize(max_entries);
    for (Candidate& c : candidates) {
      c.message->handed = true;
      if (!c.message->key.empty()) ++c.state->keys_in_flight[c.message->key];
      Delivery delivery;
      delivery.id = static_cast<uint64_t>(c.message->offset);
      delivery.entry.record = c.message->value;
      delivery.entry.due = FromMs(c.message->due_ms);
      delivery.entry.ordering_key = c.message->key;
      delivery.receipt = Receipt{c.state->topic, c.state->partition, c.message->offset, c.state->generation}.ToString();
      out->push_back(std::move(delivery));
    }
  }

  PartitionState* FindLocked(const Receipt& receipt) {
    auto it = parts_.find({receipt.topic, receipt.partition});
    if (it == parts_.end() || it->second->generation != receipt.generation) return nullptr;
    return it->second.get();
  }

  Status Validate(const Delivery& delivery, Receipt* receipt) {
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

  static Status Revoked(const Receipt& receipt) {
    return FailedPrecondition("kafka partition " + receipt.topic + "/" + std::to_string(receipt.partition) +
                              " was revoked from this consumer; entry " + receipt.Coordinates() +
                              " will be handed out again by its new owner");
  }

  Status Finish(const Receipt& receipt, bool require_handed = true) {
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

  // wal.retry.in_place: the entry stays where it is (its offset uncommitted)
  // with the engine's updated record, and is handed out again when due. Later
  // entries with its key wait behind it, so per-key order survives retries; a
  // crash hands out the original again (attempt count from the original).
  Status RetryInPlace(const Receipt& receipt, QueueEntry replacement, int64_t due_ms) {
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

  // The produce callback of Reschedule/DeadLetter: retire the original only
  // once its successor is durable; otherwise let it rest and hand it out again.
  ProduceDone RetireAfter(const Receipt& receipt, const char* what, StatusCallback callback) {
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
            it->second.not_before = NowMs() + kRetryRestMs;
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

  // ---- Reading (DLQ, inspection) ----------------------------------------------

  // Reads `topic` from `from` (an encoded DLQ id when `encoded`, else an offset
  // applied to every partition) up to its high watermark, at most `limit` records
  // per partition, with a group-less assign()-only consumer. Sorted by id.
  Result<std::vector<DlqRecord>> ReadTopic(const std::string& topic, uint64_t from, size_t limit, bool encoded) {
    std::vector<DlqRecord> out;
    if (limit == 0) return out;
    WAL_ASSIGN_OR_RETURN(rd_kafka_conf_t * conf, MakeConf(settings_.reader_properties));
    rd_kafka_conf_set_log_cb(conf, &LogCallback);
    char error[512];
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof(error));
    if (rk == nullptr) {
      rd_kafka_conf_destroy(conf);
      return InvalidArgument(std::string("kafka reader: ") + error);
    }
    rd_kafka_poll_set_consumer(rk);
    Status status;
    Result<int> partitions = PartitionCount(rk, topic, std::chrono::milliseconds(5000));
    rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(4);
    std::map<int32_t, int64_t> end;  // partition -> high watermark
    std::map<int32_t, size_t> taken;
    Result<std::vector<Watermarks>> marks =
        partitions.ok() ? QueryWatermarks(rk, topic, *partitions, std::chrono::milliseconds(5000))
                        : Result<std::vector<Watermarks>>(partitions.status());
    if (!marks.ok()) {
      status = marks.status();
    } else {
      for (int32_t p = 0; p < *partitions; ++p) {
        int64_t start = static_cast<int64_t>(from);
        if (encoded) {
          const int64_t from_partition = static_cast<int64_t>(from >> kPartitionShift);
          if (p < from_partition) continue;
          start = p == from_partition ? static_cast<int64_t>(from & kOffsetMask) : 0;
        }
        const Watermarks& mark = (*marks)[static_cast<size_t>(p)];
        start = std::max(start, mark.low);
        if (start >= mark.high) continue;
        rd_kafka_topic_partition_list_add(assignment, topic.c_str(), p)->offset = start;
        end[p] = mark.high;
      }
    }
    if (status.ok() && assignment->cnt > 0) {
      rd_kafka_assign(rk, assignment);
      const int64_t deadline = NowMs() + 15000;
      while (!end.empty() && NowMs() < deadline) {
        rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
        if (m == nullptr) continue;
        const int32_t p = m->partition;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
          end.erase(p);
        } else if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
          status = Unavailable(std::string("kafka read of ") + topic + ": " + rd_kafka_message_errstr(m));
        } else if (end.count(p)) {
          DlqRecord record;
          record.partition = p;
          record.offset = m->offset;
          record.id = encoded ? (static_cast<uint64_t>(p) << kPartitionShift) | static_cast<uint64_t>(m->offset)
                              : static_cast<uint64_t>(m->offset);
          if (m->payload != nullptr) record.value.assign(static_cast<const char*>(m->payload), m->len);
          if (m->key != nullptr) record.key.assign(static_cast<const char*>(m->key), m->key_len);
          (void)ParseInt64(HeaderValue(m, kDueHeader), &record.due_ms);
          record.group = HeaderValue(m, kGroupHeader);
          out.push_back(std::move(record));
          if (++taken[p] >= limit || m->offset + 1 >= end[p]) end.erase(p);
        }
        rd_kafka_message_destroy(m);
        if (!status.ok()) break;
      }
      if (status.ok() && !end.empty()) status = DeadlineExceeded("kafka read of " + topic + " timed out");
    }
    rd_kafka_topic_partition_list_destroy(assignment);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    if (!status.ok()) return status;
    std::sort(out.begin(), out.end(), [](const DlqRecord& a, const DlqRecord& b) {
      return a.id != b.id ? a.id < b.id : a.partition < b.partition;
    });
    return out;
  }

  // The DLQ entries `ids` names that are not removed yet (all when empty).
  Result<std::vector<DlqRecord>> SelectDeadLetters(const std::vector<uint64_t>& ids) {
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

  // Removal markers: Kafka cannot delete one record, so redriven and purged DLQ
  // ids are remembered in <data_dir>/kafka-dlq-removed ("<dlq topic> <id>" lines).
  std::string MarkerPath() const {
    return context_.data_dir.empty() ? std::string() : context_.data_dir + "/kafka-dlq-removed";
  }

  void LoadRemovedMarkers() {
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

  Status MarkRemoved(uint64_t id) {
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

  // ---- Stats --------------------------------------------------------------------

  void RefreshStats() {
    std::map<std::string, int> counts;
    {
      std::lock_guard lock(stats_mu_);
      counts = partition_counts_;
    }
    auto sum = [&](const std::string& topic, uint64_t* low_sum, uint64_t* high_sum) {
      auto marks = QueryWatermarks(producer_, topic, counts[topic], std::chrono::milliseconds(1000));
      if (!marks.ok()) return false;
      for (const Watermarks& mark : *marks) {
        *low_sum += static_cast<uint64_t>(mark.low);
        *high_sum += static_cast<uint64_t>(mark.high);
      }
      return true;
    };
    uint64_t first = 0, end = 0, tier_low = 0, tier_end = 0, dlq_low = 0, dlq_end = 0;
    if (!sum(settings_.topics[0], &first, &end)) return;
    for (const std::string& topic : settings_.tier_topics) {
      if (!sum(topic, &tier_low, &tier_end)) return;
    }
    if (!sum(settings_.dlq_topic, &dlq_low, &dlq_end)) return;
    size_t removed = 0;
    {
      std::lock_guard lock(dlq_mu_);
      removed = removed_.size();
    }
    {
      std::lock_guard lock(mu_);
      tier_end_ = tier_end;
    }
    std::lock_guard lock(stats_mu_);
    stats_.first_id = first;
    stats_.log_end = end;
    const uint64_t dlq_count = dlq_end - dlq_low;
    stats_.dead_letters = dlq_count > removed ? dlq_count - removed : 0;
  }

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

  // DLQ removal markers.
  std::mutex dlq_mu_;
  std::set<uint64_t> removed_;

  mutable std::mutex stats_mu_;
  BackendStats stats_;
  std::map<std::string, int> partition_counts_;  // topic -> partitions, as last counted
};

}  // namespace

Result<std::unique_ptr<Backend>> OpenKafkaBackend(const BackendContext& context, const config::NamespaceConfig& config) {
  Result<KafkaSettings> settings = ResolveKafkaSettings(config, context.region, context.regional_delivery);
  if (!settings.ok()) return settings.status().WithContext("namespace " + config.name);
  auto backend = std::make_unique<KafkaBackend>(context, std::move(settings).value());
  WAL_RETURN_IF_ERROR(backend->Open().WithContext("namespace " + config.name));
  if (!context.region.empty() && context.regional_delivery) {
    spdlog::info("namespace {}: replication consumer for region {} (kafka group {})", config.name, context.region,
                 backend->consumer_group());
  }
  return std::unique_ptr<Backend>(std::move(backend));
}

}  // namespace wal::queue::kafka
