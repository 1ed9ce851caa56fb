// The Kafka target against a real single-node broker started once for the
// binary by scripts/test-servers/kafka.sh (needs `kafka.sh fetch` first).
#include <arpa/inet.h>
#include <librdkafka/rdkafka.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>

#include "target/kafka/kafka_target.h"

namespace wal::target {
namespace {

using Clock = std::chrono::steady_clock;

std::string g_dir;
int g_port = 0;
std::string Brokers() { return "127.0.0.1:" + std::to_string(g_port); }

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) return 0;
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

int Script(const std::string& args) {
  return std::system(("bash " + std::string(WAL_SOURCE_DIR) + "/scripts/test-servers/kafka.sh " + args).c_str());
}

class BrokerEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    char pattern[] = "/tmp/wal-kafka-target-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    g_dir = pattern;
    int rc = -1;
    for (int attempt = 0; attempt < 3 && rc != 0; ++attempt) {
      g_port = FreePort();
      std::error_code ignored;
      std::filesystem::remove_all(g_dir + "/broker", ignored);
      rc = Script("start " + g_dir + "/broker " + std::to_string(g_port));
    }
    ASSERT_EQ(rc, 0) << "kafka.sh start failed; run `bash scripts/test-servers/kafka.sh fetch` first";
  }
  void TearDown() override {
    if (g_dir.empty()) return;
    (void)Script("kill " + g_dir + "/broker");
    std::error_code ignored;
    std::filesystem::remove_all(g_dir, ignored);
  }
};

const auto* const g_environment = ::testing::AddGlobalTestEnvironment(new BrokerEnvironment);

rd_kafka_t* NewClient(rd_kafka_type_t type) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", Brokers().c_str(), error, sizeof(error));
  if (type == RD_KAFKA_CONSUMER) rd_kafka_conf_set(conf, "group.id", "kafka-target-test", error, sizeof(error));
  return rd_kafka_new(type, conf, error, sizeof(error));
}

// The broker does not auto-create topics; the target does not create them either.
void CreateTopic(const std::string& name) {
  rd_kafka_t* admin = NewClient(RD_KAFKA_PRODUCER);
  char error[512];
  rd_kafka_NewTopic_t* topic = rd_kafka_NewTopic_new(name.c_str(), 1, 1, error, sizeof(error));
  rd_kafka_queue_t* queue = rd_kafka_queue_new(admin);
  rd_kafka_CreateTopics(admin, &topic, 1, nullptr, queue);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, 15000);
  ASSERT_NE(event, nullptr);
  EXPECT_EQ(rd_kafka_event_error(event), RD_KAFKA_RESP_ERR_NO_ERROR);
  size_t count = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count);
  ASSERT_EQ(count, 1u);
  EXPECT_EQ(rd_kafka_topic_result_error(results[0]), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_event_destroy(event);
  rd_kafka_queue_destroy(queue);
  rd_kafka_NewTopic_destroy(topic);
  rd_kafka_destroy(admin);
}

struct Record {
  std::string key;
  std::optional<std::string> value;  // nullopt: tombstone
  std::map<std::string, std::string> headers;
};

std::vector<Record> ReadTopic(const std::string& topic, size_t count) {
  rd_kafka_t* consumer = NewClient(RD_KAFKA_CONSUMER);
  rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(assignment, topic.c_str(), 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(consumer, assignment);
  rd_kafka_topic_partition_list_destroy(assignment);
  std::vector<Record> records;
  const auto deadline = Clock::now() + std::chrono::seconds(15);
  while (records.size() < count && Clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer, 200);
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      Record record;
      if (m->key != nullptr) record.key.assign(static_cast<const char*>(m->key), m->key_len);
      if (m->payload != nullptr) record.value = std::string(static_cast<const char*>(m->payload), m->len);
      rd_kafka_headers_t* headers = nullptr;
      if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name = nullptr;
        const void* value = nullptr;
        size_t size = 0;
        for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
          record.headers[name] = std::string(static_cast<const char*>(value), size);
        }
      }
      records.push_back(std::move(record));
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(consumer);
  rd_kafka_destroy(consumer);
  return records;
}

v1::Mutation Mutation(v1::Mutation::Operation op, const std::string& key, const std::string& value = "") {
  v1::Mutation mutation;
  mutation.set_op(op);
  mutation.set_table("users");
  mutation.set_key(key);
  if (op == v1::Mutation::PUT) mutation.set_value(value);
  return mutation;
}

std::unique_ptr<KafkaTarget> Make(const std::string& settings) {
  auto target = KafkaTarget::FromSettings(settings);
  EXPECT_TRUE(target.ok()) << target.status().ToString();
  return target.ok() ? std::move(target).value() : nullptr;
}

