// The SQS backend against a real ElasticMQ (started through
// scripts/test-servers/elasticmq.sh on a free loopback port), plus a small
// fake SQS endpoint for what ElasticMQ does not do: it accepts any signature,
// so signature/credential errors, MD5 mismatches and timeouts are tested
// against the fake, which verifies the Authorization header with our signer.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "queue/sqs/sigv4.h"
#include "queue/sqs/sqs_backend.h"
#include "queue/sqs/sqs_client.h"
#include "queue/sqs/sqs_config.h"

#ifndef WAL_SOURCE_DIR
#error "WAL_SOURCE_DIR must point at the source tree"
#endif

namespace wal::queue::sqs {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;
using json = nlohmann::json;

const std::string kScript = std::string(WAL_SOURCE_DIR) + "/scripts/test-servers/elasticmq.sh";

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  int port = ntohs(address.sin_port);
  close(fd);
  return port;
}

int Script(const std::string& args) { return std::system(("bash " + kScript + " " + args + " >&2").c_str()); }

// One ElasticMQ process with its state in a temporary directory.
struct ElasticMq {
  std::string dir;
  int port = 0;
  bool Start() {
    if (dir.empty()) {
      dir = (std::filesystem::temp_directory_path() /
             ("wal-sqs-elasticmq-" + std::to_string(getpid()) + "-" + std::to_string(FreePort())))
                .string();
      port = FreePort();
    }
    return Script("start " + dir + " " + std::to_string(port)) == 0;
  }
  void Kill() { Script("kill " + dir); }
  void Stop() {
    if (!dir.empty()) Script("stop " + dir);
  }
  void Remove() {
    Stop();
    if (!dir.empty()) std::filesystem::remove_all(dir);
  }
  std::string Endpoint() const { return "http://127.0.0.1:" + std::to_string(port); }
};

AppendOutcome AppendSync(Backend& backend, QueueEntry entry) {
  std::promise<AppendOutcome> promise;
  auto future = promise.get_future();
  backend.Append(std::move(entry), [&promise](const AppendOutcome& outcome) { promise.set_value(outcome); });
  return future.get();
}

template <typename Call>
Status StatusSync(Call call) {
  std::promise<Status> promise;
  auto future = promise.get_future();
  call([&promise](const Status& status) { promise.set_value(status); });
  return future.get();
}

QueueEntry Entry(std::string record, TimePoint due = Clock::now(), std::string key = "") {
  return QueueEntry{std::move(record), due, std::move(key)};
}

SqsBackendOptions Options(const std::string& endpoint, const std::string& key = "AKIDTEST",
                          const std::string& secret = "test-secret") {
  SqsBackendOptions options;
  options.client.endpoint = endpoint;
  options.client.region = "elasticmq";
  options.client.credentials.keys = {key, secret, ""};
  options.client.credentials.source = "test";
  options.client.request_timeout = 5s;
  return options;
}

config::NamespaceConfig Config(const std::string& queue, const std::string& dlq, std::chrono::milliseconds hop = 900s) {
  config::NamespaceConfig config;
  config.name = "sqs-test";
  SqsBackendConfig& sqs = config.backend.settings.Mutable<SqsBackendConfig>();
  sqs.queue = queue;
  sqs.dlq_queue = dlq;
  sqs.region = "elasticmq";
  sqs.max_delay_hop = hop;
  config.dlq.name = dlq;
  return config;
}

// Polls until `count` deliveries arrived or `timeout` passed.
std::vector<Delivery> PollFor(Backend& backend, size_t count, std::chrono::milliseconds timeout) {
  std::vector<Delivery> out;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
    auto polled = backend.Poll(count - out.size(), 1s);
    EXPECT_TRUE(polled.ok()) << polled.status().ToString();
    if (!polled.ok()) break;
    for (auto& delivery : *polled) out.push_back(std::move(delivery));
  }
  return out;
}

class ElasticMqTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ElasticMq();
    started_ = server_->Start();
  }
  static void TearDownTestSuite() {
    server_->Remove();
    delete server_;
  }
  void SetUp() override { ASSERT_TRUE(started_) << "could not start ElasticMQ via " << kScript << " (see stderr)"; }

  // Creates a fresh queue pair and opens a backend on it.
  std::unique_ptr<Backend> Open(std::chrono::milliseconds hop = 900s) {
    static std::atomic<int> counter{0};
    std::string base = "t" + std::to_string(getpid()) + "-" + std::to_string(counter++);
    queue_ = base;
    dlq_ = base + "-dlq";
    SqsClient client(Options(server_->Endpoint()).client);
    EXPECT_TRUE(client.CreateQueue(queue_).ok());
    EXPECT_TRUE(client.CreateQueue(dlq_).ok());
    auto backend = OpenSqsBackendWithOptions(Config(queue_, dlq_, hop), Options(server_->Endpoint()));
    EXPECT_TRUE(backend.ok()) << backend.status().ToString();
    return std::move(backend).value();
  }

  static ElasticMq* server_;
  static bool started_;
  std::string queue_;
  std::string dlq_;
};
ElasticMq* ElasticMqTest::server_ = nullptr;
bool ElasticMqTest::started_ = false;

TEST_F(ElasticMqTest, SendPollComplete) {
  auto backend = Open();
  // Many concurrent appends: the sender groups them into SendMessageBatch calls.
  std::vector<std::future<AppendOutcome>> futures;
  std::vector<std::shared_ptr<std::promise<AppendOutcome>>> promises;
  for (int i = 0; i < 25; ++i) {
    auto promise = std::make_shared<std::promise<AppendOutcome>>();
    futures.push_back(promise->get_future());
    backend->Append(Entry("record-" + std::to_string(i) + std::string("\0\xff", 2), Clock::now(), "key"),
                    [promise](const AppendOutcome& outcome) { promise->set_value(outcome); });
  }
  std::set<uint64_t> ids;
  for (auto& future : futures) {
    AppendOutcome outcome = future.get();
    ASSERT_EQ(outcome.durability, Durability::kTrue) << outcome.status.ToString();
    ids.insert(outcome.id);
  }
  EXPECT_EQ(ids.size(), 25u);

  std::vector<Delivery> deliveries = PollFor(*backend, 25, 20s);
  ASSERT_EQ(deliveries.size(), 25u);
  std::set<std::string> records;
  for (const Delivery& delivery : deliveries) {
    EXPECT_EQ(ids.count(delivery.id), 1u) << "the delivery id is the append id";
    EXPECT_EQ(delivery.receive_count, 1u);
    EXPECT_EQ(delivery.entry.ordering_key, "key");
    EXPECT_FALSE(delivery.receipt.empty());
    records.insert(delivery.entry.record);
  }
  EXPECT_EQ(records.size(), 25u);
  EXPECT_EQ(records.count("record-7" + std::string("\0\xff", 2)), 1u);

  for (const Delivery& delivery : deliveries) {
    Status status = StatusSync([&](StatusCallback done) { backend->Complete(delivery, std::move(done)); });
    ASSERT_TRUE(status.ok()) << status.ToString();
  }
  auto again = backend->Poll(10, 1s);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty());
  BackendStats stats = backend->Stats();
  EXPECT_TRUE(stats.writable);
  EXPECT_EQ(stats.pending, 0u);
  EXPECT_EQ(backend->Read(0, 10).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(backend->Close().ok());
}

