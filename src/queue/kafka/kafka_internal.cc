#include "queue/kafka/kafka_internal.h"

#include <algorithm>
#include <charconv>
#include <limits>

#include "config/duration.h"

namespace wal::queue::kafka {

std::vector<Milliseconds> DefaultDelayTiers() {
  using namespace std::chrono_literals;
  return {1s, 10s, 1min, 10min, 1h};
}

std::string TierTopicName(const std::string& main_topic, Milliseconds tier) {
  return main_topic + ".delay." + config::FormatDuration(tier);
}

size_t SelectTier(const std::vector<Milliseconds>& tiers, Milliseconds remaining) {
  size_t chosen = 0;
  for (size_t i = 0; i < tiers.size(); ++i) {
    if (tiers[i] <= remaining) chosen = i;
  }
  return chosen;
}

int64_t TierGateMs(int64_t produced_ms, int64_t due_ms, Milliseconds tier) {
  // Saturating: a producer's timestamp is arbitrary.
  const int64_t span = static_cast<int64_t>(tier.count());
  const int64_t sat_out =
      produced_ms > std::numeric_limits<int64_t>::max() - span ? std::numeric_limits<int64_t>::max() : produced_ms + span;
  return std::min(due_ms, sat_out);
}

namespace {

template <typename T>
bool ParseWhole(std::string_view text, T* out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return !text.empty() && ec == std::errc() && ptr == text.data() + text.size();
}

int64_t ClampDue(int64_t ms) { return std::clamp<int64_t>(ms, 0, kMaxDueMs); }

}  // namespace

bool Receipt::Parse(std::string_view text, Receipt* out) {
  std::string_view parts[4];
  for (size_t i = 0; i < 4; ++i) {
    const size_t slash = i < 3 ? text.find('/') : std::string_view::npos;
    if (i < 3 && slash == std::string_view::npos) return false;
    parts[i] = text.substr(0, slash);
    text = i < 3 ? text.substr(slash + 1) : std::string_view();
  }
  if (parts[0].empty() || parts[3].find('/') != std::string_view::npos) return false;
  int32_t partition = 0;
  int64_t offset = 0;
  uint64_t generation = 0;
  if (!ParseWhole(parts[1], &partition) || partition < 0 || !ParseWhole(parts[2], &offset) || offset < 0 ||
      !ParseWhole(parts[3], &generation)) {
    return false;
  }
  out->topic = std::string(parts[0]);
  out->partition = partition;
  out->offset = offset;
  out->generation = generation;
  return true;
}

Envelope DecodeEnvelope(std::string_view due_header, std::string_view group_header, int64_t produced_ms) {
  Envelope envelope;
  envelope.produced_ms = ClampDue(produced_ms);
  int64_t due_ms = 0;
  envelope.due_ms = ParseWhole(due_header, &due_ms) ? ClampDue(due_ms) : envelope.produced_ms;
  envelope.group = std::string(group_header);
  return envelope;
}

void OffsetTracker::Reset(int64_t position) {
  outstanding_.clear();
  next_ = position;
}

void OffsetTracker::Add(int64_t offset) {
  outstanding_.insert(offset);
  if (offset + 1 > next_) next_ = offset + 1;
}

void OffsetTracker::Finish(int64_t offset) { outstanding_.erase(offset); }

int64_t OffsetTracker::Committable() const {
  if (!outstanding_.empty()) return *outstanding_.begin();
  return next_;
}

namespace {

bool ParseInt(const std::string& text, int64_t* out) { return ParseWhole(text, out); }

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

Status PropertyError(const std::string& key, const std::string& reason) {
  return InvalidArgument("backend.kafka.properties." + key + ": " + reason);
}

// Refuses settings that would void the backend's promises.
Status CheckProperty(const std::string& side, const std::string& key, const std::string& value) {
  const std::string full = side.empty() ? key : side + "." + key;
  const std::string v = Lower(value);
  if (key == "acks" || key == "request.required.acks") {
    if (v != "all" && v != "-1") return PropertyError(full, "must be 'all' (durable means every in-sync replica has it), got '" + value + "'");
  } else if (key == "enable.idempotence") {
    if (v != "true") return PropertyError(full, "must stay true (retries must not duplicate or reorder), got '" + value + "'");
  } else if (key == "enable.auto.commit" || key == "enable.auto.offset.store") {
    if (v != "false") return PropertyError(full, "must stay false (offsets are committed only for finished entries), got '" + value + "'");
  } else if (key == "group.id") {
    return PropertyError(full, "set backend.kafka.consumer_group instead");
  } else if (key == "bootstrap.servers" || key == "metadata.broker.list") {
    return PropertyError(full, "set backend.kafka.bootstrap_servers instead");
  } else if (key == "max.in.flight.requests.per.connection" || key == "max.in.flight") {
    int64_t n = 0;
    if (!ParseInt(value, &n) || n < 1 || n > 5) return PropertyError(full, "must be 1..5 with idempotence, got '" + value + "'");
  }
  return Status::Ok();
}

}  // namespace

Result<KafkaSettings> ResolveKafkaSettings(const config::NamespaceConfig& config, const std::string& region,
                                           bool regional_delivery) {
  const KafkaBackendConfig& kafka = config.backend.settings.Get<KafkaBackendConfig>();
  const bool replication = regional_delivery;
  KafkaSettings s;
  s.name = config.name;
  if (kafka.bootstrap_servers.empty()) return InvalidArgument("backend.kafka.bootstrap_servers: required");
  if (kafka.topics.empty()) return InvalidArgument("backend.kafka.topics: at least one topic is required");
  s.bootstrap_servers = kafka.bootstrap_servers;
  s.topics = kafka.topics;
  s.dlq_topic = kafka.dlq_topics.empty() ? kafka.topics[0] + ".dlq" : kafka.dlq_topics[0];
  s.consumer_group =
      kafka.consumer_group.empty() ? KafkaBackendConfig::DefaultConsumerGroup(config.name) : kafka.consumer_group;
  // Cross-region replication: every region consumes the whole topic in its own
  // group, so one region's lag never holds back another's.
  if (replication && !region.empty()) s.consumer_group += "." + region;
  s.retry_in_place = replication;
  s.tiers = kafka.delay_tiers.empty() ? DefaultDelayTiers() : kafka.delay_tiers;
  for (size_t i = 0; i < s.tiers.size(); ++i) {
    if (s.tiers[i].count() <= 0 || (i > 0 && s.tiers[i] <= s.tiers[i - 1])) {
      return InvalidArgument("backend.kafka.delay_tiers[" + std::to_string(i) + "]: tiers must be > 0 and increasing");
    }
    s.tier_topics.push_back(TierTopicName(kafka.topics[0], s.tiers[i]));
  }
  for (const std::string& topic : s.topics) {
    if (topic == s.dlq_topic) return InvalidArgument("backend.kafka.dlq_topics[0]: must differ from the log topics");
  }

  std::map<std::string, std::string> common, producer_only, consumer_only;
  for (const auto& [key, value] : kafka.properties) {
    if (key == "wal.retry.in_place") {
      const std::string v = Lower(value);
      if (v != "true" && v != "false") return PropertyError(key, "must be true or false, got '" + value + "'");
      s.retry_in_place = v == "true";
    } else if (key.rfind("wal.", 0) == 0) {
      int64_t n = 0;
      if (!ParseInt(value, &n)) return PropertyError(key, "must be an integer, got '" + value + "'");
      if (key == "wal.topic.partitions") {
        if (n < 1 || n > 10000) return PropertyError(key, "must be 1..10000");
        s.topic_partitions = static_cast<int>(n);
      } else if (key == "wal.replication.factor") {
        if (n == 0 || n < -1 || n > 32) return PropertyError(key, "must be -1 (broker default) or 1..32");
        s.replication_factor = static_cast<int>(n);
      } else if (key == "wal.commit.interval.ms") {
        if (n < 1 || n > 60000) return PropertyError(key, "must be 1..60000");
        s.commit_interval = Milliseconds(n);
      } else {
        return PropertyError(key, "unknown wal.* option (wal.topic.partitions, wal.replication.factor, wal.commit.interval.ms, wal.retry.in_place)");
      }
    } else if (key.rfind("producer.", 0) == 0) {
      WAL_RETURN_IF_ERROR(CheckProperty("producer", key.substr(9), value));
      producer_only[key.substr(9)] = value;
    } else if (key.rfind("consumer.", 0) == 0) {
      WAL_RETURN_IF_ERROR(CheckProperty("consumer", key.substr(9), value));
      consumer_only[key.substr(9)] = value;
    } else {
      WAL_RETURN_IF_ERROR(CheckProperty("", key, value));
      common[key] = value;
    }
  }

  // Producer: durable means acknowledged by every in-sync replica, retries are
  // deduplicated by the broker (idempotence), and a message not acknowledged
  // within message.timeout.ms is reported UNKNOWN.
  s.producer_properties = {
      {"bootstrap.servers", s.bootstrap_servers},
      {"client.id", "wal-" + config.name + "-producer"},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"message.timeout.ms", "30000"},
      {"linger.ms", "5"},
      // Partitions added to a topic are written to within this (librdkafka's
      // default is 5 minutes).
      {"topic.metadata.refresh.interval.ms", "30000"},
  };
  for (const auto& [k, v] : common) s.producer_properties[k] = v;
  for (const auto& [k, v] : producer_only) s.producer_properties[k] = v;
  int64_t timeout = 0;
  if (!ParseInt(s.producer_properties["message.timeout.ms"], &timeout) || timeout < 1) {
    return PropertyError("message.timeout.ms", "must be a positive integer");
  }
  s.message_timeout = Milliseconds(timeout);

