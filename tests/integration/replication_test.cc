// The Kafka backend and cross-region replication through real wald processes, against one real Kafka broker per test binary (a gtest
// Environment running scripts/test-servers/kafka.sh; needs `kafka.sh fetch`) and
// real memcached servers (scripts/test-servers/memcached.sh). The Kafka target
// against a broker: src/target/kafka/kafka_target_broker_test.cc.
#include <fcntl.h>
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "http_sink.h"
#include "target/sqlite/sqlite_target.h"
#include "wal/v1/admin.grpc.pb.h"
#include "wal/v1/wal.grpc.pb.h"
#include "wald_process.h"

namespace wal::testing {
namespace {

using google::protobuf::util::TimeUtil;
using std::chrono::milliseconds;
using Clock = std::chrono::system_clock;

std::string g_root;  // broker and memcached state for the whole binary
int g_broker_port = 0;

std::string Brokers() { return "127.0.0.1:" + std::to_string(g_broker_port); }

// The source tree (set by CMake; __FILE__ can be relative under ccache).
std::string SourceDir() { return WAL_SOURCE_DIR; }

int Script(const std::string& script, const std::string& args) {
  const std::string command = "bash " + SourceDir() + "/scripts/test-servers/" + script + " " + args + " >/dev/null";
  return std::system(command.c_str());
}

class BrokerEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    char pattern[] = "/tmp/wal-replication-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    g_root = pattern;
    int rc = -1;
    // A port found free can be taken before the broker binds it: retry on a new one.
    for (int attempt = 0; attempt < 3 && rc != 0; ++attempt) {
      g_broker_port = FreePort();
      std::error_code ignored;
      std::filesystem::remove_all(g_root + "/broker", ignored);
      rc = Script("kafka.sh", "start " + g_root + "/broker " + std::to_string(g_broker_port));
    }
    ASSERT_EQ(rc, 0) << "kafka.sh start failed; run `bash scripts/test-servers/kafka.sh fetch` first";
  }
  void TearDown() override {
    if (g_root.empty()) return;
    (void)Script("kafka.sh", "kill " + g_root + "/broker");
    std::error_code ignored;
    std::filesystem::remove_all(g_root, ignored);
  }
};

const auto* const g_environment = ::testing::AddGlobalTestEnvironment(new BrokerEnvironment);

// A memcached on a free loopback port, stopped by the destructor.
class Memcached {
 public:
  Memcached() : port_(FreePort()) { Start(); }
  ~Memcached() { Stop(); }
  void Start() { ASSERT_EQ(Script("memcached.sh", "start " + g_root + "/mc " + std::to_string(port_)), 0); }
  void Stop() { (void)Script("memcached.sh", "stop " + g_root + "/mc " + std::to_string(port_)); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  // The value under `key`, nullopt when absent or the server does not answer.
  std::optional<std::string> Get(const std::string& key) const {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<uint16_t>(port_));
    timeval timeout{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    std::optional<std::string> value;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
      const std::string request = "get " + key + "\r\n";
      std::string reply;
      if (::write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
        char buffer[4096];
        while (reply.size() < 5 || reply.compare(reply.size() - 5, 5, "END\r\n") != 0) {
          ssize_t n = ::read(fd, buffer, sizeof(buffer));
          if (n <= 0) break;
          reply.append(buffer, static_cast<size_t>(n));
        }
      }
      // VALUE <key> <flags> <bytes>\r\n<data>\r\nEND\r\n
      if (reply.rfind("VALUE ", 0) == 0) {
        const size_t line_end = reply.find("\r\n");
        const size_t data_end = reply.rfind("\r\nEND\r\n");
        if (line_end != std::string::npos && data_end != std::string::npos && data_end >= line_end + 2) {
          value = reply.substr(line_end + 2, data_end - line_end - 2);
        }
      }
    }
    ::close(fd);
    return value;
  }

 private:
  int port_;
};

// A wald process with an optional --region (WaldProcess has no region flag).
class Wald {
 public:
  explicit Wald(std::string root, std::string region = "")
      : root_(std::move(root)), region_(std::move(region)), grpc_port_(FreePort()), http_port_(FreePort()) {
    std::filesystem::create_directories(root_ + "/namespaces");
    std::filesystem::create_directories(root_ + "/data");
  }
  ~Wald() { Kill(); }

