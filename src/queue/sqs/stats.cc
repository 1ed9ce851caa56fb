#include "queue/sqs/sqs_backend_impl.h"

// Stats from the queues' approximate counts (GetQueueAttributes), cached for
// options.stats_cache and refreshed early after a change.

namespace wal::queue::sqs {

BackendStats SqsBackend::Stats() const {
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

}  // namespace wal::queue::sqs
