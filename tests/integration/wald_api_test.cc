// End-to-end tests against a real wald process: gRPC, HTTP/JSON, admin API,
// walctl and server reflection.
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "wal/v1/admin.grpc.pb.h"
#include "wal/v1/wal.grpc.pb.h"
#include "wald_process.h"

namespace wal::testing {
namespace {

using google::protobuf::util::TimeUtil;

constexpr const char* kOrdersNamespace = R"(name: orders
backend:
  type: local
  local: {segment_bytes: 1048576}
max_payload_bytes: 65536
)";

class WaldApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    wald_ = std::make_unique<WaldProcess>(dir_.path());
    wald_->WriteNamespaceFile("orders", kOrdersNamespace);
    wald_->Start();
    stub_ = v1::WriteAheadLog::NewStub(wald_->Channel());
    admin_ = v1::Admin::NewStub(wald_->Channel());
  }

  grpc::Status Write(const v1::WriteToLogRequest& request, v1::WriteToLogResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return stub_->WriteToLog(&context, request, response);
  }

  httplib::Client Http() {
    httplib::Client client("127.0.0.1", wald_->http_port());
    client.set_read_timeout(10, 0);
    return client;
  }

  TempDir dir_;
  std::unique_ptr<WaldProcess> wald_;
  std::unique_ptr<v1::WriteAheadLog::Stub> stub_;
  std::unique_ptr<v1::Admin::Stub> admin_;
};

TEST_F(WaldApiTest, GrpcWriteIsDurableAndReadableBack) {
  v1::WriteToLogRequest request;
  request.set_namespace_("orders");
  request.mutable_payload()->set_opaque("first");
  *request.mutable_lifecycle()->mutable_delay() = TimeUtil::SecondsToDuration(30);
  v1::WriteToLogResponse first;
  ASSERT_TRUE(Write(request, &first).ok());
  EXPECT_EQ(first.durable(), v1::TRUE) << first.message();
  request.mutable_payload()->set_opaque("second");
  v1::WriteToLogResponse second;
  ASSERT_TRUE(Write(request, &second).ok());
  EXPECT_EQ(second.durable(), v1::TRUE);
  EXPECT_EQ(second.id(), first.id() + 1);

  grpc::ClientContext context;
  v1::ReadLogRequest read;
  read.set_namespace_("orders");
  v1::ReadLogResponse log;
  ASSERT_TRUE(admin_->ReadLog(&context, read, &log).ok());
  ASSERT_EQ(log.entries_size(), 2);
  const auto& record = log.entries(0).record().fields();
  EXPECT_EQ(record.at("namespace").string_value(), "orders");
  // The due time is the accepted time plus the 30 s delay.
  auto due = TimeUtil::MillisecondsToTimestamp(0);
  ASSERT_TRUE(TimeUtil::FromString(record.at("due_time").string_value(), &due));
  auto accepted = TimeUtil::MillisecondsToTimestamp(0);
  ASSERT_TRUE(TimeUtil::FromString(record.at("accepted_time").string_value(), &accepted));
  EXPECT_EQ(TimeUtil::TimestampToMilliseconds(due) - TimeUtil::TimestampToMilliseconds(accepted), 30000);
}