  void WriteNamespace(const std::string& name, const std::string& yaml) const {
    std::ofstream(root_ + "/namespaces/" + name + ".yaml") << yaml;
  }

  void Start() {
    ASSERT_LT(pid_, 0);
    std::vector<std::string> argv = {WALD_BINARY,
                                     "--data-dir", root_ + "/data",
                                     "--namespaces", root_ + "/namespaces",
                                     "--grpc-listen", address(),
                                     "--http-listen", "127.0.0.1:" + std::to_string(http_port_),
                                     "--log-level", "info"};
    if (!region_.empty()) {
      argv.push_back("--region");
      argv.push_back(region_);
    }
    pid_ = ::fork();
    if (pid_ == 0) {
      int log = ::open((root_ + "/wald.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(log, 1);
      ::dup2(log, 2);
      std::vector<char*> args;
      for (auto& arg : argv) args.push_back(arg.data());
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    while (Clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        FAIL() << "wald exited during start-up:\n" << Log();
      }
      auto channel = grpc::CreateChannel(address(), grpc::InsecureChannelCredentials());
      if (channel->WaitForConnected(Clock::now() + std::chrono::milliseconds(500))) {
        stub_ = v1::WriteAheadLog::NewStub(channel);
        admin_ = v1::Admin::NewStub(channel);
        return;
      }
    }
    FAIL() << "wald did not become ready within 30 s";
  }

  void Kill() {
    if (pid_ < 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  // SIGTERM, then waits up to `limit`; the exit code, or -1 if it was still
  // running (it is then killed).
  int Terminate(std::chrono::seconds limit) {
    if (pid_ < 0) return -1;
    ::kill(pid_, SIGTERM);
    const auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
    Kill();
    return -1;
  }

  std::string address() const { return "127.0.0.1:" + std::to_string(grpc_port_); }
  std::string Log() const {
    std::ifstream in(root_ + "/wald.log");
    return std::string((std::istreambuf_iterator<char>(in)), {});
  }

  v1::WriteToLogResponse Write(const std::string& ns, const v1::Payload& payload) {
    v1::WriteToLogRequest request;
    request.set_namespace_(ns);
    *request.mutable_payload() = payload;
    v1::WriteToLogResponse response;
    grpc::ClientContext context;
    context.set_deadline(Clock::now() + std::chrono::seconds(20));
    grpc::Status status = stub_->WriteToLog(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  v1::NamespaceStatus Status(const std::string& ns) {
    grpc::ClientContext context;
    context.set_deadline(Clock::now() + std::chrono::seconds(10));
    v1::GetStatusRequest request;
    request.set_namespace_(ns);
    v1::GetStatusResponse response;
    if (!admin_->GetStatus(&context, request, &response).ok() || response.namespaces_size() == 0) return {};
    return response.namespaces(0);
  }

 private:
  std::string root_;
  std::string region_;
  int grpc_port_;
  int http_port_;
  pid_t pid_ = -1;
  std::unique_ptr<v1::WriteAheadLog::Stub> stub_;
  std::unique_ptr<v1::Admin::Stub> admin_;
};

v1::Payload Put(const std::string& key, const std::string& value, const std::string& partition_key = "") {
  v1::Payload payload;
  payload.mutable_mutation()->set_op(v1::Mutation::PUT);
  payload.mutable_mutation()->set_key(key);
  payload.mutable_mutation()->set_partition_key(partition_key);
  payload.mutable_mutation()->set_value(value);
  return payload;
}

v1::Payload Delete(const std::string& key) {
  v1::Payload payload;
  payload.mutable_mutation()->set_op(v1::Mutation::DELETE);
  payload.mutable_mutation()->set_key(key);
  return payload;
}

v1::Payload Opaque(const std::string& body) {
  v1::Payload payload;
  payload.set_opaque(body);
  return payload;
}

std::string Base64Decode(const std::string& text) {
  static const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int bits = 0, value = 0;
  for (char c : text) {
    const size_t index = kAlphabet.find(c);
    if (index == std::string::npos) continue;  // '=' padding
    value = (value << 6) | static_cast<int>(index);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((value >> bits) & 0xff));
    }
  }
  return out;
}

bool Eventually(const std::function<bool()>& predicate, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(milliseconds(50));
  }
  return predicate();
}

// Kafka backend settings that make the tests quick: a restarted consumer is
// admitted without waiting out a long session, offsets committed often.
std::string KafkaBackend(const std::string& topic, const std::string& extra_properties = "") {
  return "backend:\n"
         "  type: kafka\n"
         "  kafka:\n"
         "    bootstrap_servers: " + Brokers() + "\n"
         "    topics: [" + topic + "]\n"
         "    delay_tiers: [200ms, 1s, 5s]\n"
         "    properties:\n"
         "      linger.ms: \"1\"\n"
         "      wal.commit.interval.ms: \"100\"\n"
         "      consumer.session.timeout.ms: \"6000\"\n"
         "      consumer.heartbeat.interval.ms: \"500\"\n" + extra_properties;
}

class ReplicationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    topic_ = std::string("t-") + info->name();
  }
  std::string Root(const std::string& name) const { return dir_.path() + "/" + name; }

  TempDir dir_;
  std::string topic_;
};

TEST_F(ReplicationTest, KafkaBackendDeliversThroughWaldToAnHttpTarget) {
  HttpSink sink;
  Wald wald(Root("wald"));
  wald.WriteNamespace("events", "name: events\n" + KafkaBackend(topic_) +
                                    "target: {type: http, url: \"" + sink.url() + "\", timeout: 2s}\n"
                                    "consumer: {concurrency: 4, poll_interval: 20ms, max_entries_per_poll: 100}\n");
  wald.Start();
  constexpr int kEntries = 60;
  for (int i = 0; i < kEntries; ++i) {
    auto response = wald.Write("events", Opaque("e" + std::to_string(i)));
    ASSERT_EQ(response.durable(), v1::TRUE) << response.ShortDebugString();
  }
  ASSERT_TRUE(sink.WaitFor([&](const auto& received) { return received.size() >= kEntries; }, milliseconds(30000)))
      << sink.received().size() << " of " << kEntries;
  std::set<std::string> bodies;
  for (const auto& request : sink.received()) bodies.insert(request.body);
  EXPECT_EQ(bodies.size(), static_cast<size_t>(kEntries));
  EXPECT_TRUE(Eventually([&] { return wald.Status("events").pending() == 0; }, milliseconds(10000)))
      << wald.Status("events").ShortDebugString();
}

// Three regions, three memcached, three walds sharing one namespace file; each
// wald (--region R) consumes in its own group and writes only to R's memcached.
TEST_F(ReplicationTest, ReplicatesToEveryRegionAndALaggingRegionCatchesUpWithoutLoss) {
  const std::vector<std::string> regions = {"us-east-1", "us-west-2", "eu-west-1"};
  std::map<std::string, std::unique_ptr<Memcached>> caches;
  for (const auto& region : regions) caches[region] = std::make_unique<Memcached>();
  std::string yaml = "name: cache\n" + KafkaBackend(topic_, "      wal.topic.partitions: \"2\"\n") +
                     "  # each region: consumer group wal-cache.<region>\n"
                     "backoff: {initial: 100ms, multiplier: 2.0, max: 500ms}\n"
                     "max_retries: 1000\n"
                     "target:\n  type: replication\n  timeout: 300ms\n  regions:\n";
  for (const auto& region : regions) yaml += "    " + region + ": {servers: [\"" + caches[region]->address() + "\"]}\n";
  yaml += "consumer: {concurrency: 4, poll_interval: 20ms, max_entries_per_poll: 100}\n";
  std::map<std::string, std::unique_ptr<Wald>> walds;
  for (const auto& region : regions) {
    walds[region] = std::make_unique<Wald>(Root(region), region);
    walds[region]->WriteNamespace("cache", yaml);
    walds[region]->Start();
  }
  for (const auto& region : regions) {
    EXPECT_NE(walds[region]->Log().find("kafka group wal-cache." + region), std::string::npos);
  }

  // Writes through every region reach every region.
  for (int i = 0; i < 30; ++i) {
    const std::string& via = regions[i % 3];
    ASSERT_EQ(walds[via]->Write("cache", Put("k" + std::to_string(i), "v" + std::to_string(i) + "@" + via)).durable(),
              v1::TRUE);
  }
  ASSERT_EQ(walds["us-west-2"]->Write("cache", Delete("k0")).durable(), v1::TRUE);
  for (const auto& region : regions) {
    EXPECT_TRUE(Eventually([&] { return caches[region]->Get("k29") == std::optional<std::string>("v29@eu-west-1"); },
                           milliseconds(20000)))
        << region;
    EXPECT_TRUE(Eventually([&] { return !caches[region]->Get("k0").has_value(); }, milliseconds(10000))) << region;
    for (int i = 1; i < 30; ++i) {
      EXPECT_EQ(caches[region]->Get("k" + std::to_string(i)), "v" + std::to_string(i) + "@" + regions[i % 3]) << region;
    }
  }

  // eu-west-1's memcached goes down: its consumer lags, the others do not.
  caches["eu-west-1"]->Stop();
  for (int i = 0; i < 40; ++i) {
    ASSERT_EQ(walds[regions[i % 2]]->Write("cache", Put("late" + std::to_string(i), "l" + std::to_string(i))).durable(),
              v1::TRUE);
  }
  // Overwrites of one key during the outage: the region must end with the last.
  for (int version = 1; version <= 5; ++version) {
    ASSERT_EQ(walds["us-east-1"]->Write("cache", Put("hot", "hot-v" + std::to_string(version))).durable(), v1::TRUE);
  }
  for (const std::string region : {"us-east-1", "us-west-2"}) {
    EXPECT_TRUE(Eventually([&] { return caches[region]->Get("hot") == std::optional<std::string>("hot-v5"); },
                           milliseconds(20000)))
        << region;
    EXPECT_EQ(caches[region]->Get("late39"), "l39") << region;
  }
  // Stats are refreshed every 2 s: wait for them to show the lag.
  EXPECT_TRUE(Eventually([&] { return walds["eu-west-1"]->Status("cache").pending() >= 45u; }, milliseconds(10000)))
      << "eu-west-1 keeps what it could not apply: " << walds["eu-west-1"]->Status("cache").ShortDebugString();
  EXPECT_TRUE(Eventually([&] { return walds["us-east-1"]->Status("cache").pending() == 0u; }, milliseconds(10000)))
      << walds["us-east-1"]->Status("cache").ShortDebugString();
  EXPECT_EQ(walds["eu-west-1"]->Status("cache").dead_letters(), 0u);
  for (int i = 0; i < 40; ++i) EXPECT_FALSE(caches["eu-west-1"]->Get("late" + std::to_string(i)).has_value());

  // Back (a restarted memcached is empty): everything written meanwhile arrives, in key order.
  caches["eu-west-1"]->Start();
  EXPECT_TRUE(Eventually([&] { return walds["eu-west-1"]->Status("cache").pending() == 0; }, milliseconds(30000)))
      << walds["eu-west-1"]->Status("cache").ShortDebugString();
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(caches["eu-west-1"]->Get("late" + std::to_string(i)), "l" + std::to_string(i)) << i;
  }
  EXPECT_EQ(caches["eu-west-1"]->Get("hot"), "hot-v5") << "retries kept the per-key order";
  EXPECT_EQ(walds["eu-west-1"]->Status("cache").dead_letters(), 0u);
}

