// The HTTP API's conventions, through a real wald over loopback (docs/api.md,
// "HTTP conventions"): JSON bodies whatever their content type, one error body
// shape for every error, Allow on 405, Retry-After on 429 and 503, every field
// of an answer printed, and a DLQ purge that names what it purges.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "http_sink.h"
#include "wald_process.h"

namespace wal::testing {
namespace {

using std::chrono::milliseconds;

constexpr const char* kJson = "application/json";
// What `curl -d @file` sends when no content type is given.
constexpr const char* kForm = "application/x-www-form-urlencoded";
constexpr size_t kMaxRequestBytes = 65536;

// sha256("secret-token"), a token with write and read scope on "guarded".
constexpr const char* kGuardedTokenSha256 = "930bbdc51b6aed5c2a5678fd6e28dee7a05e8a4b643cfc0b4427c3efb86c0d94";
// sha256("reader-token"), read scope only.
constexpr const char* kReaderTokenSha256 = "ba5005a40cf5212e4ac0190104cc127edab013294bb71279a975b27a80982d45";

std::string Delayed(const std::string& name, const std::string& extra = "") {
  return "name: " + name + "\nbackend: {type: local}\ndelay: {default: 1h}\n" + extra;
}

// The base64 of `size` bytes of 'x': a JSON-safe opaque payload.
std::string Base64Of(size_t size) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const std::string raw(size, 'x');
  std::string out;
  size_t i = 0;
  for (; i + 2 < raw.size(); i += 3) {
    const uint32_t n = (uint8_t(raw[i]) << 16) | (uint8_t(raw[i + 1]) << 8) | uint8_t(raw[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(n >> shift) & 63];
  }
  if (i < raw.size()) {
    const uint32_t n = (uint8_t(raw[i]) << 16) | (i + 1 < raw.size() ? uint8_t(raw[i + 1]) << 8 : 0);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < raw.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string OpaqueBody(size_t payload_bytes) {
  return R"({"payload":{"opaque":")" + Base64Of(payload_bytes) + R"("}})";
}

class HttpConventions : public ::testing::Test {
 protected:
  void SetUp() override {
    wald_ = std::make_unique<WaldProcess>(dir_.path());
    const std::string config = dir_.path() + "/server.yaml";
    std::ofstream(config) << "max_request_bytes: " << kMaxRequestBytes << "\n";
    wald_->extra_args = {"--config", config};
    wald_->WriteNamespaceFile("orders", Delayed("orders"));
  }

  void Start() { wald_->Start(); }

  httplib::Client Http() {
    httplib::Client client("127.0.0.1", wald_->http_port());
    client.set_read_timeout(10, 0);
    return client;
  }

  // The raw response to `request` (whole bytes, sent as they are).
  std::string Raw(const std::string& request) {
    int fd = ConnectLoopback(wald_->http_port());
    if (fd < 0) return "";
    timeval timeout{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    for (size_t sent = 0; sent < request.size();) {
      ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
    }
    std::string answer;
    char buffer[4096];
    while (answer.find("\r\n\r\n") == std::string::npos || answer.find('}') == std::string::npos) {
      ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
      if (n <= 0) break;
      answer.append(buffer, static_cast<size_t>(n));
    }
    ::close(fd);
    return answer;
  }

  TempDir dir_;
  std::unique_ptr<WaldProcess> wald_;
};

// The error object of an error answer, after checking the envelope every HTTP
// error shares: {"error": {code, message, status, details}} and nothing else.
nlohmann::json ErrorOf(const httplib::Result& result) {
  if (!result) {
    ADD_FAILURE() << "no answer";
    return nlohmann::json::object();
  }
  SCOPED_TRACE(result->body);
  auto body = nlohmann::json::parse(result->body, nullptr, false);
  if (!body.is_object() || body.size() != 1 || !body.contains("error") || !body["error"].is_object()) {
    ADD_FAILURE() << "not an error envelope: " << result->body;
    return nlohmann::json::object();
  }
  const auto& error = body["error"];
  EXPECT_TRUE(error.contains("code") && error["code"].is_number_integer()) << result->body;
  if (error.contains("code")) {
    EXPECT_EQ(error["code"], result->status);
  }
  EXPECT_TRUE(error.contains("message") && error["message"].is_string()) << result->body;
  EXPECT_TRUE(error.contains("status") && error["status"].is_string()) << result->body;
  EXPECT_TRUE(error.contains("details") && error["details"].is_array()) << result->body;
  if (error.contains("details") && error["details"].is_array()) {
    for (const auto& detail : error["details"]) {
      EXPECT_TRUE(detail.contains("@type") && detail["@type"].is_string()) << result->body;
    }
  }
  return error;
}

// The detail of type google.rpc.`type` in an error object, or null.
nlohmann::json DetailOf(const nlohmann::json& error, const std::string& type) {
  if (!error.contains("details")) return nullptr;
  for (const auto& detail : error["details"]) {
    if (detail.value("@type", "") == "type.googleapis.com/google.rpc." + type) return detail;
  }
  return nullptr;
}

TEST_F(HttpConventions, AJsonBodyOver8KiBIsParsedWhateverItsContentType) {
  Start();
  auto client = Http();
  // 20 KB of JSON, as `curl -d @body.json` sends it.
  const std::string body = OpaqueBody(15000);
  ASSERT_GT(body.size(), 20000u);
  for (const char* type : {kForm, "text/plain", kJson}) {
    SCOPED_TRACE(type);
    auto written = client.Post("/v1/namespaces/orders/log:write", body, type);
    ASSERT_TRUE(written);
    EXPECT_EQ(written->status, 200) << written->body;
    EXPECT_EQ(nlohmann::json::parse(written->body, nullptr, false).value("durable", ""), "TRUE") << written->body;
  }
  // A form-encoded body is not split into query parameters: '&' and '=' in
  // the JSON stay in the payload.
  auto with_separators = client.Post("/v1/namespaces/orders/log:write",
                                     R"({"payload":{"opaque":"YT1iJmM9ZA=="},"idempotency_key":"a=b&c=d"})", kForm);
  ASSERT_TRUE(with_separators);
  EXPECT_EQ(with_separators->status, 200) << with_separators->body;
  // A namespace config sent the same way is applied too.
  auto applied = client.Put("/v1/namespaces/forms", R"({"backend":{"type":"local"},"max_retries":4})", kForm);
  ASSERT_TRUE(applied);
  EXPECT_EQ(applied->status, 200) << applied->body;
}

TEST_F(HttpConventions, ABodyOverMaxRequestBytesIs413ResourceExhaustedNamingTheLimit) {
  Start();
  auto too_large = Http().Post("/v1/namespaces/orders/log:write", OpaqueBody(kMaxRequestBytes), kJson);
  ASSERT_TRUE(too_large);
  EXPECT_EQ(too_large->status, 413);
  auto error = ErrorOf(too_large);
  EXPECT_EQ(error.value("status", ""), "RESOURCE_EXHAUSTED");
  const std::string message = error.value("message", "");
  EXPECT_NE(message.find("max_request_bytes"), std::string::npos) << message;
  EXPECT_NE(message.find(std::to_string(kMaxRequestBytes)), std::string::npos) << message;
  auto info = DetailOf(error, "ErrorInfo");
  ASSERT_TRUE(info.is_object()) << too_large->body;
  EXPECT_EQ(info["metadata"].value("limit", ""), "max_request_bytes");
  EXPECT_EQ(info["metadata"].value("max_request_bytes", ""), std::to_string(kMaxRequestBytes));

  // A chunked body carries no length to check up front; it is cut off at the
  // limit all the same, rather than read into memory whole.
  std::string chunked = "POST /v1/namespaces/orders/log:write HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
  const std::string chunk(8192, ' ');
  for (size_t sent = 0; sent <= 2 * kMaxRequestBytes; sent += chunk.size()) {
    char size[16];
    std::snprintf(size, sizeof(size), "%zx\r\n", chunk.size());
    chunked += size + chunk + "\r\n";
  }
  chunked += "0\r\n\r\n";
  const std::string answer = Raw(chunked);
  EXPECT_EQ(answer.rfind("HTTP/1.1 413", 0), 0u) << answer.substr(0, 300);
  EXPECT_NE(answer.find("RESOURCE_EXHAUSTED"), std::string::npos) << answer.substr(0, 300);
  EXPECT_NE(answer.find("max_request_bytes"), std::string::npos) << answer.substr(0, 300);
}

TEST_F(HttpConventions, AWrongMethodIs405WithAnAllowHeaderListingThePathsMethods) {
  Start();
  auto client = Http();
  struct Case {
    std::string method, path, allow;
  };
  const Case cases[] = {
      {"GET", "/v1/namespaces/orders/log:write", "POST"},
      {"DELETE", "/v1/namespaces", "GET, HEAD"},
      {"POST", "/v1/namespaces/orders", "GET, HEAD, PUT, DELETE"},
      {"PUT", "/v1/namespaces/orders/dlq:purge", "POST"},
      {"POST", "/v1/shard-map", "GET, HEAD, PUT"},
      {"PATCH", "/healthz", "GET, HEAD"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.method + " " + c.path);
    httplib::Request request;
    request.method = c.method;
    request.path = c.path;
    if (c.method != "GET" && c.method != "DELETE") request.body = "{}";
    auto answer = client.send(request);
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->status, 405);
    EXPECT_EQ(answer->get_header_value("Allow"), c.allow);
    auto error = ErrorOf(answer);
    EXPECT_EQ(error.value("status", ""), "UNIMPLEMENTED");
    EXPECT_NE(error.value("message", "").find(c.allow), std::string::npos) << error.dump();
  }
}

TEST_F(HttpConventions, RateLimitAndBacklogRefusalsCarryRetryAfter) {
  wald_->WriteNamespaceFile("slow", Delayed("slow", "limits: {writes_per_second: 1, burst: 1}\n"));
  wald_->WriteNamespaceFile("slower", Delayed("slower", "limits: {writes_per_second: 0.1, burst: 1}\n"));
  wald_->WriteNamespaceFile("full", Delayed("full", "limits: {max_backlog: 1}\n"));
  Start();
  auto client = Http();
  struct Case {
    std::string name, retry_after, limit;
  };
  // The rate limit's wait is the time its bucket takes to hold one write again,
  // rounded up to whole seconds; the backlog's is fixed (docs/api.md).
  const Case cases[] = {{"slow", "1", "writes_per_second"}, {"slower", "10", "writes_per_second"},
                        {"full", "5", "max_backlog"}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string path = "/v1/namespaces/" + c.name + "/log:write";
    auto first = client.Post(path, OpaqueBody(1), kJson);
    ASSERT_TRUE(first);
    ASSERT_EQ(first->status, 200) << first->body;
    // The backlog is sampled every 100 ms; wait for the sample to see the first write.
    if (c.name == "full") std::this_thread::sleep_for(milliseconds(300));
    auto refused = client.Post(path, OpaqueBody(1), kJson);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 429);
    EXPECT_EQ(refused->get_header_value("Retry-After"), c.retry_after);
    auto error = ErrorOf(refused);
    EXPECT_EQ(error.value("status", ""), "RESOURCE_EXHAUSTED");
    EXPECT_NE(error.value("message", "").find(c.limit), std::string::npos);
    auto retry = DetailOf(error, "RetryInfo");
    ASSERT_TRUE(retry.is_object()) << refused->body;
    EXPECT_EQ(retry.value("retryDelay", ""), c.retry_after + "s");
  }
}

TEST_F(HttpConventions, UnavailableAnswersCarryRetryAfter) {
  // A namespace whose data directory cannot be made is configured but not served.
  wald_->WriteNamespaceFile("broken", Delayed("broken"));
  std::filesystem::create_directories(wald_->data_dir() + "/namespaces");
  std::ofstream(wald_->data_dir() + "/namespaces/broken") << "a file where the directory should be";
  Start();
  auto refused = Http().Post("/v1/namespaces/broken/log:write", OpaqueBody(1), kJson);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503) << refused->body;
  EXPECT_EQ(refused->get_header_value("Retry-After"), "1");
  auto error = ErrorOf(refused);
  EXPECT_EQ(error.value("status", ""), "UNAVAILABLE");
  EXPECT_NE(error.value("message", "").find("not served"), std::string::npos);
}

TEST_F(HttpConventions, EveryErrorAnswerHasTheOneErrorBody) {
  wald_->WriteNamespaceFile(
      "guarded", Delayed("guarded", std::string("access: {tokens: [{name: app, sha256: ") + kGuardedTokenSha256 +
                                        ", scopes: [write, read]}, {name: reader, sha256: " + kReaderTokenSha256 +
                                        ", scopes: [read]}]}\n"));
  Start();
  auto client = Http();
  struct Case {
    std::string what;
    httplib::Result result;
    int http;
    std::string status;
  };
  httplib::Headers reader = {{"Authorization", "Bearer reader-token"}};
  Case cases[] = {
      {"malformed JSON", client.Post("/v1/namespaces/orders/log:write", "{not json", kJson), 400, "INVALID_ARGUMENT"},
      {"unknown field", client.Post("/v1/namespaces/orders/log:write", R"({"payloadz":{}})", kJson), 400,
       "INVALID_ARGUMENT"},
      {"bad query", client.Get("/v1/namespaces/orders/log?limit=many"), 400, "INVALID_ARGUMENT"},
      {"path not UTF-8", client.Get("/v1/namespaces/%FF"), 400, "INVALID_ARGUMENT"},
      {"no token", client.Post("/v1/namespaces/guarded/log:write", OpaqueBody(1), kJson), 401, "UNAUTHENTICATED"},
      {"read-only token", client.Post("/v1/namespaces/guarded/log:write", reader, OpaqueBody(1), kJson), 403,
       "PERMISSION_DENIED"},
      {"unknown namespace", client.Post("/v1/namespaces/missing/log:write", OpaqueBody(1), kJson), 404, "NOT_FOUND"},
      {"unknown path", client.Get("/v2/whatever"), 404, "NOT_FOUND"},
      {"wrong method", client.Delete("/v1/status"), 405, "UNIMPLEMENTED"},
      {"too large", client.Post("/v1/namespaces/orders/log:write", OpaqueBody(kMaxRequestBytes), kJson), 413,
       "RESOURCE_EXHAUSTED"},
      {"admin: invalid config", client.Put("/v1/namespaces/orders", R"({"max_retries":-1})", kJson), 400,
       "INVALID_ARGUMENT"},
      {"admin: get unknown", client.Get("/v1/namespaces/missing"), 404, "NOT_FOUND"},
      {"admin: delete unknown", client.Delete("/v1/namespaces/missing"), 404, "NOT_FOUND"},
      {"admin: purge without ids or all", client.Post("/v1/namespaces/orders/dlq:purge", "", kJson), 400,
       "INVALID_ARGUMENT"},
      {"admin: redrive into a namespace the caller may not write to",
       client.Post("/v1/namespaces/orders/dlq:redrive", reader, R"({"to_namespace":"guarded"})", kJson), 403,
       "PERMISSION_DENIED"},
      {"admin: redrive into a namespace that does not exist",
       client.Post("/v1/namespaces/orders/dlq:redrive", R"({"to_namespace":"missing"})", kJson), 404, "NOT_FOUND"},
      {"admin: shard map on an unsharded instance", client.Put("/v1/shard-map", "shards: {}", kJson), 412,
       "FAILED_PRECONDITION"},
  };
  for (Case& c : cases) {
    SCOPED_TRACE(c.what);
    ASSERT_TRUE(c.result);
    EXPECT_EQ(c.result->status, c.http) << c.result->body;
    auto error = ErrorOf(c.result);
    EXPECT_EQ(error.value("status", ""), c.status);
    EXPECT_FALSE(error.value("message", "").empty());
    // wald's own, finer code travels as the ErrorInfo reason.
    auto info = DetailOf(error, "ErrorInfo");
    ASSERT_TRUE(info.is_object()) << c.result->body;
    EXPECT_EQ(info.value("domain", ""), "wal");
    EXPECT_FALSE(info.value("reason", "").empty());
  }
  // A malformed request line is refused by the transport, in the same shape.
  const std::string garbage = Raw("GARBAGE\r\n\r\n");
  EXPECT_EQ(garbage.rfind("HTTP/1.1 400", 0), 0u) << garbage;
  const auto body = nlohmann::json::parse(garbage.substr(garbage.find("\r\n\r\n") + 4), nullptr, false);
  EXPECT_EQ(body["error"]["code"], 400) << garbage;
  EXPECT_EQ(body["error"]["status"], "INVALID_ARGUMENT") << garbage;
}

TEST_F(HttpConventions, AWriteAnswerAlwaysCarriesItsIdEvenZero) {
  Start();
  auto first = Http().Post("/v1/namespaces/orders/log:write", OpaqueBody(1), kJson);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 200) << first->body;
  auto body = nlohmann::json::parse(first->body);
  ASSERT_TRUE(body.contains("id")) << first->body;
  EXPECT_EQ(body["id"], "0");
  auto second = nlohmann::json::parse(Http().Post("/v1/namespaces/orders/log:write", OpaqueBody(1), kJson)->body);
  EXPECT_EQ(second["id"], "1");
}

TEST_F(HttpConventions, APurgeNeedsAllOrIdsAndAnEmptyBodyPurgesNothing) {
  HttpSink sink;
  sink.AnswerAll(400);  // permanent: straight to the DLQ
  wald_->WriteNamespaceFile("events", "name: events\nbackend: {type: local}\n"
                                      "target: {type: http, url: \"" + sink.url() + "\", timeout: 2s}\n"
                                      "consumer: {poll_interval: 50ms}\n");
  Start();
  auto client = Http();
  for (int i = 0; i < 2; ++i) {
    auto written = client.Post("/v1/namespaces/events/log:write", OpaqueBody(4), kJson);
    ASSERT_TRUE(written);
    ASSERT_EQ(written->status, 200) << written->body;
  }
  auto dead_letters = [&] {
    auto status = client.Get("/v1/status?namespace=events");
    if (!status || status->status != 200) return std::string("?");
    auto body = nlohmann::json::parse(status->body);
    return body["namespaces"][0].value("dead_letters", std::string("0"));
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (dead_letters() != "2" && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_EQ(dead_letters(), "2");

  for (const char* body : {"", "{}", R"({"all":false})", R"({"ids":[]})"}) {
    SCOPED_TRACE(std::string("body '") + body + "'");
    auto refused = client.Post("/v1/namespaces/events/dlq:purge", body, kJson);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 400) << refused->body;
    auto error = ErrorOf(refused);
    EXPECT_EQ(error.value("status", ""), "INVALID_ARGUMENT");
    EXPECT_NE(error.value("message", "").find("\"all\": true"), std::string::npos) << error.dump();
  }
  auto both = client.Post("/v1/namespaces/events/dlq:purge", R"({"all":true,"ids":["1"]})", kJson);
  ASSERT_TRUE(both);
  EXPECT_EQ(both->status, 400) << both->body;
  EXPECT_EQ(dead_letters(), "2") << "a refused purge dropped dead letters";

  // walctl's --all still purges everything (it sends all: true).
  auto purged = wald_->Walctl({"--json", "dlq", "purge", "events", "--all"});
  EXPECT_EQ(purged.exit_code, 0) << purged.output;
  EXPECT_EQ(nlohmann::json::parse(purged.output, nullptr, false).value("purged", 0), 2) << purged.output;
  EXPECT_EQ(dead_letters(), "0");
  auto all = client.Post("/v1/namespaces/events/dlq:purge", R"({"all":true})", kJson);
  ASSERT_TRUE(all);
  EXPECT_EQ(all->status, 200) << all->body;
  EXPECT_EQ(nlohmann::json::parse(all->body).value("purged", ""), "0");
}

}  // namespace
}  // namespace wal::testing
