// The Kafka backend against a real single-node KRaft broker, started once for the
// whole binary by scripts/test-servers/kafka.sh on a free loopback port (the
// jars come from `kafka.sh fetch`, which needs Maven Central or a warm ~/.m2).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "queue/kafka/kafka_backend.h"
#include "queue/kafka/kafka_config.h"

namespace wal::queue::kafka {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

std::string g_broker_dir;
int g_broker_port = 0;

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return 0;
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

int Script(const std::string& args) {
  const std::string command = std::string("bash ") + WAL_SOURCE_DIR + "/scripts/test-servers/kafka.sh " + args;
  return std::system(command.c_str());
}

std::string Servers() { return "127.0.0.1:" + std::to_string(g_broker_port); }

class BrokerEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    char pattern[] = "/tmp/wal-kafka-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    g_broker_dir = pattern;
    // A port found free can be taken before the broker binds it: retry on a new one.
    int rc = -1;
    for (int attempt = 0; attempt < 3 && rc != 0; ++attempt) {
      g_broker_port = FreePort();
      ASSERT_GT(g_broker_port, 0);
      const std::string dir = g_broker_dir + "/broker";
      (void)Script("kill " + dir);
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
      rc = Script("start " + dir + " " + std::to_string(g_broker_port));
    }
    ASSERT_EQ(rc, 0) << "kafka.sh start failed; run `bash scripts/test-servers/kafka.sh fetch` first";
  }
  void TearDown() override {
    if (g_broker_dir.empty()) return;
    (void)Script("kill " + g_broker_dir + "/broker");  // its data is thrown away: no graceful shutdown
    std::error_code ignored;
    std::filesystem::remove_all(g_broker_dir, ignored);
  }
};

const auto* const g_env = ::testing::AddGlobalTestEnvironment(new BrokerEnvironment);

class KafkaBrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    topic_ = std::string("t-") + info->name();
    data_dir_ = g_broker_dir + "/data-" + info->name();
    std::filesystem::create_directories(data_dir_);
  }

  config::NamespaceConfig Config(std::map<std::string, std::string> extra = {}) const {
    config::NamespaceConfig c;
    c.name = "ns";
    KafkaBackendConfig& kafka = c.backend.settings.Mutable<KafkaBackendConfig>();
    kafka.bootstrap_servers = Servers();
    kafka.topics = {topic_};
    kafka.consumer_group = "g-" + topic_;
    kafka.delay_tiers = {200ms, 500ms};
    kafka.properties = {{"wal.commit.interval.ms", "50"},
                        {"message.timeout.ms", "10000"},
                        {"consumer.session.timeout.ms", "6000"},
                        {"consumer.heartbeat.interval.ms", "500"},
                        {"linger.ms", "1"}};
    for (auto& [k, v] : extra) kafka.properties[k] = v;
    return c;
  }

  std::unique_ptr<Backend> Open(const config::NamespaceConfig& c) {
    BackendContext context;
    context.data_dir = data_dir_;
    auto backend = OpenKafkaBackend(context, c);
    EXPECT_TRUE(backend.ok()) << backend.status().ToString();
    return backend.ok() ? std::move(backend).value() : nullptr;
  }
  std::unique_ptr<Backend> Open() { return Open(Config()); }

  static AppendOutcome AppendSync(Backend& b, std::string record, Clock::time_point due = {}, std::string key = "") {
    std::promise<AppendOutcome> promise;
    auto future = promise.get_future();
    b.Append(QueueEntry{std::move(record), due, std::move(key)}, [&](const AppendOutcome& o) { promise.set_value(o); });
    return future.get();
  }

  static Status Sync(const std::function<void(StatusCallback)>& op) {
    std::promise<Status> promise;
    auto future = promise.get_future();
    op([&](const Status& s) { promise.set_value(s); });
    return future.get();
  }

  // Polls until `n` deliveries arrived or `timeout` passed.
  static std::vector<Delivery> PollN(Backend& b, size_t n, std::chrono::milliseconds timeout) {
    std::vector<Delivery> out;
    const auto deadline = Clock::now() + timeout;
    while (out.size() < n && Clock::now() < deadline) {
      auto polled = b.Poll(n - out.size(), 100ms);
      EXPECT_TRUE(polled.ok()) << polled.status().ToString();
      if (!polled.ok()) break;
      for (auto& d : *polled) out.push_back(std::move(d));
    }
    return out;
  }

  std::string topic_;
  std::string data_dir_;
};

