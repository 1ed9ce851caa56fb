#include "queue/kafka/kafka_backend_impl.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

// The consuming side: the consumer thread (subscribe, fetch, delay-tier hops,
// pause/resume), and Poll, which hands out what is due in per-key order.

namespace wal::queue::kafka {

Result<std::vector<Delivery>> KafkaBackend::Poll(size_t max_entries, std::chrono::milliseconds wait) {
  std::unique_lock lock(mu_);
  if (closed_) return FailedPrecondition("kafka backend of namespace " + settings_.name + " is closed");
  if (!consumer_started_) WAL_RETURN_IF_ERROR(StartConsumerLocked());
  const int64_t deadline = NowMillis() + wait.count();
  std::vector<Delivery> out;
  while (true) {
    const int64_t now = NowMillis();
    int64_t next_wake = deadline;
    CollectLocked(max_entries, now, &out, &next_wake);
    if (!out.empty() || now >= deadline || closed_) return out;
    cv_.wait_until(lock, FromMillis(std::min(deadline, std::max(next_wake, now + 1))));
  }
}

Status KafkaBackend::StartConsumerLocked() {
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

void KafkaBackend::ConsumerLoop() {
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
    const int64_t now = NowMillis();
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

void KafkaBackend::CloseConsumerWithin(std::chrono::milliseconds limit) {
  rd_kafka_queue_t* queue = rd_kafka_queue_new(consumer_);
  bool closed = false;
  if (rd_kafka_error_t* error = rd_kafka_consumer_close_queue(consumer_, queue)) {
    spdlog::warn("namespace {}: kafka consumer close: {}", settings_.name, rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
  } else {
    const int64_t deadline = NowMillis() + limit.count();
    while (!(closed = rd_kafka_consumer_closed(consumer_) != 0) && NowMillis() < deadline) {
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

void KafkaBackend::HandleMessage(rd_kafka_message_t* m) {
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      spdlog::warn("namespace {}: kafka consume: {}", settings_.name, rd_kafka_message_errstr(m));
    }
    return;
  }
  const std::string topic = rd_kafka_topic_name(m->rkt);
  rd_kafka_timestamp_type_t type;
  int64_t produced_ms = rd_kafka_message_timestamp(m, &type);
  if (produced_ms < 0) produced_ms = NowMillis();
  const Envelope envelope = DecodeEnvelope(HeaderValue(m, kDueHeader), HeaderValue(m, kGroupHeader), produced_ms);
  const std::string& owner = envelope.group;
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
  message.due_ms = envelope.due_ms;
  message.gate_ms = state.is_tier ? TierGateMs(envelope.produced_ms, envelope.due_ms, state.tier) : envelope.due_ms;
  if (m->key != nullptr) message.key.assign(static_cast<const char*>(m->key), m->key_len);
  if (m->payload != nullptr) message.value.assign(static_cast<const char*>(m->payload), m->len);
  state.tracker.Add(m->offset);
  state.buffered.emplace(m->offset, std::move(message));
  cv_.notify_all();
}

struct KafkaBackend::Hop {
  Receipt from;
  std::string key, value;
  int64_t due_ms;
};

void KafkaBackend::Tick(int64_t now, bool commit) {
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
                  it->second.not_before = NowMillis() + kRetryRestMs;
                }
              }
            });
  }
  if (commit) Commit(/*sync=*/false);
}

void KafkaBackend::CollectLocked(size_t max_entries, int64_t now, std::vector<Delivery>* out, int64_t* next_wake) {
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
    delivery.entry.due = FromMillis(c.message->due_ms);
    delivery.entry.ordering_key = c.message->key;
    delivery.receipt = Receipt{c.state->topic, c.state->partition, c.message->offset, c.state->generation}.ToString();
    out->push_back(std::move(delivery));
  }
}

PartitionState* KafkaBackend::FindLocked(const Receipt& receipt) {
  auto it = parts_.find({receipt.topic, receipt.partition});
  if (it == parts_.end() || it->second->generation != receipt.generation) return nullptr;
  return it->second.get();
}

}  // namespace wal::queue::kafka