// Writes to one key are applied in the order they were written, also when
// applies fail and are retried, across partitions and concurrent workers.
TEST_F(ReplicationTest, PerKeyOrderHoldsThroughWaldIncludingRetries) {
  HttpSink sink;
  std::atomic<int> requests{0};
  std::map<std::string, std::vector<int>> applied;  // key -> sequence numbers answered 2xx, guarded by the sink
  sink.AnswerWith([&](const ReceivedRequest& request) {
    auto body = nlohmann::json::parse(request.body);
    const std::string key = body["partition_key"];
    const int sequence = std::stoi(Base64Decode(body["value"]));
    if (++requests % 7 == 0) return 503;  // some applies fail and are retried
    applied[key].push_back(sequence);
    return 200;
  });
  Wald wald(Root("wald"));
  wald.WriteNamespace("ordered", "name: ordered\n" +
                                     KafkaBackend(topic_, "      wal.topic.partitions: \"3\"\n"
                                                          "      wal.retry.in_place: \"true\"\n") +
                                     "backoff: {initial: 50ms, max: 200ms}\nmax_retries: 100\n"
                                     "target: {type: http, url: \"" + sink.url() + "\", timeout: 2s}\n"
                                     "consumer: {concurrency: 8, poll_interval: 10ms, max_entries_per_poll: 50}\n");
  wald.Start();
  constexpr int kKeys = 5, kVersions = 30;
  for (int version = 0; version < kVersions; ++version) {
    for (int key = 0; key < kKeys; ++key) {
      ASSERT_EQ(wald.Write("ordered", Put("item", std::to_string(version), "key" + std::to_string(key))).durable(),
                v1::TRUE);
    }
  }
  // The predicate runs under the sink's lock, like the responder that fills `applied`.
  auto applied_count = [&] {
    size_t total = 0;
    for (const auto& [key, sequence] : applied) total += sequence.size();
    return total;
  };
  ASSERT_TRUE(sink.WaitFor([&](const auto&) { return applied_count() >= kKeys * kVersions; }, milliseconds(30000)))
      << wald.Status("ordered").ShortDebugString();
  sink.AnswerAll(200);
  for (int key = 0; key < kKeys; ++key) {
    std::vector<int> expected(kVersions);
    for (int v = 0; v < kVersions; ++v) expected[v] = v;
    EXPECT_EQ(applied["key" + std::to_string(key)], expected) << "key" << key;
  }
}