TEST_F(KafkaBrokerTest, ProduceConsumeComplete) {
  auto backend = Open();
  ASSERT_TRUE(backend);
  for (int i = 0; i < 20; ++i) {
    AppendOutcome outcome = AppendSync(*backend, "r" + std::to_string(i));
    ASSERT_EQ(outcome.durability, Durability::kTrue) << outcome.status.ToString();
    EXPECT_EQ(outcome.id, static_cast<uint64_t>(i));  // offsets of the single partition
  }
  auto deliveries = PollN(*backend, 20, 20s);
  ASSERT_EQ(deliveries.size(), 20u);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(deliveries[i].entry.record, "r" + std::to_string(i));
    EXPECT_EQ(deliveries[i].id, static_cast<uint64_t>(i));
    EXPECT_NE(deliveries[i].receipt.find(topic_ + "/0/" + std::to_string(i)), std::string::npos);
  }
  for (auto& d : deliveries) EXPECT_TRUE(Sync([&](StatusCallback cb) { backend->Complete(d, cb); }).ok());
  EXPECT_FALSE(Sync([&](StatusCallback cb) { backend->Complete(deliveries[0], cb); }).ok());  // twice
  auto read = backend->Read(5, 3);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->size(), 3u);
  EXPECT_EQ((*read)[0].id, 5u);
  EXPECT_EQ((*read)[0].record, "r5");
  ASSERT_TRUE(backend->Close().ok());

  auto again = Open();
  EXPECT_TRUE(PollN(*again, 1, 3s).empty()) << "completed entries came back";
  BackendStats stats = again->Stats();
  EXPECT_TRUE(stats.writable);
  ASSERT_TRUE(again->Close().ok());
}

TEST_F(KafkaBrokerTest, UncompletedEntriesComeBackToTheNextInstance) {
  auto first = Open();
  for (int i = 0; i < 10; ++i) ASSERT_EQ(AppendSync(*first, "r" + std::to_string(i)).durability, Durability::kTrue);
  auto deliveries = PollN(*first, 10, 20s);
  ASSERT_EQ(deliveries.size(), 10u);
  // Out of order: 0, 1, 2 and 5 complete; the prefix 0..2 is committed, 3.. is not.
  for (int i : {2, 0, 5, 1}) ASSERT_TRUE(Sync([&](StatusCallback cb) { first->Complete(deliveries[i], cb); }).ok());
  ASSERT_TRUE(first->Close().ok());  // 3, 4, 6.. were never completed

  auto second = Open();
  auto again = PollN(*second, 7, 20s);
  auto extra = PollN(*second, 1, 1s);
  EXPECT_TRUE(extra.empty()) << extra[0].entry.record;
  std::vector<std::string> records;
  for (auto& d : again) records.push_back(d.entry.record);
  // At-least-once: everything from the first unfinished offset (5 may repeat).
  EXPECT_EQ(records, (std::vector<std::string>{"r3", "r4", "r5", "r6", "r7", "r8", "r9"}));
  ASSERT_TRUE(second->Close().ok());
}

// Two consumer groups on one topic (one per region): a retry made by one group
// is consumed by that group only, never applied again by the other.
TEST_F(KafkaBrokerTest, EachGroupRetriesOnlyItsOwnCopies) {
  config::NamespaceConfig a_config = Config();
  config::NamespaceConfig b_config = Config();
  b_config.backend.settings.Mutable<KafkaBackendConfig>().consumer_group = "g-other-" + topic_;
  auto a = Open(a_config);
  auto b = Open(b_config);
  ASSERT_TRUE(a && b);
  ASSERT_EQ(AppendSync(*a, "r", {}, "k").durability, Durability::kTrue);
  auto from_a = PollN(*a, 1, 20s);
  auto from_b = PollN(*b, 1, 20s);
  ASSERT_EQ(from_a.size(), 1u);
  ASSERT_EQ(from_b.size(), 1u);
  QueueEntry retry{"r-retry", Clock::now() + 300ms, "k"};
  ASSERT_TRUE(Sync([&](StatusCallback cb) { a->Reschedule(from_a[0], retry, cb); }).ok());
  ASSERT_TRUE(Sync([&](StatusCallback cb) { b->Complete(from_b[0], cb); }).ok());
  auto again = PollN(*a, 1, 10s);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].entry.record, "r-retry");
  ASSERT_TRUE(Sync([&](StatusCallback cb) { a->Complete(again[0], cb); }).ok());
  auto leaked = PollN(*b, 1, 2s);
  EXPECT_TRUE(leaked.empty()) << "group b got group a's retry: " << leaked[0].entry.record;
  ASSERT_TRUE(a->Close().ok());
  ASSERT_TRUE(b->Close().ok());
}

