// Delivery end to end on the embedded log: a real wald delivers to a real HTTP
// server on loopback, which the test tells to succeed, fail or refuse.
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "http_sink.h"
#include "wal/v1/admin.grpc.pb.h"
#include "wal/v1/wal.grpc.pb.h"
#include "wald_process.h"

namespace wal::testing {
namespace {

using google::protobuf::util::TimeUtil;
using std::chrono::milliseconds;
using Clock = std::chrono::system_clock;

std::string HttpNamespace(const std::string& name, const std::string& url, const std::string& extra = "") {
  return "name: " + name +
         "\nbackend: {type: local}\n"
         "target: {type: http, url: \"" + url + "\", timeout: 2s}\n"
         "consumer: {concurrency: 2, poll_interval: 50ms, max_entries_per_poll: 100}\n" + extra;
}

class DeliveryTest : public ::testing::Test {
 protected:
  void StartWald(const std::string& namespace_yaml, const std::string& name = "events") {
    wald_ = std::make_unique<WaldProcess>(dir_.path());
    wald_->WriteNamespaceFile(name, namespace_yaml);
    wald_->Start();
    Connect();
  }
  void Connect() {
    stub_ = v1::WriteAheadLog::NewStub(wald_->Channel());
    admin_ = v1::Admin::NewStub(wald_->Channel());
  }

