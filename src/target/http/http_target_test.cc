#include "target/http/http_target.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

namespace wal::target {
namespace {

// What the test server saw of the last request.
struct SeenRequest {
  std::string method;
  std::string path;
  httplib::Headers headers;
  std::string body;
};

// An in-process HTTP server that answers /status/<code> with that code,
// holds /hang until released, and records every request.
class FakeEndpoint {
 public:
  FakeEndpoint() {
    auto record_and_answer = [this](const httplib::Request& request, httplib::Response& response) {
      {
        std::lock_guard lock(mutex_);
        last_ = SeenRequest{request.method, request.path, request.headers, request.body};
        ++requests_;
      }
      int status = std::stoi(request.matches[1]);
      response.status = status;
      response.set_content("body of " + std::to_string(status) + " with\ncontrol bytes", "text/plain");
    };
    auto hang = [this](const httplib::Request&, httplib::Response& response) {
      std::unique_lock lock(mutex_);
      released_.wait_for(lock, std::chrono::seconds(10), [this] { return release_; });
      response.status = 200;
    };
    server_.Post(R"(/status/(\d+))", record_and_answer);
    server_.Put(R"(/status/(\d+))", record_and_answer);
    server_.Post("/hang", hang);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // httplib's stop() is a no-op until the server runs, so a test that ends
    // quickly would otherwise leave the listener blocked in accept forever.
    for (int i = 0; i < 500 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  ~FakeEndpoint() {
    {
      std::lock_guard lock(mutex_);
      release_ = true;
    }
    released_.notify_all();
    server_.stop();
    thread_.join();
  }

  std::string Url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  int port() const { return port_; }

  SeenRequest Last() {
    std::lock_guard lock(mutex_);
    return last_;
  }
  int requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable released_;
  bool release_ = false;
  SeenRequest last_;
  int requests_ = 0;
};

// Accepts connections, reads the request and closes without answering.
class ClosingEndpoint {
 public:
  ClosingEndpoint() {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    socklen_t length = sizeof(address);
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    EXPECT_EQ(::listen(listener_, 16), 0);
    thread_ = std::thread([this] {
      while (true) {
        int connection = ::accept(listener_, nullptr, nullptr);
        if (connection < 0) return;  // shut down
        char buffer[4096];
        (void)::recv(connection, buffer, sizeof(buffer), 0);
        ::close(connection);
      }
    });
  }
  ~ClosingEndpoint() {
    ::shutdown(listener_, SHUT_RDWR);
    thread_.join();
    ::close(listener_);
  }
  int port() const { return port_; }

 private:
  int listener_ = -1;
  int port_ = 0;
  std::thread thread_;
};

// A loopback port with nothing listening.
int UnusedPort() {
  int probe = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(probe, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  ::getsockname(probe, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(probe);
  return ntohs(address.sin_port);
}

std::unique_ptr<HttpTarget> MakeTarget(const std::string& url, std::map<std::string, std::string> headers = {},
                                       std::chrono::milliseconds timeout = std::chrono::milliseconds(2000),
                                       std::string method = "POST") {
  HttpTarget::Options options;
  options.url = url;
  options.headers = std::move(headers);
  options.timeout = timeout;
  options.method = std::move(method);
  auto target = HttpTarget::Create(std::move(options));
  EXPECT_TRUE(target.ok()) << target.status().ToString();
  return std::move(target).value();
}

v1::Mutation SamplePut() {
  v1::Mutation mutation;
  mutation.set_op(v1::Mutation::PUT);
  mutation.set_table("orders");
  mutation.set_partition_key("customer-7");
  mutation.set_key(std::string("k\0\xff", 3));
  mutation.set_value("hello");
  mutation.mutable_ttl()->set_seconds(90);
  return mutation;
}

TEST(HttpTargetTest, SendsMutationsAsJsonWithDeliveryHeaders) {
  FakeEndpoint endpoint;
  auto target = MakeTarget(endpoint.Url("/status/200"), {{"Authorization", "Bearer s3cret"}});
  DeliveryContext context{"orders", 1234, 3, "client-key-1", ""};
  ApplyResult result = target->ApplyMutation(SamplePut(), context);
  ASSERT_TRUE(result.ok()) << result.reason;

  SeenRequest seen = endpoint.Last();
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.path, "/status/200");
  auto header = [&](const std::string& name) {
    auto found = seen.headers.find(name);
    return found == seen.headers.end() ? std::string("<absent>") : found->second;
  };
  EXPECT_EQ(header("Content-Type"), "application/json");
  EXPECT_EQ(header("X-Wal-Namespace"), "orders");
  EXPECT_EQ(header("X-Wal-Entry-Id"), "1234");
  EXPECT_EQ(header("X-Wal-Attempt"), "3");
  EXPECT_EQ(header("Idempotency-Key"), "client-key-1");
  EXPECT_EQ(header("Authorization"), "Bearer s3cret");

  auto body = nlohmann::json::parse(seen.body);
  EXPECT_EQ(body["op"], "PUT");
  EXPECT_EQ(body["table"], "orders");
  EXPECT_EQ(body["partition_key"], "customer-7");
  EXPECT_EQ(body["key"], "awD/");  // base64 of "k\0\xff"
  EXPECT_EQ(body["value"], "aGVsbG8=");
  EXPECT_EQ(body["ttl_ms"], 90000);

  v1::Mutation deletion;
  // httplib pulls in <arpa/nameser.h>, which #defines DELETE; use the enum's full name.
  deletion.set_op(v1::Mutation_Operation_DELETE);
  deletion.set_key("ab");
  ASSERT_TRUE(target->ApplyMutation(deletion, context).ok());
  body = nlohmann::json::parse(endpoint.Last().body);
  EXPECT_EQ(body["op"], "DELETE");
  EXPECT_EQ(body["key"], "YWI=");
  EXPECT_FALSE(body.contains("value"));
  EXPECT_FALSE(body.contains("ttl_ms"));
}

TEST(HttpTargetTest, SendsOpaquePayloadsAsIs) {
  FakeEndpoint endpoint;
  auto target = MakeTarget(endpoint.Url("/status/204"), {}, std::chrono::milliseconds(2000), "put");
  std::string payload("raw\0bytes\n", 10);
  ASSERT_TRUE(target->DeliverOpaque(payload, DeliveryContext{"events", 7, 1, "", ""}).ok());
  SeenRequest seen = endpoint.Last();
  EXPECT_EQ(seen.method, "PUT");
  EXPECT_EQ(seen.body, payload);
  EXPECT_EQ(seen.headers.find("Content-Type")->second, "application/octet-stream");
  EXPECT_EQ(seen.headers.count("Idempotency-Key"), 0u) << "only sent when the write had one";

  // A configured Content-Type wins; an unprintable idempotency key cannot
  // split the header.
  auto typed = MakeTarget(endpoint.Url("/status/200"), {{"content-type", "application/x-protobuf"}});
  ASSERT_TRUE(typed->DeliverOpaque("x", DeliveryContext{"events", 8, 1, "line\r\nInjected: yes", ""}).ok());
  seen = endpoint.Last();
  EXPECT_EQ(seen.headers.find("Content-Type")->second, "application/x-protobuf");
  EXPECT_EQ(seen.headers.count("Injected"), 0u);
  // The wire carries "line%0D%0AInjected:%20yes"; httplib URL-decodes header
  // values, so the server sees the original key, in one header.
  EXPECT_EQ(seen.headers.find("Idempotency-Key")->second, "line\r\nInjected: yes");
}

TEST(HttpTargetTest, ClassifiesStatusCodes) {
  FakeEndpoint endpoint;
  struct Case {
    int status;
    ApplyOutcome expected;
  };
  for (const Case& c : {Case{200, ApplyOutcome::kOk}, Case{201, ApplyOutcome::kOk}, Case{204, ApplyOutcome::kOk},
                        Case{408, ApplyOutcome::kRetryable}, Case{429, ApplyOutcome::kRetryable},
                        Case{500, ApplyOutcome::kRetryable}, Case{502, ApplyOutcome::kRetryable},
                        Case{503, ApplyOutcome::kRetryable}, Case{400, ApplyOutcome::kPermanent},
                        Case{401, ApplyOutcome::kPermanent}, Case{404, ApplyOutcome::kPermanent},
                        Case{413, ApplyOutcome::kPermanent}, Case{422, ApplyOutcome::kPermanent},
                        Case{301, ApplyOutcome::kPermanent}}) {
    auto target = MakeTarget(endpoint.Url("/status/" + std::to_string(c.status)));
    ApplyResult result = target->DeliverOpaque("x", DeliveryContext{"ns", 1, 1, "", ""});
    EXPECT_EQ(result.outcome, c.expected) << c.status << ": " << result.reason;
    if (c.expected != ApplyOutcome::kOk) {
      EXPECT_NE(result.reason.find("status " + std::to_string(c.status)), std::string::npos) << result.reason;
      EXPECT_NE(result.reason.find("body of " + std::to_string(c.status) + " with.control"), std::string::npos)
          << "a sanitised body excerpt: " << result.reason;
    }
  }
}

TEST(HttpTargetTest, ATimeoutIsRetryableAndBounded) {
  FakeEndpoint endpoint;
  auto target = MakeTarget(endpoint.Url("/hang"), {}, std::chrono::milliseconds(300));
  auto started = std::chrono::steady_clock::now();
  ApplyResult result = target->DeliverOpaque("x", DeliveryContext{"ns", 1, 1, "", ""});
  auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(result.outcome, ApplyOutcome::kRetryable) << result.reason;
  EXPECT_NE(result.reason.find("imeout"), std::string::npos) << result.reason;
  EXPECT_LT(elapsed, std::chrono::milliseconds(1500));
}

TEST(HttpTargetTest, NetworkFailuresAreRetryable) {
  ClosingEndpoint closing;
  auto closed = MakeTarget("http://127.0.0.1:" + std::to_string(closing.port()) + "/x");
  ApplyResult result = closed->ApplyMutation(SamplePut(), DeliveryContext{"ns", 1, 1, "", ""});
  EXPECT_EQ(result.outcome, ApplyOutcome::kRetryable) << result.reason;

  auto refused = MakeTarget("http://127.0.0.1:" + std::to_string(UnusedPort()) + "/x");
  result = refused->DeliverOpaque("x", DeliveryContext{"ns", 1, 1, "", ""});
  EXPECT_EQ(result.outcome, ApplyOutcome::kRetryable) << result.reason;
  Status probe = refused->Probe();
  EXPECT_EQ(probe.code(), StatusCode::kUnavailable);
  EXPECT_NE(probe.message().find("127.0.0.1"), std::string::npos) << probe.message();
}

TEST(HttpTargetTest, ProbeConnectsWithoutSendingARequest) {
  FakeEndpoint endpoint;
  auto target = MakeTarget(endpoint.Url("/status/200"));
  EXPECT_TRUE(target->Probe().ok());
  EXPECT_EQ(endpoint.requests(), 0);
}

TEST(HttpTargetTest, SecretsStayOutOfReasons) {
  FakeEndpoint endpoint;
  std::string url = "http://user:hunter2@127.0.0.1:" + std::to_string(endpoint.port()) + "/status/500?token=abc123";
  auto target = MakeTarget(url, {{"X-Api-Key", "topsecret"}});
  ApplyResult result = target->DeliverOpaque("x", DeliveryContext{"ns", 1, 1, "", ""});
  EXPECT_EQ(result.outcome, ApplyOutcome::kRetryable);
  EXPECT_NE(result.reason.find("/status/500"), std::string::npos) << result.reason;
  for (const char* secret : {"hunter2", "abc123", "topsecret"}) {
    EXPECT_EQ(result.reason.find(secret), std::string::npos) << result.reason;
  }
}

TEST(HttpTargetTest, ParsesAndRejectsSettings) {
  auto good = HttpTarget::FromSettings(
      R"({"url": "https://hooks.example.com/wal", "headers": {"Authorization": "Bearer x"}, "timeout": "1500ms",
          "method": "PUT"})");
  EXPECT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_TRUE(HttpTarget::FromSettings(R"({"url": "http://127.0.0.1:1/", "timeout": 250})").ok());

  struct Case {
    const char* json;
    const char* expected;
  };
  for (const Case& c :
       {Case{R"({})", "target.url: required for target type 'http'"}, Case{R"({"url": "ftp://x/"})", "target.url: must start with"},
        Case{R"({"url": "http://"})", "target.url"}, Case{R"({"url": "http://x/", "method": "GET"})", "target.method"},
        Case{R"({"url": "http://x/", "timeout": "0s"})", "target.timeout: must be > 0s"},
        Case{R"({"url": "http://x/", "headers": {"Bad Name": "v"}})", "target.headers.Bad Name"},
        Case{R"({"url": "http://x/", "headers": {"X-Token": "sec\r\nret"}})", "target.headers.X-Token"},
        Case{R"({"url": "http://x/", "headers": {"x-wal-attempt": "1"}})", "is set by the target"},
        Case{R"({"url": "http://x/", "headers": {"A": 1}})", "target.headers.A: must be a string"},
        Case{R"({"url": "http://x/", "header": {}})", "target.header: unknown field 'header' (did you mean 'headers'?)"}}) {
    auto result = HttpTarget::FromSettings(c.json);
    ASSERT_FALSE(result.ok()) << c.json;
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(result.status().message().find(c.expected), std::string::npos)
        << c.json << " -> " << result.status().message();
    EXPECT_EQ(result.status().message().find("sec\r\nret"), std::string::npos) << "header values are secrets";
  }
}

TEST(HttpTargetTest, AcceptsEveryWellFormedPayload) {
  auto target = MakeTarget("http://127.0.0.1:1/");
  v1::Payload payload;
  payload.set_opaque("x");
  EXPECT_TRUE(target->ValidatePayload(payload).ok());
  *payload.mutable_mutation() = SamplePut();
  EXPECT_TRUE(target->ValidatePayload(payload).ok());
  payload.mutable_mutation()->mutable_ttl()->set_seconds(-1);
  EXPECT_EQ(target->ValidatePayload(payload).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace wal::target
