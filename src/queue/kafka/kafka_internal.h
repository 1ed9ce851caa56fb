// Pieces of the Kafka backend that are pure logic, kept apart so unit tests can
// reach them without a broker: the resolved settings (config mapping and
// validation), delay-tier selection, and the per-partition offset tracker.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "config/namespace_config.h"
#include "queue/kafka/kafka_config.h"

namespace wal::queue::kafka {

using Milliseconds = std::chrono::milliseconds;

// Header names carried by every message the backend produces.
inline constexpr const char* kDueHeader = "wal-due-ms";             // due time, ms since the Unix epoch
inline constexpr const char* kSupersedesHeader = "wal-supersedes";  // receipt of the entry a reschedule replaced
inline constexpr const char* kDeadFromHeader = "wal-dead-from";     // receipt of the entry a dead letter came from
// The consumer group that re-produced a message (reschedule, delay hop, dead
// letter). Other groups reading the same topics skip it: each group retries its
// own copies. Messages written by Append carry none and go to every group.
inline constexpr const char* kGroupHeader = "wal-group";

// Where a Delivery came from; its text form is Delivery.receipt.
struct Receipt {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  uint64_t generation = 0;  // the assignment it was handed out under

  std::string Coordinates() const { return topic + "/" + std::to_string(partition) + "/" + std::to_string(offset); }
  std::string ToString() const { return Coordinates() + "/" + std::to_string(generation); }

  // Parses "topic/partition/offset/generation" (what ToString() writes):
  // false for anything else, including numbers out of their ranges.
  static bool Parse(std::string_view text, Receipt* out);
};

// Due times later than this (2200-01-01T00:00:00Z) are clamped to it: a header
// from a foreign or damaged producer must not overflow the nanosecond
// system_clock time point (which ends in 2262) the engine schedules with.
inline constexpr int64_t kMaxDueMs = 7258118400000;

// What the backend reads from a consumed message's headers.
struct Envelope {
  int64_t due_ms = 0;       // wal-due-ms; absent or not a number: the produce time (due at once)
  int64_t produced_ms = 0;  // the message's timestamp, clamped to [0, kMaxDueMs]
  std::string group;        // wal-group: the group that re-produced it; "" for Append's messages
};

// `due_header` and `group_header` are the headers' values ("" when absent);
// `produced_ms` is the message's timestamp. Never fails: any bytes decode to a
// due time in [0, kMaxDueMs].
Envelope DecodeEnvelope(std::string_view due_header, std::string_view group_header, int64_t produced_ms);

// The tiers used when the namespace sets none.
std::vector<Milliseconds> DefaultDelayTiers();

// "<main>.delay.<tier>", the tier written the way the config writes durations
// (200ms, 1s, 10m, 1h).
std::string TierTopicName(const std::string& main_topic, Milliseconds tier);

// The tier an entry `remaining` away from its due time goes to: the largest tier
// <= remaining, or the smallest tier when remaining is shorter than all of them.
// `tiers` is non-empty and increasing.
size_t SelectTier(const std::vector<Milliseconds>& tiers, Milliseconds remaining);

// When a message read from a tier topic must be looked at again: the earlier of
// its due time and the instant it has sat out its tier (`produced_ms + tier`).
// At that instant it is handed out (due) or hops to the tier that fits the rest.
int64_t TierGateMs(int64_t produced_ms, int64_t due_ms, Milliseconds tier);

// The consumer's view of one partition's offsets. Offsets are added in fetch
// order; they are finished in any order. The committable position is the first
// offset not yet finished (or one past the last fetched when all are), so a
// commit never covers an entry still in progress: at-least-once.
class OffsetTracker {
 public:
  // Every offset below `position` is already committed (the assignment's start).
  void Reset(int64_t position);
  // A fetched offset, in increasing order.
  void Add(int64_t offset);
  // Finished (completed, rescheduled, dead-lettered, hopped). Unknown offsets are ignored.
  void Finish(int64_t offset);
  bool IsOutstanding(int64_t offset) const { return outstanding_.count(offset) != 0; }
  // One past the highest offset added (or the Reset position).
  int64_t next() const { return next_; }
  // Where a commit may go now; -1 before anything is known.
  int64_t Committable() const;
  size_t outstanding() const { return outstanding_.size(); }

 private:
  int64_t next_ = -1;  // one past the last fetched offset (or the start position)
  std::set<int64_t> outstanding_;
};

// A namespace's kafka section turned into what the backend runs with.
struct KafkaSettings {
  std::string name;               // namespace
  std::string bootstrap_servers;
  std::vector<std::string> topics;  // main topics; Append writes topics[0]
  std::string dlq_topic;          // dlq_topics[0], default "<topics[0]>.dlq"
  std::string consumer_group;
  std::vector<Milliseconds> tiers;        // never empty
  std::vector<std::string> tier_topics;   // one per tier, for topics[0]
  Milliseconds message_timeout{30000};    // producer delivery timeout -> UNKNOWN
  Milliseconds commit_interval{200};      // how often finished offsets are committed
  // Reschedule keeps the entry in its partition (uncommitted, in memory, later
  // entries with its key wait behind it) instead of producing a replacement
  // (wal.retry.in_place; default on for replication targets).
  bool retry_in_place = false;
  int topic_partitions = 1;       // partitions of topics the backend creates (wal.topic.partitions)
  int replication_factor = -1;    // of topics the backend creates; -1 = broker default
  std::map<std::string, std::string> producer_properties;  // librdkafka, complete
  std::map<std::string, std::string> consumer_properties;  // librdkafka, complete
  std::map<std::string, std::string> reader_properties;    // admin reads (DLQ, Read)
};

// Maps and validates config.backend's kafka settings. Properties that would
// break the backend's guarantees (acks other than all, idempotence off, auto
// commit on, an explicit group.id) are InvalidArgument naming the field.
// `region` is the instance's region; with `regional_delivery` (the target
// applies per region: BackendContext) the namespace consumes in the group
// "<consumer_group>.<region>" (one group per target region) and retries in place.
Result<KafkaSettings> ResolveKafkaSettings(const config::NamespaceConfig& config, const std::string& region = "",
                                           bool regional_delivery = false);

}  // namespace wal::queue::kafka