  v1::WriteToLogResponse Write(const std::string& body, int64_t delay_ms = 0, const std::string& key = "",
                               const std::string& name = "events") {
    v1::WriteToLogRequest request;
    request.set_namespace_(name);
    request.mutable_payload()->set_opaque(body);
    if (delay_ms > 0) *request.mutable_lifecycle()->mutable_delay() = TimeUtil::MillisecondsToDuration(delay_ms);
    request.set_idempotency_key(key);
    v1::WriteToLogResponse response;
    grpc::ClientContext context;
    context.set_deadline(Clock::now() + std::chrono::seconds(10));
    grpc::Status status = stub_->WriteToLog(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  v1::NamespaceStatus Status(const std::string& name = "events") {
    grpc::ClientContext context;
    v1::GetStatusRequest request;
    request.set_namespace_(name);
    v1::GetStatusResponse response;
    EXPECT_TRUE(admin_->GetStatus(&context, request, &response).ok());
    return response.namespaces_size() > 0 ? response.namespaces(0) : v1::NamespaceStatus();
  }

  // On timeout the last status is printed, to show what was stuck.
  bool WaitForStatus(const std::function<bool(const v1::NamespaceStatus&)>& predicate, milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    v1::NamespaceStatus last;
    while (Clock::now() < deadline) {
      last = Status();
      if (predicate(last)) return true;
      std::this_thread::sleep_for(milliseconds(50));
    }
    std::cout << "last status: " << last.ShortDebugString() << "\n";
    return false;
  }

  TempDir dir_;
  HttpSink sink_;
  std::unique_ptr<WaldProcess> wald_;
  std::unique_ptr<v1::WriteAheadLog::Stub> stub_;
  std::unique_ptr<v1::Admin::Stub> admin_;
};

TEST_F(DeliveryTest, DelayedEntriesArriveWhenDueAndNeverBefore) {
  StartWald(HttpNamespace("events", sink_.url()));
  std::map<std::string, Clock::time_point> not_before;
  const int64_t delays_ms[] = {0, 300, 700, 1200, 1800, 2500};
  for (int round = 0; round < 3; ++round) {
    for (int64_t delay : delays_ms) {
      const std::string body = "d" + std::to_string(delay) + "-" + std::to_string(round);
      not_before[body] = Clock::now() + milliseconds(delay);
      ASSERT_EQ(Write(body, delay).durable(), v1::TRUE);
    }
  }
  ASSERT_TRUE(sink_.WaitFor([&](const auto& received) { return received.size() >= not_before.size(); },
                            milliseconds(15000)));
  for (const auto& request : sink_.received()) {
    ASSERT_TRUE(not_before.count(request.body)) << request.body;
    EXPECT_GE(request.at, not_before[request.body]) << request.body << " arrived early";
    EXPECT_LE(request.at - not_before[request.body], milliseconds(1500)) << request.body << " arrived very late";
  }
  EXPECT_TRUE(WaitForStatus([](const auto& status) { return status.pending() == 0; }, milliseconds(5000)));
}

TEST_F(DeliveryTest, RetriesFollowTheBackoffScheduleThenGoToTheDlq) {
  StartWald(HttpNamespace("events", sink_.url(),
                          "backoff: {initial: 200ms, multiplier: 2.0, max: 2s, jitter: none}\nmax_retries: 3\n"));
  sink_.AnswerAll(503);
  const auto written = Write("always-failing");
  ASSERT_EQ(written.durable(), v1::TRUE);
  ASSERT_TRUE(sink_.WaitFor([](const auto& received) { return received.size() >= 4; }, milliseconds(10000)));
  ASSERT_TRUE(WaitForStatus([](const auto& status) { return status.dead_letters() == 1; }, milliseconds(5000)));
  auto received = sink_.received();
  ASSERT_EQ(received.size(), 4u) << "max_retries 3 means 4 attempts in all";
  const int64_t expected_gaps[] = {200, 400, 800};
  for (size_t i = 1; i < received.size(); ++i) {
    EXPECT_EQ(received[i].attempt, i + 1);
    const auto gap = std::chrono::duration_cast<milliseconds>(received[i].at - received[i - 1].at).count();
    EXPECT_GE(gap, expected_gaps[i - 1]) << "retry " << i << " came early";
    EXPECT_LE(gap, expected_gaps[i - 1] + 400) << "retry " << i << " came late";
  }

  // The dead letter carries its attempt count and the errors.
  auto listed = wald_->Walctl({"--json", "dlq", "list", "events"});
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  auto entry = nlohmann::json::parse(listed.output.substr(0, listed.output.find('\n')));
  EXPECT_EQ(entry["record"]["attempt"], 4);
  EXPECT_EQ(entry["record"]["errors"].size(), 4u);
  EXPECT_NE(entry["record"]["errors"][3].get<std::string>().find("503"), std::string::npos);

  // Redrive after the target recovers: delivered once more, attempts reset.
  sink_.AnswerAll(200);
  auto redriven = wald_->Walctl({"dlq", "redrive", "events", "--all"});
  EXPECT_EQ(redriven.exit_code, 0) << redriven.output;
  ASSERT_TRUE(sink_.WaitFor([](const auto& received) { return received.size() >= 5; }, milliseconds(5000)));
  EXPECT_EQ(sink_.received().back().attempt, 1u);
  EXPECT_TRUE(WaitForStatus([](const auto& status) { return status.dead_letters() == 0 && status.pending() == 0; },
                            milliseconds(5000)));
}

TEST_F(DeliveryTest, APermanentErrorGoesStraightToTheDlqAndCanBePurged) {
  StartWald(HttpNamespace("events", sink_.url(), "max_retries: 5\n"));
  sink_.AnswerAll(400);
  ASSERT_EQ(Write("bad-request").durable(), v1::TRUE);
  ASSERT_TRUE(WaitForStatus([](const auto& status) { return status.dead_letters() == 1; }, milliseconds(5000)));
  EXPECT_EQ(sink_.received().size(), 1u);
  auto shown = wald_->Walctl({"dlq", "show", "events"});
  EXPECT_NE(shown.output.find("permanent"), std::string::npos) << shown.output;
  auto purged = wald_->Walctl({"--json", "dlq", "purge", "events", "--all"});
  EXPECT_EQ(nlohmann::json::parse(purged.output)["purged"], 1);
  EXPECT_TRUE(WaitForStatus([](const auto& status) { return status.dead_letters() == 0; }, milliseconds(2000)));
}

// Each write shows how it ended, through walctl and across a kill -9: its
// newest record reads DELIVERED, DEAD (also once its dead letter is purged) or
// SUPERSEDED for the attempts a retry stored again.
TEST_F(DeliveryTest, EachWriteReadsDeliveredOrDeadThroughWalctlAndAcrossAKill) {
  StartWald(HttpNamespace("events", sink_.url(), "backoff: {initial: 100ms, max: 100ms, jitter: none}\nmax_retries: 1\n"));
  const uint64_t good = Write("good").id();
  ASSERT_TRUE(WaitForStatus([](const auto& status) { return status.pending() == 0; }, milliseconds(5000)));
  sink_.AnswerAll(503);
  const uint64_t bad = Write("bad").id();
  ASSERT_TRUE(WaitForStatus([](const auto& status) { return status.dead_letters() == 1; }, milliseconds(5000)));
  auto states_of = [&](uint64_t entry) {
    auto read = wald_->Walctl({"--json", "log", "read", "events", "--entry", std::to_string(entry)});
    EXPECT_EQ(read.exit_code, 0) << read.output;
    std::vector<std::string> states;
    std::stringstream lines(read.output);
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty()) states.push_back(nlohmann::json::parse(line)["state"].get<std::string>());
    }
    return states;
  };
  auto count = [&](const std::string& states) {
    auto read = wald_->Walctl({"--json", "log", "read", "events", "--state", states});
    EXPECT_EQ(read.exit_code, 0) << read.output;
    return std::count(read.output.begin(), read.output.end(), '\n');
  };
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(states_of(good), std::vector<std::string>{"DELIVERED"}) << "round " << round;
    EXPECT_EQ(states_of(bad), (std::vector<std::string>{"SUPERSEDED", "DEAD"})) << "round " << round;
    EXPECT_EQ(count("delivered"), 1) << "round " << round;
    EXPECT_EQ(count("dead,superseded"), 2) << "round " << round;
    EXPECT_EQ(count("done"), 3) << "round " << round << ": done is every retirement";
    wald_->Kill();
    wald_->Start();
    Connect();
  }
  ASSERT_EQ(wald_->Walctl({"dlq", "purge", "events", "--all"}).exit_code, 0);
  wald_->Kill();
  wald_->Start();
  Connect();
  EXPECT_EQ(states_of(bad), (std::vector<std::string>{"SUPERSEDED", "DEAD"})) << "purging never makes it delivered";
}

// `walctl dlq redrive --to`: dead letters move into another namespace, which
// delivers them as its own entries; the caller needs write access there too.
TEST_F(DeliveryTest, DeadLettersRedrivenToAnotherNamespaceAreDeliveredThereAndLeaveTheDlq) {
  // sha256("secret-token") may write to "repairs"; sha256("reader-token") may only read.
  const std::string access =
      "access: {tokens: [{name: app, sha256: 930bbdc51b6aed5c2a5678fd6e28dee7a05e8a4b643cfc0b4427c3efb86c0d94, "
      "scopes: [write, read]}, {name: reader, sha256: "
      "ba5005a40cf5212e4ac0190104cc127edab013294bb71279a975b27a80982d45, scopes: [read]}]}\n";
  wald_ = std::make_unique<WaldProcess>(dir_.path());
  wald_->WriteNamespaceFile("events", HttpNamespace("events", sink_.url(), "max_retries: 5\n"));
  wald_->WriteNamespaceFile("repairs", HttpNamespace("repairs", sink_.url(), access));
  wald_->Start();
  Connect();
  sink_.AnswerAll(400);
  ASSERT_EQ(Write("bad-request").durable(), v1::TRUE);
  ASSERT_TRUE(WaitForStatus([](const auto& status) { return status.dead_letters() == 1; }, milliseconds(5000)));
  sink_.AnswerAll(200);

  for (const std::string token : {"", "reader-token"}) {
    std::vector<std::string> args = {"dlq", "redrive", "events", "--all", "--to", "repairs"};
    if (!token.empty()) args.insert(args.begin(), {"--token", token});
    auto refused = wald_->Walctl(args);
    EXPECT_EQ(refused.exit_code, 1) << "token '" << token << "': " << refused.output;
  }
  auto missing = wald_->Walctl({"dlq", "redrive", "events", "--all", "--to", "nowhere"});
  EXPECT_EQ(missing.exit_code, 1) << missing.output;
  EXPECT_TRUE(WaitForStatus([](const auto& status) { return status.dead_letters() == 1; }, milliseconds(1000)))
      << "a refused redrive moves nothing";
  EXPECT_EQ(sink_.received().size(), 1u);

  auto moved = wald_->Walctl({"--token", "secret-token", "dlq", "redrive", "events", "--all", "--to", "repairs"});
  ASSERT_EQ(moved.exit_code, 0) << moved.output;
  EXPECT_NE(moved.output.find("moved 1 dead letters to repairs"), std::string::npos) << moved.output;
  ASSERT_TRUE(sink_.WaitFor([](const auto& received) { return received.size() >= 2; }, milliseconds(5000)));
  EXPECT_EQ(sink_.received().back().body, "bad-request");
  EXPECT_EQ(sink_.received().back().attempt, 1u);
  EXPECT_TRUE(WaitForStatus([](const auto& status) { return status.dead_letters() == 0; }, milliseconds(2000)));
  auto repairs = wald_->Walctl({"--token", "secret-token", "--json", "status", "repairs"});
  ASSERT_EQ(repairs.exit_code, 0) << repairs.output;
  const auto status = nlohmann::json::parse(repairs.output);
  EXPECT_NE(status["namespaces"][0]["log_end"], "0") << "an entry of repairs now: " << status.dump();
  EXPECT_EQ(status["namespaces"][0]["pending"], "0") << "and delivered: " << status.dump();
}

// Pause for a target outage: writes keep arriving and nothing is attempted,
// so no retry is spent; after resume every entry arrives.
TEST_F(DeliveryTest, PausedDeliveryHoldsEntriesThroughATargetOutageAndResumeDeliversThemAll) {
  StartWald(HttpNamespace("events", sink_.url(),
                          "backoff: {initial: 100ms, multiplier: 2.0, max: 200ms, jitter: none}\nmax_retries: 1\n"));
  auto paused = wald_->Walctl({"namespaces", "pause", "events"});
  ASSERT_EQ(paused.exit_code, 0) << paused.output;
  EXPECT_NE(paused.output.find("deliveries paused"), std::string::npos) << paused.output;
  sink_.AnswerAll(503);  // the store is down
  for (int i = 0; i < 20; ++i) ASSERT_EQ(Write("held-" + std::to_string(i)).durable(), v1::TRUE);
  // max_retries 1 and 200 ms backoffs: unpaused, every entry would be in the DLQ by now.
  std::this_thread::sleep_for(milliseconds(1500));
  EXPECT_EQ(sink_.received().size(), 0u) << "nothing is attempted while paused";
  EXPECT_TRUE(WaitForStatus([](const auto& status) { return status.pending() == 20 && status.dead_letters() == 0; },
                            milliseconds(1000)));
  auto table = wald_->Walctl({"status", "events"});
  EXPECT_NE(table.output.find("paused"), std::string::npos) << table.output;
  httplib::Client http("127.0.0.1", wald_->http_port());
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("wal_namespace_delivery_paused{namespace=\"events\"} 1"), std::string::npos);