// A consumer killed while a batch is in flight: what it had not finished is
// handed out again after the restart, and every entry is applied.
TEST_F(ReplicationTest, AConsumerKilledMidBatchRedeliversAndAppliesEverything) {
  HttpSink sink;
  sink.AnswerWith([](const ReceivedRequest&) {
    std::this_thread::sleep_for(milliseconds(15));  // slow target: the kill lands mid-batch
    return 200;
  });
  Wald wald(Root("wald"));
  wald.WriteNamespace("events", "name: events\n" + KafkaBackend(topic_) +
                                    "target: {type: http, url: \"" + sink.url() + "\", timeout: 2s}\n"
                                    "consumer: {concurrency: 2, poll_interval: 20ms, max_entries_per_poll: 50}\n");
  wald.Start();
  constexpr int kEntries = 200;
  for (int i = 0; i < kEntries; ++i) ASSERT_EQ(wald.Write("events", Opaque("e" + std::to_string(i))).durable(), v1::TRUE);
  ASSERT_TRUE(sink.WaitFor([](const auto& received) { return received.size() >= 20; }, milliseconds(20000)));
  wald.Kill();
  const size_t before_kill = sink.received().size();
  ASSERT_LT(before_kill, static_cast<size_t>(kEntries)) << "the kill came too late to interrupt anything";

  wald.Start();
  ASSERT_TRUE(sink.WaitFor(
      [&](const auto& received) {
        std::set<std::string> bodies;
        for (const auto& request : received) bodies.insert(request.body);
        return bodies.size() >= static_cast<size_t>(kEntries);
      },
      milliseconds(60000)))
      << "received " << sink.received().size();
  EXPECT_TRUE(Eventually([&] { return wald.Status("events").pending() == 0; }, milliseconds(15000)))
      << wald.Status("events").ShortDebugString();
  std::cout << "killed after " << before_kill << " deliveries; " << sink.received().size() - kEntries
            << " duplicate(s) after the restart (at-least-once)\n";
}

}  // namespace
}  // namespace wal::testing