// wal.retry.in_place: a retried entry stays in its partition and later entries
// with its key wait behind it, so per-key order survives retries.
TEST_F(KafkaBrokerTest, RetryInPlaceKeepsPerKeyOrder) {
  auto backend = Open(Config({{"wal.retry.in_place", "true"}}));
  ASSERT_TRUE(backend);
  ASSERT_EQ(AppendSync(*backend, "v1", {}, "k").durability, Durability::kTrue);
  ASSERT_EQ(AppendSync(*backend, "v2", {}, "k").durability, Durability::kTrue);
  ASSERT_EQ(AppendSync(*backend, "other", {}, "j").durability, Durability::kTrue);
  auto first = PollN(*backend, 2, 20s);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].entry.record, "v1");
  EXPECT_EQ(first[1].entry.record, "other");
  const auto retried_at = Clock::now();
  QueueEntry retry{"v1-attempt-2", retried_at + 400ms, "k"};
  ASSERT_TRUE(Sync([&](StatusCallback cb) { backend->Reschedule(first[0], retry, cb); }).ok());
  ASSERT_TRUE(Sync([&](StatusCallback cb) { backend->Complete(first[1], cb); }).ok());
  auto next = PollN(*backend, 1, 10s);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].entry.record, "v1-attempt-2") << "v2 must wait behind the retried v1";
  EXPECT_GE(Clock::now(), retried_at + 400ms);
  ASSERT_TRUE(Sync([&](StatusCallback cb) { backend->Complete(next[0], cb); }).ok());
  auto last = PollN(*backend, 1, 10s);
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0].entry.record, "v2");
  ASSERT_TRUE(Sync([&](StatusCallback cb) { backend->Complete(last[0], cb); }).ok());
  ASSERT_TRUE(backend->Close().ok());
}

TEST_F(KafkaBrokerTest, PerKeyOrderWithConcurrentWorkers) {
  auto backend = Open(Config({{"wal.topic.partitions", "3"}}));
  constexpr int kKeys = 6, kPerKey = 15;
  std::vector<std::future<AppendOutcome>> outcomes;
  std::vector<std::shared_ptr<std::promise<AppendOutcome>>> promises;
  for (int i = 0; i < kPerKey; ++i) {
    for (int k = 0; k < kKeys; ++k) {
      auto promise = std::make_shared<std::promise<AppendOutcome>>();
      outcomes.push_back(promise->get_future());
      backend->Append(QueueEntry{"k" + std::to_string(k) + ":" + std::to_string(i), {}, "key" + std::to_string(k)},
                      [promise](const AppendOutcome& o) { promise->set_value(o); });
    }
  }
  for (auto& f : outcomes) ASSERT_EQ(f.get().durability, Durability::kTrue);

  std::mutex mu;
  std::map<std::string, std::vector<int>> seen;
  std::set<std::string> in_flight;
  std::atomic<int> done{0}, violations{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&, w] {
      std::mt19937 rng(w);
      const auto deadline = Clock::now() + 30s;
      while (done.load() < kKeys * kPerKey && Clock::now() < deadline) {
        auto polled = backend->Poll(3, 50ms);
        if (!polled.ok()) return;
        for (auto& d : *polled) {
          const std::string key = d.entry.ordering_key;
          {
            std::lock_guard lock(mu);
            if (!in_flight.insert(key).second) violations++;
            seen[key].push_back(std::stoi(d.entry.record.substr(d.entry.record.find(':') + 1)));
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 3));
          {
            std::lock_guard lock(mu);
            in_flight.erase(key);
          }
          EXPECT_TRUE(Sync([&](StatusCallback cb) { backend->Complete(d, cb); }).ok());
          done++;
        }
      }
    });
  }
  for (auto& t : workers) t.join();
  EXPECT_EQ(done.load(), kKeys * kPerKey);
  EXPECT_EQ(violations.load(), 0) << "two entries of one key were in flight at once";
  for (int k = 0; k < kKeys; ++k) {
    std::vector<int> expected(kPerKey);
    for (int i = 0; i < kPerKey; ++i) expected[i] = i;
    EXPECT_EQ(seen["key" + std::to_string(k)], expected) << "key" << k;
  }
  ASSERT_TRUE(backend->Close().ok());
}