  sink_.AnswerAll(200);  // the store is back
  auto resumed = wald_->Walctl({"namespaces", "resume", "events"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  ASSERT_TRUE(sink_.WaitFor([](const auto& received) { return received.size() >= 20; }, milliseconds(10000)));
  std::set<std::string> bodies;
  for (const auto& request : sink_.received()) {
    bodies.insert(request.body);
    EXPECT_EQ(request.attempt, 1u) << request.body << ": its first attempt";
  }
  EXPECT_EQ(bodies.size(), 20u);
  EXPECT_TRUE(WaitForStatus([](const auto& status) { return status.pending() == 0 && status.dead_letters() == 0; },
                            milliseconds(5000)));
}

TEST_F(DeliveryTest, DlqDisabledKeepsRetryingAtMaxBackoffAndNeverDrops) {
  StartWald(HttpNamespace("events", sink_.url(),
                          "backoff: {initial: 50ms, multiplier: 2.0, max: 300ms, jitter: none}\nmax_retries: 1\n"
                          "flags: {dlq_enabled: false}\n"));
  sink_.AnswerAll(500);
  ASSERT_EQ(Write("stubborn").durable(), v1::TRUE);
  ASSERT_TRUE(sink_.WaitFor([](const auto& received) { return received.size() >= 6; }, milliseconds(10000)));
  EXPECT_EQ(Status().dead_letters(), 0u);
  auto received = sink_.received();
  for (size_t i = 3; i < received.size(); ++i) {
    const auto gap = std::chrono::duration_cast<milliseconds>(received[i].at - received[i - 1].at).count();
    EXPECT_GE(gap, 300) << "past max_retries it waits the maximum backoff";
  }
  sink_.AnswerAll(200);
  EXPECT_TRUE(WaitForStatus([](const auto& status) { return status.pending() == 0; }, milliseconds(5000)));
}

TEST_F(DeliveryTest, KillNineDuringRetriesLosesNothingAndAttemptsNeverGoBack) {
  const std::string yaml =
      HttpNamespace("events", sink_.url(), "backoff: {initial: 100ms, multiplier: 1.5, max: 400ms, jitter: full}\n"
                                            "max_retries: 1000\n");
  StartWald(yaml);
  sink_.AnswerAll(503);
  std::set<std::string> written;
  for (int i = 0; i < 40; ++i) {
    std::string body = "entry-" + std::to_string(i);
    ASSERT_EQ(Write(body).durable(), v1::TRUE);
    written.insert(body);
  }
  for (int crash = 0; crash < 4; ++crash) {
    std::this_thread::sleep_for(milliseconds(700));
    wald_->Kill();
    wald_->Start();
    Connect();
  }
  sink_.AnswerAll(200);
  ASSERT_TRUE(WaitForStatus([](const auto& status) { return status.pending() == 0; }, milliseconds(15000)));
  std::map<std::string, uint32_t> highest_attempt;
  std::set<std::string> delivered;
  // Attempts per entry, in arrival order, never go below the highest seen before.
  std::map<std::string, std::vector<uint32_t>> attempts;
  for (const auto& request : sink_.received()) attempts[request.body].push_back(request.attempt);
  for (const auto& [body, sequence] : attempts) {
    for (size_t i = 1; i < sequence.size(); ++i) {
      EXPECT_GE(sequence[i], sequence[i - 1]) << body << ": attempt count went backwards";
    }
  }
  for (const auto& request : sink_.received()) delivered.insert(request.body);
  EXPECT_EQ(delivered, written) << "every acknowledged entry reaches the target";
}

TEST_F(DeliveryTest, IdempotencyKeyIsAcknowledgedAndDeliveredOnceEvenAcrossRestart) {
  StartWald(HttpNamespace("events", sink_.url(), "idempotency_window: 1h\n"));
  auto first = Write("charge-42", 200, "order-42");
  auto second = Write("charge-42", 200, "order-42");
  ASSERT_EQ(first.durable(), v1::TRUE);
  ASSERT_EQ(second.durable(), v1::TRUE);
  EXPECT_EQ(first.id(), second.id());
  // Many concurrent repeats also collapse to one.
  std::vector<std::thread> threads;
  std::atomic<int> same_id{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto stub = v1::WriteAheadLog::NewStub(wald_->Channel());
      v1::WriteToLogRequest request;
      request.set_namespace_("events");
      request.mutable_payload()->set_opaque("refund-7");
      request.set_idempotency_key("refund-7");
      v1::WriteToLogResponse response;
      grpc::ClientContext context;
      if (stub->WriteToLog(&context, request, &response).ok() && response.durable() == v1::TRUE) same_id++;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(same_id.load(), 8);
  ASSERT_TRUE(WaitForStatus([](const auto& status) { return status.pending() == 0; }, milliseconds(5000)));
  wald_->Kill();
  wald_->Start();
  Connect();
  auto after_restart = Write("charge-42", 0, "order-42");
  EXPECT_EQ(after_restart.id(), first.id()) << "the key survives a restart while its entry is retained";
  std::this_thread::sleep_for(milliseconds(800));
  std::map<std::string, int> deliveries;
  for (const auto& request : sink_.received()) deliveries[request.body]++;
  EXPECT_EQ(deliveries["charge-42"], 1);
  EXPECT_EQ(deliveries["refund-7"], 1);
}

TEST_F(DeliveryTest, FlagTogglesUnderLoadLoseNothing) {
  StartWald(HttpNamespace("events", sink_.url(), "backoff: {initial: 50ms, max: 200ms}\n"));
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::set<std::string> acknowledged;
  std::thread writer([&] {
    auto stub = v1::WriteAheadLog::NewStub(wald_->Channel());
    for (int i = 0; !stop.load(); ++i) {
      v1::WriteToLogRequest request;
      request.set_namespace_("events");
      request.mutable_payload()->set_opaque("load-" + std::to_string(i));
      v1::WriteToLogResponse response;
      grpc::ClientContext context;
      if (stub->WriteToLog(&context, request, &response).ok() && response.durable() == v1::TRUE) {
        std::lock_guard lock(mutex);
        acknowledged.insert(request.payload().opaque());
      }
    }
  });
  const std::string base = HttpNamespace("events", sink_.url(), "backoff: {initial: 50ms, max: 200ms}\n");
  const std::string toggles[] = {"flags: {wal_enabled: false}\n", "flags: {wal_enabled: true, dlq_enabled: false}\n",
                                 "flags: {wal_enabled: false, dlq_enabled: false}\n", "flags: {wal_enabled: true}\n"};
  for (int round = 0; round < 2; ++round) {
    for (const auto& flags : toggles) {
      std::this_thread::sleep_for(milliseconds(250));
      const std::string file = dir_.path() + "/events-toggle.yaml";
      std::ofstream(file) << base << flags;
      auto applied = wald_->Walctl({"namespaces", "apply", file});
      ASSERT_EQ(applied.exit_code, 0) << applied.output;
    }
  }
  stop = true;
  writer.join();
  ASSERT_TRUE(WaitForStatus([](const auto& status) { return status.pending() == 0; }, milliseconds(10000)));
  std::set<std::string> delivered;
  for (const auto& request : sink_.received()) delivered.insert(request.body);
  for (const auto& body : acknowledged) EXPECT_TRUE(delivered.count(body)) << body << " was acknowledged, never delivered";
  EXPECT_GT(acknowledged.size(), 100u);
}

TEST_F(DeliveryTest, WalDisabledAnswersFromTheTarget) {
  StartWald(HttpNamespace("events", sink_.url(), "flags: {wal_enabled: false}\n"));
  auto applied = Write("direct");
  EXPECT_EQ(applied.durable(), v1::TRUE);
  EXPECT_EQ(sink_.received().size(), 1u) << "applied before the answer";
  sink_.AnswerAll(500);
  auto refused = Write("direct-refused");
  EXPECT_EQ(refused.durable(), v1::FALSE);
  EXPECT_NE(refused.message().find("500"), std::string::npos) << refused.message();
  EXPECT_EQ(Status().log_end(), 0u) << "the bypass writes nothing to the log";
}

TEST_F(DeliveryTest, UnreachableTargetIsAWarningAndEntriesWait) {
  const int dead_port = FreePort();
  const std::string url = "http://127.0.0.1:" + std::to_string(dead_port) + "/deliver";
  StartWald(HttpNamespace("events", url, "backoff: {initial: 100ms, max: 300ms}\nmax_retries: 1000\n"));
  ASSERT_EQ(Write("waits").durable(), v1::TRUE);
  std::this_thread::sleep_for(milliseconds(800));
  EXPECT_EQ(Status().pending(), 1u) << "the entry waits for the target";
  // Point the namespace at a live target: the waiting entry is delivered.
  const std::string file = dir_.path() + "/events-fixed.yaml";
  std::ofstream(file) << HttpNamespace("events", sink_.url(), "backoff: {initial: 100ms, max: 300ms}\n");
  ASSERT_EQ(wald_->Walctl({"namespaces", "apply", file}).exit_code, 0);
  EXPECT_TRUE(sink_.WaitFor([](const auto& received) { return !received.empty(); }, milliseconds(5000)));
}

TEST_F(DeliveryTest, RequestTargetOverrideIsUsed) {
  HttpSink other;
  StartWald(HttpNamespace("events", sink_.url()));
  v1::WriteToLogRequest request;
  request.set_namespace_("events");
  request.mutable_payload()->set_opaque("to-the-other-sink");
  request.mutable_target()->set_type("http");
  (*request.mutable_target()->mutable_settings()->mutable_fields())["url"].set_string_value(other.url());
  v1::WriteToLogResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(stub_->WriteToLog(&context, request, &response).ok());
  ASSERT_EQ(response.durable(), v1::TRUE);
  EXPECT_TRUE(other.WaitFor([](const auto& received) { return received.size() == 1; }, milliseconds(5000)));
  EXPECT_TRUE(sink_.received().empty());
}

}  // namespace
}  // namespace wal::testing
