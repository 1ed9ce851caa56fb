// The many-write calls through a real wald over loopback (docs/api.md,
// "Streams and batches"): WriteToLogStream answers every write once with its
// sequence, holds a fast client back instead of buffering it, survives a
// cancelled client; WriteToLogBatch and the HTTP batch (JSON and NDJSON)
// answer every write in order, each with its own durable answer or refusal.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>

#include "wal/v1/admin.grpc.pb.h"
#include "wal/v1/wal.grpc.pb.h"
#include "wald_process.h"

namespace wal::testing {
namespace {

using std::chrono::seconds;

// server/write_limits.h's kStreamWindow, as docs/api.md states it.
constexpr uint64_t kStreamWindowForTest = 1024;

// Delayed an hour: nothing is delivered (and retired) while a test reads the log.
constexpr const char* kOrders = "name: orders\nbackend: {type: local}\ndelay: {default: 1h}\n";

v1::WriteToLogRequest WriteTo(const std::string& name, const std::string& payload) {
  v1::WriteToLogRequest write;
  write.set_namespace_(name);
  write.mutable_payload()->set_opaque(payload);
  return write;
}

class WriteStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    wald_ = std::make_unique<WaldProcess>(dir_.path());
    wald_->WriteNamespaceFile("orders", kOrders);
    wald_->Start();
    stub_ = v1::WriteAheadLog::NewStub(wald_->Channel());
    admin_ = v1::Admin::NewStub(wald_->Channel());
  }

  void Deadline(grpc::ClientContext* context, seconds timeout = seconds(60)) {
    context->set_deadline(std::chrono::system_clock::now() + timeout);
  }

  // The ids of every entry in "orders"' log.
  std::set<uint64_t> LoggedIds() {
    std::set<uint64_t> ids;
    uint64_t from = 0;
    while (true) {
      grpc::ClientContext context;
      Deadline(&context);
      v1::ReadLogRequest read;
      read.set_namespace_("orders");
      read.set_from_id(from);
      read.set_limit(1000);
      v1::ReadLogResponse log;
      EXPECT_TRUE(admin_->ReadLog(&context, read, &log).ok());
      if (log.entries_size() == 0) break;
      for (const auto& entry : log.entries()) ids.insert(entry.id());
      from = log.entries(log.entries_size() - 1).id() + 1;
    }
    return ids;
  }

  TempDir dir_;
  std::unique_ptr<WaldProcess> wald_;
  std::unique_ptr<v1::WriteAheadLog::Stub> stub_;
  std::unique_ptr<v1::Admin::Stub> admin_;
};

TEST_F(WriteStreamTest, EveryWriteIsAnsweredOnceWithItsSequence) {
  grpc::ClientContext context;
  Deadline(&context);
  auto stream = stub_->WriteToLogStream(&context);
  constexpr uint64_t kWrites = 3000;
  std::thread writer([&] {
    for (uint64_t sequence = 1; sequence <= kWrites; ++sequence) {
      v1::WriteToLogStreamRequest request;
      request.set_sequence(sequence * 10);
      // Every hundredth goes to a namespace that does not exist: refused on
      // the stream, which goes on.
      *request.mutable_write() = WriteTo(sequence % 100 == 0 ? "nowhere" : "orders", "entry " + std::to_string(sequence));
      if (!stream->Write(request)) return;
    }
    stream->WritesDone();
  });
  std::map<uint64_t, v1::WriteResult> answers;
  v1::WriteToLogStreamResponse response;
  while (stream->Read(&response)) {
    EXPECT_TRUE(answers.emplace(response.sequence(), response.result()).second)
        << "answered twice: " << response.sequence();
  }
  writer.join();
  grpc::Status finished = stream->Finish();
  ASSERT_TRUE(finished.ok()) << finished.error_message();
  ASSERT_EQ(answers.size(), kWrites);
  std::set<uint64_t> written_ids;
  for (const auto& [sequence, result] : answers) {
    SCOPED_TRACE(sequence);
    ASSERT_EQ(sequence % 10, 0u);
    if ((sequence / 10) % 100 == 0) {
      ASSERT_TRUE(result.has_refused());
      EXPECT_EQ(result.refused().code(), grpc::StatusCode::NOT_FOUND) << result.refused().message();
    } else {
      ASSERT_TRUE(result.has_written());
      EXPECT_EQ(result.written().durable(), v1::TRUE) << result.written().message();
      EXPECT_TRUE(written_ids.insert(result.written().id()).second);
    }
  }
  EXPECT_EQ(written_ids.size(), kWrites - kWrites / 100);
  // Every TRUE answer is an entry in the log.
  EXPECT_EQ(LoggedIds(), written_ids);
}