TEST_F(WaldApiTest, GrpcRejectsBadInputWithClearErrors) {
  v1::WriteToLogResponse response;
  v1::WriteToLogRequest request;
  request.set_namespace_("nope");
  request.mutable_payload()->set_opaque("x");
  grpc::Status status = Write(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(status.error_message().find("nope"), std::string::npos);

  request.set_namespace_("orders");
  request.clear_payload();
  status = Write(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("payload"), std::string::npos);

  request.mutable_payload()->set_opaque(std::string(70000, 'x'));
  status = Write(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("max_payload_bytes"), std::string::npos);

  request.mutable_payload()->set_opaque("x");
  request.mutable_lifecycle()->mutable_delay()->set_seconds(-5);
  status = Write(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("lifecycle.delay"), std::string::npos);

  request.clear_lifecycle();
  request.mutable_payload()->mutable_mutation()->set_op(v1::Mutation::DELETE);
  status = Write(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("key"), std::string::npos);

  request.mutable_payload()->mutable_mutation()->set_key("k");
  request.mutable_target()->set_type("carrier-pigeon");
  status = Write(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("carrier-pigeon"), std::string::npos);

  // None of the refused writes reached the log.
  grpc::ClientContext context;
  v1::GetStatusRequest get;
  get.set_namespace_("orders");
  v1::GetStatusResponse statuses;
  ASSERT_TRUE(admin_->GetStatus(&context, get, &statuses).ok());
  ASSERT_EQ(statuses.namespaces_size(), 1);
  EXPECT_EQ(statuses.namespaces(0).log_end(), 0u);
}

TEST_F(WaldApiTest, HttpWriteAndErrors) {
  auto client = Http();
  auto written = client.Post("/v1/namespaces/orders/log:write",
                             R"({"payload":{"mutation":{"op":"PUT","key":"a2V5","value":"dmFsdWU="}},
                                 "lifecycle":{"delay":"1.5s"},"idempotencyKey":"abc"})",
                             "application/json");
  ASSERT_TRUE(written);
  EXPECT_EQ(written->status, 200) << written->body;
  auto body = nlohmann::json::parse(written->body);
  EXPECT_EQ(body["durable"], "TRUE");
  EXPECT_EQ(body["id"], "0");

  auto bad_json = client.Post("/v1/namespaces/orders/log:write", "{not json", "application/json");
  ASSERT_TRUE(bad_json);
  EXPECT_EQ(bad_json->status, 400);
  EXPECT_EQ(nlohmann::json::parse(bad_json->body)["error"]["status"], "INVALID_ARGUMENT");

  auto unknown_field = client.Post("/v1/namespaces/orders/log:write", R"({"payloadz":{}})", "application/json");
  ASSERT_TRUE(unknown_field);
  EXPECT_EQ(unknown_field->status, 400);

  auto missing = client.Post("/v1/namespaces/missing/log:write", R"({"payload":{"opaque":"eA=="}})", "application/json");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(nlohmann::json::parse(missing->body)["error"]["status"], "NOT_FOUND");

  auto wrong_path = client.Get("/v2/whatever");
  ASSERT_TRUE(wrong_path);
  EXPECT_EQ(wrong_path->status, 404);
  EXPECT_EQ(nlohmann::json::parse(wrong_path->body)["error"]["status"], "NOT_FOUND");

  auto wrong_method = client.Get("/v1/namespaces/orders/log:write");
  ASSERT_TRUE(wrong_method);
  EXPECT_EQ(wrong_method->status, 405);
  EXPECT_TRUE(nlohmann::json::parse(wrong_method->body)["error"].contains("message"));

  auto health = client.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto ready = client.Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
}

TEST_F(WaldApiTest, AdminApplyTakesEffectLiveAndSurvivesRestart) {
  auto client = Http();
  // validate_only checks and answers what an apply would do, and does nothing.
  auto checked = client.Put("/v1/namespaces/payments?validate_only=true",
                            R"({"backend":{"type":"local"},"max_retries":7})", "application/json");
  ASSERT_TRUE(checked);
  ASSERT_EQ(checked->status, 200) << checked->body;
  auto answer = nlohmann::json::parse(checked->body);
  EXPECT_EQ(answer["change"], "create") << checked->body;
  EXPECT_EQ(answer["config"]["max_retries"], 7) << checked->body;
  auto absent = client.Get("/v1/namespaces/payments");
  ASSERT_TRUE(absent);
  EXPECT_EQ(absent->status, 404) << absent->body;
  EXPECT_FALSE(std::filesystem::exists(wald_->namespaces_dir() + "/payments.yaml"));
  auto refused = client.Put("/v1/namespaces/payments?validate_only=true", R"({"max_retries":-1})", "application/json");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 400) << refused->body;

  auto applied = client.Put("/v1/namespaces/payments",
                            R"({"backend":{"type":"local"},"max_retries":7})",
                            "application/json");
  ASSERT_TRUE(applied);
  ASSERT_EQ(applied->status, 200) << applied->body;

  v1::WriteToLogRequest request;
  request.set_namespace_("payments");
  request.mutable_payload()->set_opaque("live without restart");
  v1::WriteToLogResponse response;
  ASSERT_TRUE(Write(request, &response).ok());
  EXPECT_EQ(response.durable(), v1::TRUE);

  auto invalid = client.Put("/v1/namespaces/payments", R"({"max_retries":-1})", "application/json");
  ASSERT_TRUE(invalid);
  EXPECT_EQ(invalid->status, 400);
  EXPECT_NE(invalid->body.find("max_retries"), std::string::npos);

  EXPECT_TRUE(std::filesystem::exists(wald_->namespaces_dir() + "/payments.yaml"));
  ASSERT_EQ(wald_->Stop(), 0);
  wald_->Start();
  stub_ = v1::WriteAheadLog::NewStub(wald_->Channel());
  admin_ = v1::Admin::NewStub(wald_->Channel());

  grpc::ClientContext context;
  v1::GetNamespaceRequest get;
  get.set_name("payments");
  v1::NamespaceResponse got;
  ASSERT_TRUE(admin_->GetNamespace(&context, get, &got).ok());
  EXPECT_EQ(got.config().fields().at("max_retries").number_value(), 7);

  grpc::ClientContext read_context;
  v1::ReadLogRequest read;
  read.set_namespace_("payments");
  v1::ReadLogResponse log;
  ASSERT_TRUE(admin_->ReadLog(&read_context, read, &log).ok());
  ASSERT_EQ(log.entries_size(), 1);

  grpc::ClientContext delete_context;
  v1::DeleteNamespaceRequest remove;
  remove.set_name("payments");
  remove.set_purge_data(true);
  v1::DeleteNamespaceResponse removed;
  ASSERT_TRUE(admin_->DeleteNamespace(&delete_context, remove, &removed).ok());
  EXPECT_FALSE(std::filesystem::exists(wald_->namespaces_dir() + "/payments.yaml"));
  ASSERT_TRUE(Write(request, &response).error_code() == grpc::StatusCode::NOT_FOUND);
}