// What an operator does with `kafka-topics --alter --partitions`: grows a topic
// in place. Returns the broker's error text, empty on success.
std::string AddPartitions(const std::string& topic, int total) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", Servers().c_str(), error, sizeof(error));
  rd_kafka_t* admin = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
  if (admin == nullptr) return error;
  rd_kafka_NewPartitions_t* grow = rd_kafka_NewPartitions_new(topic.c_str(), total, error, sizeof(error));
  rd_kafka_queue_t* queue = rd_kafka_queue_new(admin);
  rd_kafka_CreatePartitions(admin, &grow, 1, nullptr, queue);
  std::string outcome = "no answer";
  if (rd_kafka_event_t* event = rd_kafka_queue_poll(queue, 15000)) {
    outcome = rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR ? rd_kafka_event_error_string(event) : "";
    size_t count = 0;
    const rd_kafka_topic_result_t** results =
        rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(event), &count);
    for (size_t i = 0; i < count && outcome.empty(); ++i) {
      if (rd_kafka_topic_result_error(results[i]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        outcome = rd_kafka_topic_result_error_string(results[i]);
      }
    }
    rd_kafka_event_destroy(event);
  }
  rd_kafka_queue_destroy(queue);
  rd_kafka_NewPartitions_destroy(grow);
  rd_kafka_destroy(admin);
  return outcome;
}

TEST_F(KafkaBrokerTest, PartitionsAddedWhileRunningAreWrittenAndConsumed) {
  auto backend = Open(Config({{"wal.topic.partitions", "1"}, {"topic.metadata.refresh.interval.ms", "1000"}}));
  ASSERT_TRUE(backend);
  std::set<std::string> written;
  for (int i = 0; i < 10; ++i) {
    const std::string record = "before-" + std::to_string(i);
    ASSERT_EQ(AppendSync(*backend, record, {}, "key-" + std::to_string(i)).durability, Durability::kTrue);
    written.insert(record);
  }
  ASSERT_EQ(AddPartitions(topic_, 3), "");
  std::this_thread::sleep_for(3s);  // three metadata refreshes

  for (int i = 0; i < 60; ++i) {
    const std::string record = "after-" + std::to_string(i);
    ASSERT_EQ(AppendSync(*backend, record, {}, "key-" + std::to_string(i)).durability, Durability::kTrue);
    written.insert(record);
  }
  // Every entry is delivered, including those on the new partitions (the group
  // rebalanced to take them). Each is completed as it arrives: an entry waits
  // while an earlier one with its key is in flight.
  std::set<std::string> delivered, partitions;
  const auto deadline = Clock::now() + 60s;
  while (delivered.size() < written.size() && Clock::now() < deadline) {
    auto polled = backend->Poll(written.size(), 100ms);
    ASSERT_TRUE(polled.ok()) << polled.status().ToString();
    for (auto& delivery : *polled) {
      delivered.insert(delivery.entry.record);
      const size_t slash = delivery.receipt.find('/', topic_.size());
      partitions.insert(delivery.receipt.substr(slash + 1, delivery.receipt.find('/', slash + 1) - slash - 1));
      EXPECT_TRUE(Sync([&](StatusCallback cb) { backend->Complete(delivery, cb); }).ok());
    }
  }
  EXPECT_EQ(delivered, written);
  EXPECT_EQ(partitions, (std::set<std::string>{"0", "1", "2"}));
  // The backlog figures count the new partitions too (recounted every 10 s).
  const auto stats_deadline = Clock::now() + 30s;
  while (backend->Stats().log_end < written.size() && Clock::now() < stats_deadline) std::this_thread::sleep_for(200ms);
  EXPECT_EQ(backend->Stats().log_end, written.size());
  ASSERT_TRUE(backend->Close().ok());
}