namespace wal::testing {
namespace {

// The multi-partition persona on the Kafka backend: each set spans two tables in
// two SQLite stores (the namespace target and a named one); sets that rewrite the
// same key land in the order they were acknowledged.
TEST_F(ReplicationTest, MutationSetsOnTheKafkaBackendApplyInOrderAcrossStores) {
  const std::string main_db = Root("main.db");
  const std::string side_db = Root("side.db");
  Wald wald(Root("wald"));
  wald.WriteNamespace("kvsets", "name: kvsets\n" + KafkaBackend(topic_) +
                                    "durable_storage: {type: local}\n"
                                    "target: {type: sqlite, path: " + main_db + "}\n"
                                    "targets:\n  side: {type: sqlite, path: " + side_db + "}\n"
                                    "consumer: {concurrency: 4, poll_interval: 20ms, max_entries_per_poll: 100}\n");
  wald.Start();
  constexpr int kRounds = 8;
  constexpr int kKeys = 5;
  for (int round = 0; round < kRounds; ++round) {
    for (int key = 0; key < kKeys; ++key) {
      v1::Payload payload;
      auto* set = payload.mutable_mutation_set();
      const std::string value = "r" + std::to_string(round);
      auto add = [&](uint64_t sequence, const std::string& table, const std::string& target) {
        auto* mutation = set->add_mutations();
        mutation->set_op(v1::Mutation::PUT);
        mutation->set_table(table);
        mutation->set_partition_key("p" + std::to_string(key));
        mutation->set_key("k" + std::to_string(key));
        mutation->set_value(value);
        mutation->set_target(target);
        mutation->set_sequence(sequence);
      };
      add(1, "orders", "");
      add(2, "order_items", "");
      add(3, "order_index", "side");
      auto response = wald.Write("kvsets", payload);
      ASSERT_EQ(response.durable(), v1::TRUE) << response.ShortDebugString();
    }
  }
  auto main_store = target::SqliteTarget::FromSettings("{\"path\":\"" + main_db + "\"}");
  auto side_store = target::SqliteTarget::FromSettings("{\"path\":\"" + side_db + "\"}");
  ASSERT_TRUE(main_store.ok() && side_store.ok());
  auto value_in = [](target::SqliteTarget& store, const std::string& table, int key) {
    auto got = store.Get(table, "p" + std::to_string(key), "k" + std::to_string(key));
    return got.ok() && got->has_value() ? **got : std::string();
  };
  const std::string last = "r" + std::to_string(kRounds - 1);
  EXPECT_TRUE(Eventually(
      [&] {
        for (int key = 0; key < kKeys; ++key) {
          if (value_in(**main_store, "orders", key) != last || value_in(**main_store, "order_items", key) != last ||
              value_in(**side_store, "order_index", key) != last) {
            return false;
          }
        }
        return wald.Status("kvsets").pending() == 0;
      },
      milliseconds(40000)))
      << wald.Status("kvsets").ShortDebugString();
}

}  // namespace
}  // namespace wal::testing

