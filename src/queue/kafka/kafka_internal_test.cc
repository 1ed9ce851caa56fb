#include "queue/kafka/kafka_internal.h"

#include <gtest/gtest.h>

#include <limits>

namespace wal::queue::kafka {
namespace {

using namespace std::chrono_literals;

TEST(TierTest, SelectsLargestTierNotAboveRemaining) {
  const std::vector<Milliseconds> tiers = {1s, 10s, 1min, 10min, 1h};
  EXPECT_EQ(SelectTier(tiers, 1ms), 0u);      // shorter than every tier: smallest
  EXPECT_EQ(SelectTier(tiers, 999ms), 0u);
  EXPECT_EQ(SelectTier(tiers, 1s), 0u);
  EXPECT_EQ(SelectTier(tiers, 9999ms), 0u);
  EXPECT_EQ(SelectTier(tiers, 10s), 1u);
  EXPECT_EQ(SelectTier(tiers, 59s), 1u);
  EXPECT_EQ(SelectTier(tiers, 1min), 2u);
  EXPECT_EQ(SelectTier(tiers, 1h), 4u);
  EXPECT_EQ(SelectTier(tiers, 48h), 4u);      // longer than every tier: largest, then hops
  EXPECT_EQ(SelectTier({500ms}, 10ms), 0u);
}

TEST(TierTest, GateIsEarlierOfDueAndTierEnd) {
  EXPECT_EQ(TierGateMs(1000, 1300, 500ms), 1300);  // due within the tier: handed out at due
  EXPECT_EQ(TierGateMs(1000, 5000, 500ms), 1500);  // longer: looked at again after the tier, then hops
  EXPECT_EQ(TierGateMs(1000, 1500, 500ms), 1500);
}

TEST(TierTest, GateSaturatesForATimestampNearTheEndOfTime) {
  // A foreign producer sets CreateTime; the sum must not wrap to the past.
  const int64_t late = std::numeric_limits<int64_t>::max() - 5;
  EXPECT_EQ(TierGateMs(late, std::numeric_limits<int64_t>::max(), 1s), std::numeric_limits<int64_t>::max());
}

TEST(EnvelopeTest, HeadersBecomeDueTimeAndGroup) {
  Envelope envelope = DecodeEnvelope("1700000000123", "wal-orders", 1700000000000);
  EXPECT_EQ(envelope.due_ms, 1700000000123);
  EXPECT_EQ(envelope.produced_ms, 1700000000000);
  EXPECT_EQ(envelope.group, "wal-orders");
}

TEST(EnvelopeTest, AForeignOrDamagedDueHeaderMeansDueAtItsProduceTime) {
  for (const char* header : {"", "soon", "12x", "1e9", " 5", "99999999999999999999"}) {
    EXPECT_EQ(DecodeEnvelope(header, "", 1234).due_ms, 1234) << header;
  }
}

TEST(EnvelopeTest, DueTimesAreClampedToWhatATimePointHolds) {
  EXPECT_EQ(DecodeEnvelope("9223372036854775807", "", 0).due_ms, kMaxDueMs);
  EXPECT_EQ(DecodeEnvelope("-9223372036854775808", "", 0).due_ms, 0);
  EXPECT_EQ(DecodeEnvelope("", "", std::numeric_limits<int64_t>::max()).produced_ms, kMaxDueMs);
  // kMaxDueMs in nanoseconds still fits the system clock.
  EXPECT_GT(std::chrono::system_clock::time_point(std::chrono::milliseconds(kMaxDueMs)).time_since_epoch().count(), 0);
}

TEST(ReceiptTest, RoundTripsAndRefusesAnythingElse) {
  Receipt receipt{"orders.delay.1s", 3, 42, 7};
  Receipt parsed;
  ASSERT_TRUE(Receipt::Parse(receipt.ToString(), &parsed));
  EXPECT_EQ(parsed.ToString(), "orders.delay.1s/3/42/7");
  for (const char* text : {"", "orders", "orders/1/2", "/1/2/3", "orders/1/2/3/", "orders/1/2/3/4", "orders/-1/2/3",
                           "orders/1/-2/3", "orders/1/2/-3", "orders/4294967296/2/3", "orders/x/2/3", "orders/1/2/"}) {
    EXPECT_FALSE(Receipt::Parse(text, &parsed)) << text;
  }
}

TEST(TierTest, TopicNames) {
  EXPECT_EQ(TierTopicName("orders", 200ms), "orders.delay.200ms");
  EXPECT_EQ(TierTopicName("orders", 1s), "orders.delay.1s");
  EXPECT_EQ(TierTopicName("orders", 10min), "orders.delay.10m");
  EXPECT_EQ(TierTopicName("orders", 1h), "orders.delay.1h");
  EXPECT_EQ(TierTopicName("orders", 1500ms), "orders.delay.1500ms");
}

TEST(OffsetTrackerTest, NothingCommittableBeforeFetch) {
  OffsetTracker tracker;
  tracker.Reset(-1);
  EXPECT_EQ(tracker.Committable(), -1);
}

TEST(OffsetTrackerTest, CommitsOnlyTheFinishedPrefix) {
  OffsetTracker tracker;
  tracker.Reset(-1);
  for (int64_t o = 10; o < 15; ++o) tracker.Add(o);
  EXPECT_EQ(tracker.Committable(), 10);
  tracker.Finish(12);
  tracker.Finish(14);
  EXPECT_EQ(tracker.Committable(), 10);  // 10 still in progress
  tracker.Finish(10);
  EXPECT_EQ(tracker.Committable(), 11);
  tracker.Finish(11);
  EXPECT_EQ(tracker.Committable(), 13);  // 12 done, 13 not
  tracker.Finish(13);
  EXPECT_EQ(tracker.Committable(), 15);  // all done: one past the last fetched
  EXPECT_EQ(tracker.outstanding(), 0u);
}

TEST(OffsetTrackerTest, GapsInOffsetsDoNotBlock) {
  // Control records and compaction leave holes; they are never "outstanding".
  OffsetTracker tracker;
  tracker.Reset(-1);
  tracker.Add(3);
  tracker.Add(7);
  tracker.Finish(3);
  EXPECT_EQ(tracker.Committable(), 7);
  tracker.Finish(7);
  EXPECT_EQ(tracker.Committable(), 8);
  tracker.Finish(99);  // unknown: ignored
  EXPECT_EQ(tracker.Committable(), 8);
  EXPECT_EQ(tracker.next(), 8);
}

TEST(OffsetTrackerTest, ReverseOrderCompletion) {
  OffsetTracker tracker;
  tracker.Reset(-1);
  for (int64_t o = 0; o < 100; ++o) tracker.Add(o);
  for (int64_t o = 99; o >= 1; --o) {
    tracker.Finish(o);
    EXPECT_EQ(tracker.Committable(), 0);
  }
  tracker.Finish(0);
  EXPECT_EQ(tracker.Committable(), 100);
}

KafkaBackendConfig& Kafka(config::NamespaceConfig& c) { return c.backend.settings.Mutable<KafkaBackendConfig>(); }

config::NamespaceConfig KafkaNamespace() {
  config::NamespaceConfig c;
  c.name = "orders";
  Kafka(c).bootstrap_servers = "127.0.0.1:9092";
  Kafka(c).topics = {"orders-log"};
  return c;
}

TEST(SettingsTest, Defaults) {
  auto s = ResolveKafkaSettings(KafkaNamespace());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->dlq_topic, "orders-log.dlq");
  EXPECT_EQ(s->consumer_group, "wal-orders");
  EXPECT_EQ(s->tiers, DefaultDelayTiers());
  ASSERT_EQ(s->tier_topics.size(), 5u);
  EXPECT_EQ(s->tier_topics[0], "orders-log.delay.1s");
  EXPECT_EQ(s->tier_topics[4], "orders-log.delay.1h");
  EXPECT_EQ(s->producer_properties.at("acks"), "all");
  EXPECT_EQ(s->producer_properties.at("enable.idempotence"), "true");
  EXPECT_EQ(s->producer_properties.at("bootstrap.servers"), "127.0.0.1:9092");
  EXPECT_EQ(s->message_timeout, 30s);
  EXPECT_EQ(s->consumer_properties.at("group.id"), "wal-orders");
  EXPECT_EQ(s->consumer_properties.at("partition.assignment.strategy"), "cooperative-sticky");
  EXPECT_EQ(s->consumer_properties.at("enable.auto.commit"), "false");
  EXPECT_EQ(s->consumer_properties.at("auto.offset.reset"), "earliest");
  EXPECT_NE(s->reader_properties.at("group.id"), "wal-orders");
}

TEST(SettingsTest, MapsConfiguredValues) {
  auto c = KafkaNamespace();
  Kafka(c).dlq_topics = {"orders-dead", "unused"};
  Kafka(c).consumer_group = "eu-west";
  Kafka(c).delay_tiers = {200ms, 500ms};
  Kafka(c).properties = {{"message.timeout.ms", "5000"},
                                {"producer.linger.ms", "0"},
                                {"consumer.session.timeout.ms", "6000"},
                                {"wal.topic.partitions", "4"},
                                {"wal.commit.interval.ms", "50"},
                                {"acks", "-1"}};
  auto s = ResolveKafkaSettings(c);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->dlq_topic, "orders-dead");
  EXPECT_EQ(s->consumer_group, "eu-west");
  EXPECT_EQ(s->tier_topics, (std::vector<std::string>{"orders-log.delay.200ms", "orders-log.delay.500ms"}));
  EXPECT_EQ(s->message_timeout, 5s);
  EXPECT_EQ(s->producer_properties.at("linger.ms"), "0");
  EXPECT_EQ(s->producer_properties.count("session.timeout.ms"), 0u);
  EXPECT_EQ(s->consumer_properties.at("session.timeout.ms"), "6000");
  EXPECT_EQ(s->consumer_properties.count("linger.ms"), 0u);
  EXPECT_EQ(s->consumer_properties.at("message.timeout.ms"), "5000");  // common: both sides
  EXPECT_EQ(s->producer_properties.count("wal.topic.partitions"), 0u);
  EXPECT_EQ(s->topic_partitions, 4);
  EXPECT_EQ(s->commit_interval, 50ms);
}