// A typo in a target's settings is refused when the namespace is applied, over
// HTTP and with walctl, naming the key; nothing is created or changed.
TEST_F(WaldApiTest, TargetSettingTyposAreRefusedAtApply) {
  auto client = Http();
  const std::string db = dir_.path() + "/typo.db";
  auto typo = client.Put("/v1/namespaces/typo",
                         R"({"backend":{"type":"local"},"target":{"type":"sqlite","path":")" + db +
                             R"(","tiemout":"5s"}})",
                         "application/json");
  ASSERT_TRUE(typo);
  EXPECT_EQ(typo->status, 400) << typo->body;
  EXPECT_NE(typo->body.find("target.tiemout: unknown field 'tiemout'"), std::string::npos) << typo->body;
  auto absent = client.Get("/v1/namespaces/typo");
  ASSERT_TRUE(absent);
  EXPECT_EQ(absent->status, 404) << absent->body;
  EXPECT_FALSE(std::filesystem::exists(wald_->namespaces_dir() + "/typo.yaml"));

  // A named target, and an existing namespace: refused, and the old config stays.
  auto named = client.Put("/v1/namespaces/orders",
                          R"({"max_payload_bytes":1024,"targets":{"cache":{"type":"redis","address":"127.0.0.1:1",)"
                          R"("tiemout":"1s"}}})",
                          "application/json");
  ASSERT_TRUE(named);
  EXPECT_EQ(named->status, 400) << named->body;
  EXPECT_NE(named->body.find("targets.cache.tiemout: unknown field 'tiemout' (did you mean 'timeout'?)"),
            std::string::npos)
      << named->body;
  auto orders = client.Get("/v1/namespaces/orders");
  ASSERT_TRUE(orders);
  ASSERT_EQ(orders->status, 200) << orders->body;
  EXPECT_NE(orders->body.find("65536"), std::string::npos) << orders->body;

  const std::string file = dir_.path() + "/typo.yaml";
  std::ofstream(file) << "name: typo\ntarget: {type: sqlite, path: " << db << ", tiemout: 5s}\n";
  auto applied = wald_->Walctl({"--json", "namespaces", "apply", file});
  EXPECT_NE(applied.exit_code, 0) << applied.output;
  EXPECT_NE(applied.output.find(file + ": target.tiemout: unknown field 'tiemout'"), std::string::npos)
      << applied.output;
  auto listed = wald_->Walctl({"--json", "namespaces", "list"});
  EXPECT_EQ(listed.output.find("typo"), std::string::npos) << listed.output;

  // Without the typo the same file applies.
  std::ofstream(file) << "name: typo\ntarget: {type: sqlite, path: " << db << ", busy_timeout: 5s}\n";
  auto fixed = wald_->Walctl({"namespaces", "apply", file});
  EXPECT_EQ(fixed.exit_code, 0) << fixed.output;
}