TEST(KafkaTargetBrokerTest, ProducesMutationsDurablyWithKeyAndHeaders) {
  CreateTopic("mutations");
  auto target = Make(R"({"bootstrap_servers": ")" + Brokers() + R"(", "topic": "mutations", "timeout": "10s"})");
  ASSERT_NE(target, nullptr);
  EXPECT_TRUE(target->Probe().ok()) << target->Probe().ToString();
  DeliveryContext context{"ns", 42, 1, "idem-1", "us-east-1"};
  ASSERT_TRUE(target->ApplyMutation(Mutation(v1::Mutation::PUT, "alice", "a@x"), context).ok());
  ASSERT_TRUE(target->ApplyMutation(Mutation(v1::Mutation::DELETE, "alice"), context).ok());
  auto records = ReadTopic("mutations", 2);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].key, "users:alice");
  v1::Mutation put;
  ASSERT_TRUE(records[0].value.has_value() && put.ParseFromString(*records[0].value));
  EXPECT_EQ(put.value(), "a@x");
  v1::Mutation removed;
  ASSERT_TRUE(records[1].value.has_value() && removed.ParseFromString(*records[1].value));
  EXPECT_EQ(removed.op(), v1::Mutation::DELETE);
  EXPECT_EQ(records[0].headers["wal-namespace"], "ns");
  EXPECT_EQ(records[0].headers["wal-entry-id"], "42");
  EXPECT_EQ(records[0].headers["wal-op"], "PUT");
  EXPECT_EQ(records[0].headers["wal-idempotency-key"], "idem-1");
  EXPECT_EQ(records[0].headers["wal-origin-region"], "us-east-1");
}

TEST(KafkaTargetBrokerTest, ValueEncodingWritesTombstonesForDeletes) {
  CreateTopic("compacted");
  auto target = Make(R"({"bootstrap_servers": ")" + Brokers() + R"(", "topic": "compacted", "encoding": "value"})");
  ASSERT_NE(target, nullptr);
  ASSERT_TRUE(target->ApplyMutation(Mutation(v1::Mutation::PUT, "k", "v"), DeliveryContext{}).ok());
  ASSERT_TRUE(target->ApplyMutation(Mutation(v1::Mutation::DELETE, "k"), DeliveryContext{}).ok());
  ASSERT_TRUE(target->DeliverOpaque("raw", DeliveryContext{"ns", 1, 1, "idem", ""}).ok());
  auto records = ReadTopic("compacted", 3);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].value, std::optional<std::string>("v"));
  EXPECT_EQ(records[1].key, "users:k");
  EXPECT_FALSE(records[1].value.has_value()) << "a delete is a tombstone";
  EXPECT_EQ(records[2].value, std::optional<std::string>("raw"));
  EXPECT_EQ(records[2].key, "idem");
}

TEST(KafkaTargetBrokerTest, OversizedRecordsAndUnknownTopicsArePermanent) {
  CreateTopic("small");
  auto target = Make(R"({"bootstrap_servers": ")" + Brokers() +
                     R"(", "topic": "small", "properties": {"message.max.bytes": "2000"}})");
  ASSERT_NE(target, nullptr);
  ApplyResult result = target->ApplyMutation(Mutation(v1::Mutation::PUT, "big", std::string(5000, 'x')), {});
  EXPECT_EQ(result.outcome, ApplyOutcome::kPermanent) << result.reason;
  EXPECT_NE(result.reason.find("MSG_SIZE_TOO_LARGE"), std::string::npos) << result.reason;

  auto missing = Make(R"({"bootstrap_servers": ")" + Brokers() +
                      R"(", "topic": "no-such-topic", "timeout": "5s",
                          "properties": {"topic.metadata.propagation.max.ms": "1000"}})");
  ASSERT_NE(missing, nullptr);
  EXPECT_FALSE(missing->Probe().ok());
  const auto start = Clock::now();
  result = missing->ApplyMutation(Mutation(v1::Mutation::PUT, "k", "v"), {});
  EXPECT_EQ(result.outcome, ApplyOutcome::kPermanent) << result.reason;
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(7));
}

TEST(KafkaTargetBrokerTest, AnUnreachableBrokerIsRetryableWithinTheTimeout) {
  auto target = Make(R"({"bootstrap_servers": "127.0.0.1:)" + std::to_string(FreePort()) +
                     R"(", "topic": "t", "timeout": "1500ms"})");
  ASSERT_NE(target, nullptr);
  const auto start = Clock::now();
  ApplyResult result = target->ApplyMutation(Mutation(v1::Mutation::PUT, "k", "v"), {});
  EXPECT_EQ(result.outcome, ApplyOutcome::kRetryable) << result.reason;
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(4));
}

}  // namespace
}  // namespace wal::target