TEST(SettingsTest, RefusesPropertiesThatBreakGuarantees) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"acks", "1"},
      {"producer.acks", "0"},
      {"request.required.acks", "1"},
      {"enable.idempotence", "false"},
      {"enable.auto.commit", "true"},
      {"consumer.enable.auto.offset.store", "true"},
      {"group.id", "other"},
      {"bootstrap.servers", "x:1"},
      {"max.in.flight.requests.per.connection", "10"},
      {"message.timeout.ms", "soon"},
      {"wal.topic.partitions", "0"},
      {"wal.bogus", "1"},
  };
  for (const auto& [key, value] : bad) {
    auto c = KafkaNamespace();
    Kafka(c).properties = {{key, value}};
    auto s = ResolveKafkaSettings(c);
    ASSERT_FALSE(s.ok()) << key << "=" << value;
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.status().message().find("backend.kafka.properties."), std::string::npos) << s.status().message();
  }
}

TEST(SettingsTest, ReplicationConsumesInOneGroupPerRegion) {
  config::NamespaceConfig c = KafkaNamespace();
  auto plain = ResolveKafkaSettings(c, "us-west-2");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->consumer_group, "wal-orders") << "only replication namespaces get a group per region";
  EXPECT_FALSE(plain->retry_in_place);

  // The target applies per region (BackendContext::regional_delivery).
  auto regional = ResolveKafkaSettings(c, "us-west-2", /*regional_delivery=*/true);
  ASSERT_TRUE(regional.ok());
  EXPECT_EQ(regional->consumer_group, "wal-orders.us-west-2");
  EXPECT_EQ(regional->consumer_properties.at("group.id"), "wal-orders.us-west-2");
  EXPECT_TRUE(regional->retry_in_place);
  auto fan_out = ResolveKafkaSettings(c, "", /*regional_delivery=*/true);
  ASSERT_TRUE(fan_out.ok());
  EXPECT_EQ(fan_out->consumer_group, "wal-orders");

  Kafka(c).properties["wal.retry.in_place"] = "false";
  EXPECT_FALSE(ResolveKafkaSettings(c, "us-west-2", true)->retry_in_place);
  Kafka(c).properties["wal.retry.in_place"] = "sometimes";
  EXPECT_FALSE(ResolveKafkaSettings(c, "us-west-2", true).ok());
}

TEST(SettingsTest, DlqMustDifferFromLogTopic) {
  auto c = KafkaNamespace();
  Kafka(c).dlq_topics = {"orders-log"};
  EXPECT_FALSE(ResolveKafkaSettings(c).ok());
}

}  // namespace
}  // namespace wal::queue::kafka
