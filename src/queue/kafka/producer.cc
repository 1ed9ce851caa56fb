#include "queue/kafka/kafka_backend_impl.h"

#include <spdlog/spdlog.h>

#include <algorithm>

// The producing side: Append, every produce (appends, replacements, dead
// letters, hops, redrives), delivery reports, and the producer thread.

namespace wal::queue::kafka {

void KafkaBackend::Append(QueueEntry entry, AppendCallback callback) {
  const int64_t due_ms = ToMillisRoundedUp(entry.due);
  Produce(TopicFor(due_ms), entry.ordering_key, entry.record, due_ms, "", "", /*group=*/"",
          [callback = std::move(callback)](Durability durability, int32_t, int64_t offset, const Status& status) {
            AppendOutcome outcome;
            outcome.durability = durability;
            outcome.id = offset >= 0 ? static_cast<uint64_t>(offset) : 0;
            outcome.status = status;
            callback(outcome);
          });
}

const std::string& KafkaBackend::TopicFor(int64_t due_ms) const {
  const int64_t remaining = due_ms - NowMillis();
  if (remaining <= kMainTopicSlackMs) return settings_.topics[0];
  return settings_.tier_topics[SelectTier(settings_.tiers, Milliseconds(remaining))];
}

void KafkaBackend::Produce(const std::string& topic, const std::string& key, const std::string& value, int64_t due_ms,
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

void KafkaBackend::DeliveryReport(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
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

void KafkaBackend::ErrorCallback(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
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

void KafkaBackend::ProducerLoop() {
  int64_t next_topics = 0, next_stats = 0, next_partitions = 0;
  while (!stop_producer_.load()) {
    rd_kafka_poll(producer_, 50);
    const int64_t now = NowMillis();
    if (!topics_ready_.load() && now >= next_topics && !closed_flag()) {
      Status status = EnsureTopics(std::chrono::milliseconds(3000));
      if (!status.ok()) spdlog::debug("namespace {}: kafka topics: {}", settings_.name, status.ToString());
      next_topics = NowMillis() + 2000;
      next_partitions = NowMillis() + kPartitionRecountMs;
    }
    // Watermark queries to a broker that is down wait socket.timeout.ms (60 s)
    // whatever their own timeout says, which stalled Close; while every broker
    // is down only a metadata request (which keeps to its timeout) probes for
    // their return.
    if (brokers_down_.load() && now >= next_stats && !closed_flag()) {
      if (PartitionCount(producer_, settings_.topics[0], std::chrono::milliseconds(500)).ok()) brokers_down_ = false;
      next_stats = NowMillis() + 2000;
      continue;
    }
    if (topics_ready_.load() && now >= next_partitions && !closed_flag()) {
      RecountPartitions();
      next_partitions = NowMillis() + kPartitionRecountMs;
    }
    if (topics_ready_.load() && now >= next_stats && !closed_flag()) {
      RefreshStats();
      next_stats = NowMillis() + 2000;
    }
  }
}

}  // namespace wal::queue::kafka