TEST_F(WriteStreamTest, WritesThatDoNotCompleteHoldTheClientBackInsteadOfBeingBuffered) {
  // A target that takes connections and never answers: with the log off, a
  // write completes only when its target call does, so the server's window
  // fills with unanswered writes.
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(::listen(listener, 4096), 0);
  socklen_t length = sizeof(address);
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port)) + "/";
  grpc::ClientContext apply_context;
  Deadline(&apply_context);
  v1::ApplyNamespaceRequest apply;
  auto& fields = *apply.mutable_config()->mutable_fields();
  fields["name"].set_string_value("stalled");
  (*fields["flags"].mutable_struct_value()->mutable_fields())["wal_enabled"].set_bool_value(false);
  auto& target = *fields["target"].mutable_struct_value()->mutable_fields();
  target["type"].set_string_value("http");
  target["url"].set_string_value(url);
  target["timeout"].set_string_value("60s");
  v1::NamespaceResponse applied;
  grpc::Status apply_status = admin_->ApplyNamespace(&apply_context, apply, &applied);
  ASSERT_TRUE(apply_status.ok()) << apply_status.error_message();

  grpc::ClientContext context;
  Deadline(&context, seconds(120));
  auto stream = stub_->WriteToLogStream(&context);
  // 40 MB of writes: more than the server's window (1,024 writes) plus what
  // the HTTP/2 windows in between can hold.
  constexpr uint64_t kWrites = 10000;
  const std::string payload(4096, 'p');
  std::atomic<uint64_t> sent{0};
  std::thread writer([&] {
    for (uint64_t sequence = 0; sequence < kWrites; ++sequence) {
      v1::WriteToLogStreamRequest request;
      request.set_sequence(sequence);
      *request.mutable_write() = WriteTo("stalled", payload);
      if (!stream->Write(request)) return;
      sent.fetch_add(1);
    }
    stream->WritesDone();
  });
  std::this_thread::sleep_for(seconds(3));
  const uint64_t sent_while_stalled = sent.load();
  EXPECT_LT(sent_while_stalled, kWrites / 2) << "the server read on past its window";
  EXPECT_GE(sent_while_stalled, kStreamWindowForTest) << "the server read less than its window";
  // The target goes away: every write is answered (not stored: the log is
  // off and the target refused), and the rest of the stream flows.
  ::close(listener);
  uint64_t answered = 0;
  v1::WriteToLogStreamResponse response;
  while (stream->Read(&response)) {
    EXPECT_TRUE(response.result().has_written());
    EXPECT_NE(response.result().written().durable(), v1::TRUE);
    ++answered;
  }
  writer.join();
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(answered, kWrites);
}

TEST_F(WriteStreamTest, ACancelledStreamLeavesTheServerServingAndItsTrueWritesLogged) {
  std::set<uint64_t> true_ids;
  {
    grpc::ClientContext context;
    Deadline(&context);
    auto stream = stub_->WriteToLogStream(&context);
    for (uint64_t sequence = 0; sequence < 200; ++sequence) {
      v1::WriteToLogStreamRequest request;
      request.set_sequence(sequence);
      *request.mutable_write() = WriteTo("orders", "before cancel");
      ASSERT_TRUE(stream->Write(request));
    }
    v1::WriteToLogStreamResponse response;
    for (int i = 0; i < 20 && stream->Read(&response); ++i) {
      if (response.result().written().durable() == v1::TRUE) true_ids.insert(response.result().written().id());
    }
    context.TryCancel();
    while (stream->Read(&response)) {
    }
    EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  EXPECT_EQ(true_ids.size(), 20u);
  // Still serving: a unary write and a new stream work.
  grpc::ClientContext unary;
  Deadline(&unary);
  v1::WriteToLogResponse written;
  ASSERT_TRUE(stub_->WriteToLog(&unary, WriteTo("orders", "after cancel"), &written).ok());
  EXPECT_EQ(written.durable(), v1::TRUE);
  std::set<uint64_t> logged = LoggedIds();
  for (uint64_t id : true_ids) EXPECT_TRUE(logged.count(id)) << id;
  EXPECT_TRUE(logged.count(written.id()));
}

TEST_F(WriteStreamTest, ABatchAnswersEveryWriteInOrder) {
  v1::WriteToLogBatchRequest batch;
  for (int i = 0; i < 50; ++i) *batch.add_writes() = WriteTo("orders", "batched " + std::to_string(i));
  *batch.mutable_writes(7) = WriteTo("nowhere", "x");
  batch.mutable_writes(9)->clear_payload();  // no payload: INVALID_ARGUMENT
  grpc::ClientContext context;
  Deadline(&context);
  v1::WriteToLogBatchResponse results;
  ASSERT_TRUE(stub_->WriteToLogBatch(&context, batch, &results).ok());
  ASSERT_EQ(results.results_size(), 50);
  std::set<uint64_t> ids;
  for (int i = 0; i < 50; ++i) {
    SCOPED_TRACE(i);
    const auto& result = results.results(i);
    if (i == 7) {
      EXPECT_EQ(result.refused().code(), grpc::StatusCode::NOT_FOUND);
    } else if (i == 9) {
      EXPECT_EQ(result.refused().code(), grpc::StatusCode::INVALID_ARGUMENT) << result.refused().message();
    } else {
      ASSERT_TRUE(result.has_written());
      EXPECT_EQ(result.written().durable(), v1::TRUE);
      ids.insert(result.written().id());
    }
  }
  EXPECT_EQ(ids.size(), 48u);
  EXPECT_EQ(LoggedIds(), ids);
}

TEST_F(WriteStreamTest, ABatchOverTheWriteLimitIsRefusedWhole) {
  v1::WriteToLogBatchRequest batch;
  for (int i = 0; i < 10001; ++i) *batch.add_writes() = WriteTo("orders", "x");
  grpc::ClientContext context;
  Deadline(&context);
  v1::WriteToLogBatchResponse results;
  grpc::Status status = stub_->WriteToLogBatch(&context, batch, &results);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("at most 10000"), std::string::npos) << status.error_message();
  EXPECT_TRUE(LoggedIds().empty());
}