TEST_F(KafkaBrokerTest, DelaysThroughTiersNeverEarly) {
  auto backend = Open();  // tiers 200ms, 500ms
  // Join the group first, so every partition is fetched from the start.
  ASSERT_EQ(AppendSync(*backend, "warm-up").durability, Durability::kTrue);
  auto warm = PollN(*backend, 1, 20s);
  ASSERT_EQ(warm.size(), 1u);
  ASSERT_TRUE(Sync([&](StatusCallback cb) { backend->Complete(warm[0], cb); }).ok());
  const auto now = Clock::now();
  const std::vector<std::pair<std::string, std::chrono::milliseconds>> plan = {
      {"later", 1500ms}, {"now", 0ms}, {"mid", 700ms}, {"soon", 300ms}, {"tiny", 50ms}};
  std::map<std::string, Clock::time_point> due;
  for (auto& [name, delay] : plan) {
    due[name] = now + delay;
    ASSERT_EQ(AppendSync(*backend, name, now + delay).durability, Durability::kTrue);
  }
  std::vector<std::string> order;
  const auto deadline = Clock::now() + 20s;
  while (order.size() < plan.size() && Clock::now() < deadline) {
    auto polled = backend->Poll(10, 100ms);
    ASSERT_TRUE(polled.ok());
    for (auto& d : *polled) {
      const auto at = Clock::now();
      const std::string& name = d.entry.record;
      EXPECT_GE(at, due[name]) << name << " handed out before due";
      EXPECT_LT(at - due[name], 2s) << name << " handed out late";
      EXPECT_GE(d.entry.due, due[name]);
      EXPECT_LT(d.entry.due - due[name], 1ms);
      order.push_back(name);
      EXPECT_TRUE(Sync([&](StatusCallback cb) { backend->Complete(d, cb); }).ok());
    }
  }
  EXPECT_EQ(order, (std::vector<std::string>{"now", "tiny", "soon", "mid", "later"}));
  ASSERT_TRUE(backend->Close().ok());
  auto again = Open();
  EXPECT_TRUE(PollN(*again, 1, 2s).empty()) << "hopped or delivered entries came back";
  ASSERT_TRUE(again->Close().ok());
}

TEST_F(KafkaBrokerTest, RescheduleReplacesTheEntry) {
  auto backend = Open();
  ASSERT_EQ(AppendSync(*backend, "v1", {}, "k").durability, Durability::kTrue);
  auto first = PollN(*backend, 1, 20s);
  ASSERT_EQ(first.size(), 1u);
  const auto due = Clock::now() + 400ms;
  ASSERT_TRUE(Sync([&](StatusCallback cb) { backend->Reschedule(first[0], QueueEntry{"v2", due, "k"}, cb); }).ok());
  auto second = PollN(*backend, 1, 20s);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_GE(Clock::now(), due);
  EXPECT_EQ(second[0].entry.record, "v2");
  EXPECT_EQ(second[0].entry.ordering_key, "k");
  ASSERT_TRUE(Sync([&](StatusCallback cb) { backend->Complete(second[0], cb); }).ok());
  ASSERT_TRUE(backend->Close().ok());
  auto again = Open();
  EXPECT_TRUE(PollN(*again, 1, 2s).empty());
  ASSERT_TRUE(again->Close().ok());
}

