#include "queue/kafka/kafka_backend_impl.h"

#include <algorithm>

// Stats: the backlog from the topics' watermarks (refreshed by the producer
// thread) and the consumer's committed positions, plus the producer's health.

namespace wal::queue::kafka {

BackendStats KafkaBackend::Stats() const {
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

void KafkaBackend::RefreshStats() {
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
  const size_t removed = markers_.size();
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

}  // namespace wal::queue::kafka