  s.consumer_properties = {
      {"bootstrap.servers", s.bootstrap_servers},
      {"client.id", "wal-" + config.name + "-consumer"},
      {"group.id", s.consumer_group},
      {"partition.assignment.strategy", "cooperative-sticky"},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "earliest"},
      {"enable.partition.eof", "false"},
      // The group leader notices added partitions and rebalances within this.
      {"topic.metadata.refresh.interval.ms", "30000"},
  };
  for (const auto& [k, v] : common) s.consumer_properties[k] = v;
  for (const auto& [k, v] : consumer_only) s.consumer_properties[k] = v;

  // Admin reads: a throwaway group that is never joined (assign, no subscribe)
  // and never committed.
  s.reader_properties = {
      {"bootstrap.servers", s.bootstrap_servers},
      {"client.id", "wal-" + config.name + "-reader"},
      {"group.id", "wal-" + config.name + "-reader"},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "true"},
      {"auto.offset.reset", "earliest"},
  };
  for (const auto& [k, v] : common) s.reader_properties[k] = v;
  for (const auto& [k, v] : consumer_only) s.reader_properties[k] = v;
  s.reader_properties["group.id"] = "wal-" + config.name + "-reader";
  s.reader_properties["enable.partition.eof"] = "true";
  return s;
}

}  // namespace wal::queue::kafka