TEST_F(WriteStreamTest, HttpBatchAnswersJsonAndNdjsonInOrder) {
  httplib::Client client("127.0.0.1", wald_->http_port());
  client.set_read_timeout(30, 0);
  const std::string body =
      R"({"writes":[{"namespace":"orders","payload":{"opaque":"YQ=="}},)"
      R"({"namespace":"nowhere","payload":{"opaque":"Yg=="}},{"namespace":"orders","payload":{"opaque":"Yw=="}}]})";
  auto answer = client.Post("/v1/log:writeBatch", body, "application/json");
  ASSERT_TRUE(answer);
  ASSERT_EQ(answer->status, 200) << answer->body;
  auto json = nlohmann::json::parse(answer->body);
  ASSERT_EQ(json["results"].size(), 3u) << answer->body;
  EXPECT_EQ(json["results"][0]["written"]["durable"], "TRUE");
  EXPECT_EQ(json["results"][1]["refused"]["code"], 5) << answer->body;  // NOT_FOUND
  EXPECT_EQ(json["results"][2]["written"]["durable"], "TRUE");

  const std::string lines =
      "{\"namespace\":\"orders\",\"payload\":{\"opaque\":\"ZA==\"}}\n\n"
      "{\"namespace\":\"orders\",\"payload\":{\"opaque\":\"ZQ==\"}}\r\n";
  auto ndjson = client.Post("/v1/log:writeBatch", lines, "application/x-ndjson");
  ASSERT_TRUE(ndjson);
  ASSERT_EQ(ndjson->status, 200) << ndjson->body;
  EXPECT_EQ(ndjson->get_header_value("Content-Type"), "application/x-ndjson");
  std::vector<nlohmann::json> out;
  size_t start = 0;
  for (size_t end; (end = ndjson->body.find('\n', start)) != std::string::npos; start = end + 1) {
    out.push_back(nlohmann::json::parse(ndjson->body.substr(start, end - start)));
  }
  ASSERT_EQ(out.size(), 2u) << ndjson->body;
  EXPECT_EQ(out[0]["written"]["durable"], "TRUE");
  EXPECT_EQ(out[1]["written"]["durable"], "TRUE");
  EXPECT_LT(std::stoull(out[0]["written"]["id"].get<std::string>()),
            std::stoull(out[1]["written"]["id"].get<std::string>()));

  // A bad line refuses the whole batch, naming the line; nothing is written.
  const size_t logged = LoggedIds().size();
  auto bad = client.Post("/v1/log:writeBatch", "{\"namespace\":\"orders\",\"payload\":{\"opaque\":\"ZA==\"}}\nnot json\n",
                         "application/x-ndjson");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("line 2"), std::string::npos) << bad->body;
  EXPECT_EQ(LoggedIds().size(), logged);
}

TEST_F(WriteStreamTest, WalctlWritesOneEntryPerLineOverAStream) {
  std::string lines;
  for (int i = 0; i < 500; ++i) lines += "line " + std::to_string(i) + "\n";
  lines += "\n";  // blank lines are skipped
  CommandResult written = wald_->Walctl({"write", "orders", "--each-line", "-"}, lines);
  ASSERT_EQ(written.exit_code, 0) << written.output;
  EXPECT_NE(written.output.find("sent=500 true=500 false=0 unknown=0 refused=0"), std::string::npos) << written.output;
  EXPECT_EQ(LoggedIds().size(), 500u);

  CommandResult refused = wald_->Walctl({"--json", "write", "nowhere", "--each-line", "-"}, "a\nb\n");
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find(R"("refused":2)"), std::string::npos) << refused.output;

  CommandResult both = wald_->Walctl({"write", "orders", "payload", "--each-line", "-"}, "a\n");
  EXPECT_EQ(both.exit_code, 2) << both.output;
}

}  // namespace
}  // namespace wal::testing