TEST_F(KafkaBrokerTest, DeadLetterListRedrivePurge) {
  auto backend = Open();
  for (int i = 0; i < 3; ++i) ASSERT_EQ(AppendSync(*backend, "r" + std::to_string(i)).durability, Durability::kTrue);
  auto deliveries = PollN(*backend, 3, 20s);
  ASSERT_EQ(deliveries.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(Sync([&](StatusCallback cb) { backend->DeadLetter(deliveries[i], "dead" + std::to_string(i), cb); }).ok());
  }
  auto listed = backend->ListDeadLetters(0, 10);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 3u);
  EXPECT_EQ((*listed)[1].id, 1u);
  EXPECT_EQ((*listed)[1].record, "dead1");
  auto from = backend->ListDeadLetters(2, 10);
  ASSERT_TRUE(from.ok());
  ASSERT_EQ(from->size(), 1u);

  auto purged = backend->PurgeDeadLetters({0});
  ASSERT_TRUE(purged.ok()) << purged.status().ToString();
  EXPECT_EQ(*purged, 1u);
  auto purged_again = backend->PurgeDeadLetters({0});
  ASSERT_TRUE(purged_again.ok());
  EXPECT_EQ(*purged_again, 0u);

  auto redriven = backend->RedriveDeadLetters({}, [](const std::string& dead) -> Result<QueueEntry> {
    return QueueEntry{"back:" + dead, {}, ""};
  });
  ASSERT_TRUE(redriven.ok()) << redriven.status().ToString();
  EXPECT_EQ(*redriven, 2u);
  listed = backend->ListDeadLetters(0, 10);
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());

  auto back = PollN(*backend, 2, 20s);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].entry.record, "back:dead1");
  EXPECT_EQ(back[1].entry.record, "back:dead2");
  for (auto& d : back) ASSERT_TRUE(Sync([&](StatusCallback cb) { backend->Complete(d, cb); }).ok());
  ASSERT_TRUE(backend->Close().ok());

  // The removal markers survive a restart (same data_dir).
  auto again = Open();
  listed = again->ListDeadLetters(0, 10);
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
  EXPECT_TRUE(PollN(*again, 1, 2s).empty());
  ASSERT_TRUE(again->Close().ok());
}

// Last: it kills the broker (the rest of the binary must not depend on it after).
TEST_F(KafkaBrokerTest, ZzBrokerKilledMidLoadNeverAnswersTrueForLostEntries) {
  auto backend = Open(Config({{"message.timeout.ms", "8000"}, {"reconnect.backoff.max.ms", "300"}}));
  constexpr int kEntries = 600;
  std::mutex mu;
  std::map<std::string, Durability> answers;
  std::atomic<int> answered{0};
  std::thread killer;
  const auto load_start = Clock::now();
  for (int i = 0; i < kEntries; ++i) {
    const std::string record = "load-" + std::to_string(i);
    backend->Append(QueueEntry{record, {}, ""}, [&, record](const AppendOutcome& o) {
      std::lock_guard lock(mu);
      answers[record] = o.durability;
      answered++;
    });
    if (i == kEntries / 3) {
      ASSERT_EQ(Script("kill " + g_broker_dir + "/broker"), 0);
      killer = std::thread([] {
        std::this_thread::sleep_for(1500ms);
        const auto started = Clock::now();
        EXPECT_EQ(Script("start " + g_broker_dir + "/broker " + std::to_string(g_broker_port)), 0);
        std::printf("broker restart took %lld ms\n", static_cast<long long>(
            std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count()));
      });
    }
    std::this_thread::sleep_for(3ms);
  }
  killer.join();
  const auto deadline = Clock::now() + 30s;
  while (answered.load() < kEntries && Clock::now() < deadline) std::this_thread::sleep_for(50ms);
  ASSERT_EQ(answered.load(), kEntries) << "every append must be answered";
  std::set<std::string> durable;
  int unknown = 0, refused = 0;
  for (auto& [record, durability] : answers) {
    if (durability == Durability::kTrue) durable.insert(record);
    if (durability == Durability::kUnknown) unknown++;
    if (durability == Durability::kFalse) refused++;
  }
  std::printf("broker kill: answered after %lld ms: %zu TRUE, %d UNKNOWN, %d FALSE of %d\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - load_start).count()),
              durable.size(), unknown, refused, kEntries);
  std::fflush(stdout);
  ASSERT_TRUE(backend->Close().ok());

  // Everything answered TRUE is there after the restart.
  auto reader = Open();
  std::set<std::string> consumed;
  const auto until = Clock::now() + 60s;
  while (Clock::now() < until) {
    bool missing = false;
    for (const auto& r : durable) {
      if (!consumed.count(r)) {
        missing = true;
        break;
      }
    }
    if (!missing) break;
    auto polled = reader->Poll(500, 200ms);
    ASSERT_TRUE(polled.ok());
    for (auto& d : *polled) {
      consumed.insert(d.entry.record);
      EXPECT_TRUE(Sync([&](StatusCallback cb) { reader->Complete(d, cb); }).ok());
    }
  }
  for (const auto& r : durable) EXPECT_TRUE(consumed.count(r)) << r << " was answered TRUE but is gone";
  EXPECT_GT(durable.size(), static_cast<size_t>(kEntries / 3) - 50);
  ASSERT_TRUE(reader->Close().ok());
}

}  // namespace
}  // namespace wal::queue::kafka