TEST_F(WaldApiTest, WalctlCommands) {
  auto written = wald_->Walctl({"write", "orders", "hello", "--delay", "2s"});
  EXPECT_EQ(written.exit_code, 0) << written.output;
  EXPECT_NE(written.output.find("durable=TRUE"), std::string::npos) << written.output;

  auto from_stdin = wald_->Walctl({"--json", "write", "orders", "-", "--op", "put", "--key", "k1", "--ttl", "1h"},
                                  "value from stdin");
  EXPECT_EQ(from_stdin.exit_code, 0) << from_stdin.output;
  EXPECT_EQ(nlohmann::json::parse(from_stdin.output)["durable"], "TRUE");

  auto read = wald_->Walctl({"log", "read", "orders", "--from", "0", "--limit", "10"});
  ASSERT_EQ(read.exit_code, 0);
  std::istringstream lines(read.output);
  std::string line;
  std::vector<nlohmann::json> entries;
  while (std::getline(lines, line)) entries.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1]["record"]["payload"]["mutation"]["key"], "azE=");  // base64("k1")

  auto status = wald_->Walctl({"--json", "status", "orders"});
  ASSERT_EQ(status.exit_code, 0) << status.output;
  EXPECT_EQ(nlohmann::json::parse(status.output)["namespaces"][0]["log_end"], "2");

  const std::string file = dir_.path() + "/audit.yaml";
  std::ofstream(file) << "name: audit\nbackend: {type: local}\ntarget: {type: redis, address: 127.0.0.1:6379}\n";
  auto applied = wald_->Walctl({"namespaces", "apply", file});
  EXPECT_EQ(applied.exit_code, 0) << applied.output;
  auto listed = wald_->Walctl({"--json", "namespaces", "list"});
  EXPECT_NE(listed.output.find("audit"), std::string::npos);
  auto got = wald_->Walctl({"--json", "namespaces", "get", "audit"});
  EXPECT_EQ(nlohmann::json::parse(got.output)["target"]["type"], "redis");
  EXPECT_EQ(wald_->Walctl({"namespaces", "delete", "audit"}).exit_code, 0);

  auto bad_file = dir_.path() + "/bad.yaml";
  std::ofstream(bad_file) << "name: bad\nbackoff: {multiplier: 0.5}\n";
  auto rejected = wald_->Walctl({"namespaces", "apply", bad_file});
  EXPECT_NE(rejected.exit_code, 0);

  auto unknown = wald_->Walctl({"--json", "write", "missing", "x"});
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_EQ(nlohmann::json::parse(unknown.output)["error"]["code"], "NOT_FOUND");
}

TEST_F(WaldApiTest, ReflectionAndHealthWorkWithGrpcurl) {
  std::string grpcurl = std::string(std::getenv("HOME") ? std::getenv("HOME") : "/root") + "/go/bin/grpcurl";
  ASSERT_TRUE(std::filesystem::exists(grpcurl)) << "grpcurl missing: run `make tools`";
  auto listed = RunCommand({grpcurl, "-plaintext", wald_->grpc_address(), "list"});
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_NE(listed.output.find("wal.v1.WriteAheadLog"), std::string::npos) << listed.output;
  EXPECT_NE(listed.output.find("wal.v1.Admin"), std::string::npos);
  EXPECT_NE(listed.output.find("grpc.health.v1.Health"), std::string::npos);

  auto written = RunCommand({grpcurl, "-plaintext", "-d", R"({"namespace":"orders","payload":{"opaque":"eA=="}})",
                             wald_->grpc_address(), "wal.v1.WriteAheadLog/WriteToLog"});
  ASSERT_EQ(written.exit_code, 0) << written.output;
  EXPECT_NE(written.output.find("\"durable\": \"TRUE\""), std::string::npos) << written.output;

  auto health = RunCommand({grpcurl, "-plaintext", wald_->grpc_address(), "grpc.health.v1.Health/Check"});
  EXPECT_NE(health.output.find("SERVING"), std::string::npos) << health.output;
}

TEST(WaldStartupTest, BadNamespaceFileDoesNotTakeDownTheOthers) {
  TempDir dir;
  WaldProcess wald(dir.path());
  wald.WriteNamespaceFile("good", "name: good\nbackend: {type: local}\n");
  wald.WriteNamespaceFile("broken", "name: broken\nbackoff: {multiplier: banana}\n");
  wald.Start();
  auto status = wald.Walctl({"--json", "write", "good", "still serving"});
  EXPECT_EQ(status.exit_code, 0) << status.output;
  auto broken = wald.Walctl({"--json", "write", "broken", "x"});
  EXPECT_NE(broken.exit_code, 0);
  EXPECT_EQ(wald.Stop(), 0);
}

}  // namespace
}  // namespace wal::testing