TEST_F(ElasticMqTest, DelayedEntryIsNeverHandedOutEarly) {
  auto backend = Open();
  TimePoint due = Clock::now() + 2500ms;
  ASSERT_EQ(AppendSync(*backend, Entry("later", due)).durability, Durability::kTrue);
  auto early = backend->Poll(10, 0ms);
  ASSERT_TRUE(early.ok());
  EXPECT_TRUE(early->empty());
  std::vector<Delivery> deliveries = PollFor(*backend, 1, 15s);
  TimePoint received = Clock::now();
  ASSERT_EQ(deliveries.size(), 1u);
  EXPECT_GE(received, due);
  EXPECT_EQ(deliveries[0].entry.record, "later");
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(deliveries[0].entry.due.time_since_epoch()),
            std::chrono::duration_cast<std::chrono::milliseconds>(due.time_since_epoch()));
}

// Mutation ordering keys are bytes joined with 0x1F; SQS refuses control
// characters in String attributes, so the key must travel encoded.
TEST_F(ElasticMqTest, BinaryOrderingKeyRoundTrips) {
  auto backend = Open();
  const std::string key = std::string("kv\x1f\x1fuser-1\x00\xff", 12);
  AppendOutcome outcome = AppendSync(*backend, Entry("keyed", Clock::now(), key));
  ASSERT_EQ(outcome.durability, Durability::kTrue) << outcome.status.ToString();
  std::vector<Delivery> deliveries = PollFor(*backend, 1, 10s);
  ASSERT_EQ(deliveries.size(), 1u);
  EXPECT_EQ(deliveries[0].entry.ordering_key, key);
  Status status = StatusSync([&](StatusCallback done) { backend->Complete(deliveries[0], std::move(done)); });
  EXPECT_TRUE(status.ok()) << status.ToString();
}

TEST_F(ElasticMqTest, LongDelayHopsThroughReEnqueue) {
  auto backend = Open(/*hop=*/1s);  // stands in for SQS's 15-minute DelaySeconds cap
  TimePoint due = Clock::now() + 3500ms;
  ASSERT_EQ(AppendSync(*backend, Entry("far", due)).durability, Durability::kTrue);
  std::vector<Delivery> deliveries;
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (deliveries.empty() && std::chrono::steady_clock::now() < deadline) {
    auto polled = backend->Poll(10, 1s);
    ASSERT_TRUE(polled.ok()) << polled.status().ToString();
    if (!polled->empty()) {
      EXPECT_GE(Clock::now(), due) << "handed out before due";
      deliveries = std::move(polled).value();
    }
  }
  ASSERT_EQ(deliveries.size(), 1u);
  EXPECT_EQ(deliveries[0].entry.record, "far");
  EXPECT_EQ(deliveries[0].receive_count, 1u) << "each hop is a fresh message, never handed out";
}

TEST_F(ElasticMqTest, RescheduleHidesUntilDueAndCountsReceives) {
  auto backend = Open();
  ASSERT_EQ(AppendSync(*backend, Entry("retry-me")).durability, Durability::kTrue);
  std::vector<Delivery> first = PollFor(*backend, 1, 10s);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].receive_count, 1u);
  uint32_t previous = first[0].receive_count;
  Delivery current = first[0];
  for (int attempt = 0; attempt < 2; ++attempt) {
    TimePoint due = Clock::now() + 2s;  // the engine's backoff
    Status status = StatusSync([&](StatusCallback done) {
      backend->Reschedule(current, Entry("retry-me/attempt-" + std::to_string(attempt + 1), due), std::move(done));
    });
    ASSERT_TRUE(status.ok()) << status.ToString();
    auto hidden = backend->Poll(10, 0ms);
    ASSERT_TRUE(hidden.ok());
    EXPECT_TRUE(hidden->empty());
    std::vector<Delivery> next = PollFor(*backend, 1, 15s);
    ASSERT_EQ(next.size(), 1u);
    EXPECT_GE(Clock::now() + 50ms, due);
    EXPECT_EQ(next[0].id, current.id);
    EXPECT_GT(next[0].receive_count, previous) << "ApproximateReceiveCount carries the attempt count";
    previous = next[0].receive_count;
    current = next[0];
  }
  ASSERT_TRUE(StatusSync([&](StatusCallback done) { backend->Complete(current, std::move(done)); }).ok());
}

