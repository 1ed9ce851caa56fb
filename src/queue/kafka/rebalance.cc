#include "queue/kafka/kafka_backend_impl.h"

#include <spdlog/spdlog.h>

#include <cstring>

// Offset commits and the consumer group's partition assignment: a commit
// covers only a finished prefix (OffsetTracker), so it never skips an entry
// still in progress; a revoked partition commits what it finished and its
// unfinished entries go to the next owner.

namespace wal::queue::kafka {

void KafkaBackend::Commit(bool sync) {
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

void KafkaBackend::ForgetCommitted(const rd_kafka_topic_partition_list_t* list, rd_kafka_resp_err_t err) {
  spdlog::warn("namespace {}: kafka offset commit failed: {}", settings_.name, rd_kafka_err2str(err));
  std::lock_guard lock(mu_);
  for (int i = 0; i < list->cnt; ++i) {
    auto it = parts_.find({list->elems[i].topic, list->elems[i].partition});
    if (it != parts_.end()) it->second->last_committed = -1;
  }
}

void KafkaBackend::CommitCallback(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets, void* opaque) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET || offsets == nullptr) return;
  static_cast<KafkaBackend*>(opaque)->ForgetCommitted(offsets, err);
}

void KafkaBackend::RebalanceCallback(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
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

void KafkaBackend::OnAssign(const rd_kafka_topic_partition_list_t* partitions) {
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

void KafkaBackend::OnRevoke(const rd_kafka_topic_partition_list_t* partitions, bool lost) {
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

}  // namespace wal::queue::kafka