namespace wal::testing {
namespace {

// Runs last: it kills the binary's broker. A wald whose broker is gone, with
// retries and writes in flight, still stops promptly on SIGTERM (it used to
// wait minutes on librdkafka's socket timeout and the group coordinator).
TEST_F(ReplicationTest, ZzWaldStopsPromptlyOnSigtermWhenTheBrokerIsGone) {
  HttpSink sink;
  sink.AnswerWith([](const ReceivedRequest&) { return 503; });  // everything is retried
  Wald wald(Root("wald"));
  wald.WriteNamespace("events", "name: events\n" + KafkaBackend(topic_) +
                                    "target: {type: http, url: \"" + sink.url() + "\", timeout: 2s}\n"
                                    "backoff: {initial: 50ms, max: 200ms}\n"
                                    "consumer: {concurrency: 2, poll_interval: 20ms}\n");
  wald.Start();
  for (int i = 0; i < 20; ++i) ASSERT_EQ(wald.Write("events", Opaque("e" + std::to_string(i))).durable(), v1::TRUE);
  ASSERT_TRUE(sink.WaitFor([](const auto& received) { return received.size() >= 40; }, milliseconds(30000)));
  // The broker stops answering before it dies (a hung host, then a crash), for
  // longer than the backend's 2 s stats period, so its requests are in flight
  // when the connection drops. A watermark query caught that way used to block
  // the producer thread for good: no broker error in the status, and SIGTERM
  // waited for the kill.
  pid_t broker_pid = 0;
  std::ifstream(g_root + "/broker/kafka.pid") >> broker_pid;
  ASSERT_GT(broker_pid, 0);
  ASSERT_EQ(::kill(broker_pid, SIGSTOP), 0);
  std::this_thread::sleep_for(milliseconds(3000));
  ASSERT_EQ(Script("kafka.sh", "kill " + g_root + "/broker"), 0);
  // The status says what is wrong instead of a generic line.
  EXPECT_TRUE(Eventually(
      [&] { return wald.Status("events").error().find("every kafka broker") != std::string::npos; },
      milliseconds(10000)))
      << wald.Status("events").ShortDebugString();
  std::this_thread::sleep_for(milliseconds(1000));
  const auto stopping_at = Clock::now();
  const int exit_code = wald.Terminate(std::chrono::seconds(60));
  const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - stopping_at);
  std::cout << "SIGTERM with the broker gone: stopped in " << took.count() << " ms\n";
  EXPECT_EQ(exit_code, 0) << wald.Log();
  // Bounded by the close limits: 5 s for unanswered retirements, then 2 s each
  // for the producer flush and the consumer's group leave (brokers down), well
  // inside systemd's TimeoutStopSec=30 (measured here: about 13 s).
  EXPECT_LT(took, milliseconds(20000));
}

}  // namespace
}  // namespace wal::testing