TEST_F(ElasticMqTest, DeadLetterListRedrivePurge) {
  auto backend = Open();
  for (const char* record : {"a", "b", "c"}) {
    ASSERT_EQ(AppendSync(*backend, Entry(record)).durability, Durability::kTrue);
  }
  std::vector<Delivery> deliveries = PollFor(*backend, 3, 10s);
  ASSERT_EQ(deliveries.size(), 3u);
  for (const Delivery& delivery : deliveries) {
    Status status = StatusSync([&](StatusCallback done) {
      backend->DeadLetter(delivery, "dead-" + delivery.entry.record, std::move(done));
    });
    ASSERT_TRUE(status.ok()) << status.ToString();
  }
  auto main_after = backend->Poll(10, 1s);
  ASSERT_TRUE(main_after.ok());
  EXPECT_TRUE(main_after->empty()) << "dead-lettered entries left the main queue";

  auto listed = backend->ListDeadLetters(0, 100);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 3u);
  std::map<std::string, uint64_t> by_record;
  for (const StoredEntry& entry : *listed) by_record[entry.record] = entry.id;
  ASSERT_EQ(by_record.count("dead-a"), 1u);
  ASSERT_EQ(by_record.count("dead-b"), 1u);
  ASSERT_EQ(by_record.count("dead-c"), 1u);
  // Listing does not consume: a second list sees the same entries at once.
  auto listed_again = backend->ListDeadLetters(0, 100);
  ASSERT_TRUE(listed_again.ok());
  EXPECT_EQ(listed_again->size(), 3u);
  EXPECT_EQ(backend->ListDeadLetters(0, 2)->size(), 2u);

  auto moved = backend->RedriveDeadLetters({by_record["dead-a"]}, [](const std::string& dead) -> Result<QueueEntry> {
    return QueueEntry{dead + "/redriven", Clock::now(), ""};
  });
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_EQ(*moved, 1u);
  std::vector<Delivery> redriven = PollFor(*backend, 1, 10s);
  ASSERT_EQ(redriven.size(), 1u);
  EXPECT_EQ(redriven[0].entry.record, "dead-a/redriven");
  EXPECT_EQ(redriven[0].receive_count, 1u);
  EXPECT_EQ(backend->ListDeadLetters(0, 100)->size(), 2u);

  auto purged = backend->PurgeDeadLetters({by_record["dead-b"]});
  ASSERT_TRUE(purged.ok()) << purged.status().ToString();
  EXPECT_EQ(*purged, 1u);
  auto rest = backend->ListDeadLetters(0, 100);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ((*rest)[0].record, "dead-c");
  EXPECT_EQ(backend->Stats().dead_letters, 1u);
  auto all = backend->PurgeDeadLetters({});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(*all, 1u);
  EXPECT_TRUE(backend->ListDeadLetters(0, 100)->empty());
}

TEST_F(ElasticMqTest, MissingQueueIsNotFoundNamingTheQueue) {
  auto backend = OpenSqsBackendWithOptions(Config("wal-no-such-queue", "wal-no-such-dlq"), Options(server_->Endpoint()));
  ASSERT_TRUE(backend.ok());
  AppendOutcome outcome = AppendSync(**backend, Entry("x"));
  EXPECT_EQ(outcome.durability, Durability::kFalse);
  EXPECT_EQ(outcome.status.code(), StatusCode::kNotFound);
  EXPECT_NE(outcome.status.message().find("wal-no-such-queue"), std::string::npos) << outcome.status.ToString();
  auto polled = (*backend)->Poll(10, 0ms);
  EXPECT_EQ(polled.status().code(), StatusCode::kNotFound);
  auto listed = (*backend)->ListDeadLetters(0, 10);
  EXPECT_EQ(listed.status().code(), StatusCode::kNotFound);
  EXPECT_NE(listed.status().message().find("wal-no-such-dlq"), std::string::npos);
}

TEST_F(ElasticMqTest, OversizedRecordIsRefusedClearly) {
  auto backend = Open();
  AppendOutcome outcome = AppendSync(*backend, Entry(std::string(200 * 1024, 'x')));  // 267 KiB as base64
  EXPECT_EQ(outcome.durability, Durability::kFalse);
  EXPECT_EQ(outcome.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(outcome.status.message().find("262144"), std::string::npos) << outcome.status.ToString();
  // Just under the limit goes through.
  EXPECT_EQ(AppendSync(*backend, Entry(std::string(190 * 1024, 'y'))).durability, Durability::kTrue);
}

// The server is killed (-9) and restarted in the middle of a stream of appends.
// While it is down appends answer kFalse/kUnknown; afterwards they succeed
// again; and every append that answered kTrue is in the queue (ElasticMQ runs
// with its H2 message store, so it keeps messages across the restart).
TEST(ElasticMqRestartTest, RestartDuringLoadNeverClaimsLostAppends) {
  ElasticMq server;
  ASSERT_TRUE(server.Start());
  SqsClient admin(Options(server.Endpoint()).client);
  ASSERT_TRUE(admin.CreateQueue("restart").ok());
  ASSERT_TRUE(admin.CreateQueue("restart-dlq").ok());
  SqsBackendOptions options = Options(server.Endpoint());
  options.client.request_timeout = 2s;
  options.client.connect_timeout = 1s;
  auto opened = OpenSqsBackendWithOptions(Config("restart", "restart-dlq"), options);
  ASSERT_TRUE(opened.ok());
  Backend& backend = **opened;

  std::mutex mutex;
  std::map<std::string, AppendOutcome> outcomes;
  std::atomic<bool> stop{false};
  std::atomic<int> phase{0};  // 0 before the kill, 1 while down, 2 from the restart on
  std::map<int, std::map<Durability, int>> by_phase;
  std::thread producer([&] {
    for (int i = 0; !stop; ++i) {
      std::string record = "r" + std::to_string(i);
      int at = phase;
      AppendOutcome outcome = AppendSync(backend, Entry(record));
      std::lock_guard lock(mutex);
      outcomes[record] = outcome;
      by_phase[at][outcome.durability]++;
      if (outcome.durability != Durability::kTrue) std::this_thread::sleep_for(50ms);
    }
  });
  std::this_thread::sleep_for(1500ms);
  server.Kill();
  phase = 1;
  std::this_thread::sleep_for(2s);
  phase = 2;  // before Start(): appends racing with the start-up may well succeed
  ASSERT_TRUE(server.Start());
  std::this_thread::sleep_for(2500ms);
  stop = true;
  producer.join();

  {
    std::lock_guard lock(mutex);
    EXPECT_GT(by_phase[0][Durability::kTrue], 0);
    EXPECT_GT(by_phase[1][Durability::kFalse] + by_phase[1][Durability::kUnknown], 0);
    EXPECT_EQ(by_phase[1][Durability::kTrue], 0) << "nothing can be durable while the server is down";
    EXPECT_GT(by_phase[2][Durability::kTrue], 0) << "appends work again after the restart";
  }

  std::set<std::string> stored;
  for (int empty_polls = 0; empty_polls < 2;) {
    auto polled = backend.Poll(10, 1s);
    ASSERT_TRUE(polled.ok()) << polled.status().ToString();
    if (polled->empty()) ++empty_polls;
    for (const Delivery& delivery : *polled) {
      stored.insert(delivery.entry.record);
      (void)StatusSync([&](StatusCallback done) { backend.Complete(delivery, std::move(done)); });
    }
  }
  int durable = 0;
  for (const auto& [record, outcome] : outcomes) {
    if (outcome.durability == Durability::kTrue) {
      ++durable;
      EXPECT_EQ(stored.count(record), 1u) << record << " answered kTrue but is not in the queue";
    }
    if (outcome.durability == Durability::kFalse) {
      EXPECT_FALSE(outcome.status.ok());
    }
  }
  EXPECT_GT(durable, 0);
  EXPECT_TRUE(backend.Close().ok());
  server.Remove();
}

// ---- fake endpoint ------------------------------------------------------------

// Answers SendMessage after checking SigV4 against known credentials, the way
// SQS does: unknown key -> UnrecognizedClientException, wrong signature ->
// SignatureDoesNotMatch. Modes simulate a corrupted MD5 and a hung server.
class FakeSqs {
 public:
  enum class Mode { kNormal, kBadMd5, kHang };
  explicit FakeSqs(SigningCredentials known) : known_(std::move(known)) {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    socklen_t length = sizeof(address);
    getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    listen(listener_, 16);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeSqs() {
    stop_ = true;
    shutdown(listener_, SHUT_RDWR);
    close(listener_);
    thread_.join();
  }
  void set_mode(Mode mode) { mode_ = mode; }
  std::string Endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string QueueUrl() const { return Endpoint() + "/000000000000/fake"; }

 private:
  void Serve() {
    while (!stop_) {
      int fd = accept(listener_, nullptr, nullptr);
      if (fd < 0) return;
      std::string data;
      char buffer[65536];
      size_t header_end = std::string::npos;
      size_t content_length = 0;
      while (true) {
        ssize_t n = read(fd, buffer, sizeof(buffer));
        if (n <= 0) break;
        data.append(buffer, size_t(n));
        if (header_end == std::string::npos && (header_end = data.find("\r\n\r\n")) != std::string::npos) {
          std::string lower = data.substr(0, header_end);
          for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
          size_t at = lower.find("content-length:");
          if (at != std::string::npos) content_length = std::stoul(lower.substr(at + 15));
        }
        if (header_end != std::string::npos && data.size() >= header_end + 4 + content_length) break;
      }
      if (header_end == std::string::npos) {
        close(fd);
        continue;
      }
      std::string response = Handle(data.substr(0, header_end), data.substr(header_end + 4, content_length));
      if (mode_ == Mode::kHang) {
        std::this_thread::sleep_for(2500ms);  // longer than the client's timeout
      }
      (void)!write(fd, response.data(), response.size());
      close(fd);
    }
  }

  static std::string Reply(int status, const std::string& body) {
    return "HTTP/1.1 " + std::to_string(status) + (status == 200 ? " OK" : " Error") +
           "\r\nContent-Type: application/x-amz-json-1.0\r\nConnection: close\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
  }

  std::string Handle(const std::string& head, const std::string& body) {
    std::istringstream lines(head);
    std::string request_line;
    std::getline(lines, request_line);
    std::map<std::string, std::string> headers;
    std::vector<std::pair<std::string, std::string>> all;
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (char& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      headers[name] = value;
      all.emplace_back(name, value);
    }
    std::string authorization = CanonicalHeaderValue(headers["authorization"]);
    std::string credential = authorization.substr(authorization.find("Credential=") + 11);
    std::string key = credential.substr(0, credential.find('/'));
    if (key != known_.access_key_id) {
      return Reply(403, R"({"__type":"com.amazon.coral.service#UnrecognizedClientException","message":"The security token included in the request is invalid."})");
    }
    std::string signed_list = authorization.substr(authorization.find("SignedHeaders=") + 14);
    signed_list = signed_list.substr(0, signed_list.find(','));
    std::set<std::string> signed_names;
    for (std::stringstream names(signed_list); std::getline(names, key, ';');) signed_names.insert(key);
    SignableRequest request;
    request.method = "POST";
    request.path = "/";
    request.payload = body;
    for (const auto& [name, value] : all) {
      if (signed_names.count(name) != 0) request.headers.emplace_back(name, value);
    }
    std::string date = CanonicalHeaderValue(headers["x-amz-date"]);
    std::string region = credential.substr(credential.find('/') + 10);  // skip "/yyyymmdd/"
    region = region.substr(0, region.find('/'));
    SigningTrace expected = SignRequest(&request, known_, region, "sqs", date);
    if (expected.authorization != authorization) {
      return Reply(403, R"({"__type":"com.amazon.coral.service#SignatureDoesNotMatch","message":"The request signature we calculated does not match the signature you provided."})");
    }
    json parsed = json::parse(body, nullptr, false);
    std::string message_body = parsed.is_object() ? parsed.value("MessageBody", "") : "";
    std::string md5 = mode_ == Mode::kBadMd5 ? std::string(32, '0') : Md5Hex(message_body);
    return Reply(200, json{{"MessageId", "fake-" + std::to_string(++sequence_)}, {"MD5OfMessageBody", md5}}.dump());
  }

  SigningCredentials known_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<Mode> mode_{Mode::kNormal};
  int sequence_ = 0;
  std::thread thread_;
};

class FakeSqsTest : public ::testing::Test {
 protected:
  std::unique_ptr<Backend> Open(const std::string& key, const std::string& secret) {
    SqsBackendOptions options = Options(fake_.Endpoint(), key, secret);
    options.client.request_timeout = 1s;
    auto backend = OpenSqsBackendWithOptions(Config(fake_.QueueUrl(), fake_.QueueUrl()), options);
    EXPECT_TRUE(backend.ok());
    return std::move(backend).value();
  }
  FakeSqs fake_{SigningCredentials{"AKIDFAKE", "fake-secret", ""}};
};

TEST_F(FakeSqsTest, RightCredentialsAreAccepted) {
  auto backend = Open("AKIDFAKE", "fake-secret");
  AppendOutcome outcome = AppendSync(*backend, Entry("signed"));
  EXPECT_EQ(outcome.durability, Durability::kTrue) << outcome.status.ToString();
  EXPECT_EQ(outcome.id, EntryIdForMessage("fake-1"));
}

TEST_F(FakeSqsTest, WrongSecretIsABadSignature) {
  auto backend = Open("AKIDFAKE", "not-the-secret");
  AppendOutcome outcome = AppendSync(*backend, Entry("x"));
  EXPECT_EQ(outcome.durability, Durability::kFalse);
  EXPECT_EQ(outcome.status.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(outcome.status.message().find("SignatureDoesNotMatch"), std::string::npos) << outcome.status.ToString();
  EXPECT_EQ(outcome.status.message().find("not-the-secret"), std::string::npos) << "never echo the secret";
}

TEST_F(FakeSqsTest, UnknownAccessKeyIsUnauthenticated) {
  auto backend = Open("AKIDWRONG", "fake-secret");
  AppendOutcome outcome = AppendSync(*backend, Entry("x"));
  EXPECT_EQ(outcome.durability, Durability::kFalse);
  EXPECT_EQ(outcome.status.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(outcome.status.message().find("UnrecognizedClientException"), std::string::npos);
}

TEST_F(FakeSqsTest, Md5MismatchIsNotDurable) {
  auto backend = Open("AKIDFAKE", "fake-secret");
  fake_.set_mode(FakeSqs::Mode::kBadMd5);
  AppendOutcome outcome = AppendSync(*backend, Entry("x"));
  EXPECT_EQ(outcome.durability, Durability::kUnknown);
  EXPECT_NE(outcome.status.message().find("MD5"), std::string::npos);
}

TEST_F(FakeSqsTest, TimeoutIsUnknown) {
  auto backend = Open("AKIDFAKE", "fake-secret");
  fake_.set_mode(FakeSqs::Mode::kHang);
  AppendOutcome outcome = AppendSync(*backend, Entry("x"));
  EXPECT_EQ(outcome.durability, Durability::kUnknown);
  EXPECT_EQ(outcome.status.code(), StatusCode::kDeadlineExceeded) << outcome.status.ToString();
}

}  // namespace
}  // namespace wal::queue::sqs
