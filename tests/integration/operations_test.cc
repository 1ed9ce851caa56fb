// Operating wal, end to end against real wald processes: the auth
// allow/deny matrix, walctl over TLS and mTLS, the shard redirect, a config
// change propagating to a second instance, the tokens file, shard map and
// certificates reloaded without a restart, /metrics after a load, limits, JSON
// logs with request ids, and a graceful shutdown under load that loses nothing
// that was answered TRUE.
#include <arpa/inet.h>
#include <fcntl.h>
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "wal/v1/admin.grpc.pb.h"
#include "wal/v1/wal.grpc.pb.h"
#include "wald_process.h"

namespace wal::testing {
namespace {

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteText(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string Base64(const std::string& bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t n = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out.push_back(kAlphabet[(n >> shift) & 63]);
  }
  if (i + 1 == bytes.size()) {
    uint32_t n = uint8_t(bytes[i]) << 16;
    out += {kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63], '=', '='};
  } else if (i + 2 == bytes.size()) {
    uint32_t n = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8);
    out += {kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63], kAlphabet[(n >> 6) & 63], '='};
  }
  return out;
}

bool PortAccepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return connected;
}

// A wald started from a server config file this test writes (TLS, auth, shards),
// with its own data dir; the namespaces dir may be shared with another instance.
class Wald {
 public:
  Wald(std::string root, std::string namespaces_dir = "")
      : root_(std::move(root)),
        namespaces_dir_(namespaces_dir.empty() ? root_ + "/namespaces" : std::move(namespaces_dir)),
        grpc_port_(FreePort()),
        http_port_(FreePort()) {
    std::filesystem::create_directories(namespaces_dir_);
    std::filesystem::create_directories(root_ + "/data");
  }
  ~Wald() { Kill(); }

  // Extra server config lines (YAML) written before Start().
  std::string extra_config;
  std::string config_store = "{poll_interval: 200ms}";
  std::vector<std::string> extra_args;

  void Start() {
    ASSERT_LT(pid_, 0);
    const std::string config = root_ + "/server.yaml";
    WriteText(config, "data_dir: " + root_ + "/data\nnamespaces_dir: " + namespaces_dir_ + "\ngrpc_listen: " +
                          grpc_address() + "\nhttp_listen: 127.0.0.1:" + std::to_string(http_port_) +
                          "\nlog_level: info\nconfig_store: " + config_store + "\n" + extra_config);
    std::vector<std::string> argv = {WALD_BINARY, "--config", config};
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    pid_ = ::fork();
    if (pid_ == 0) {
      int log = ::open(log_path().c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(log, 1);
      ::dup2(log, 2);
      std::vector<char*> args;
      for (auto& arg : argv) args.push_back(arg.data());
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        FAIL() << "wald exited during start-up:\n" << ReadText(log_path());
      }
      // HTTP starts after gRPC, so an accepting HTTP port means both listen.
      if (PortAccepts(http_port_)) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL() << "wald did not start within 30 s:\n" << ReadText(log_path());
  }

  int Stop() {
    if (pid_ < 0) return -1;
    ::kill(pid_, SIGTERM);
    return Wait();
  }
  void Signal(int signal) { ::kill(pid_, signal); }
  int Wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  void Kill() {
    if (pid_ < 0) return;
    ::kill(pid_, SIGKILL);
    Wait();
  }

  std::string grpc_address() const { return "127.0.0.1:" + std::to_string(grpc_port_); }
  std::string http_address() const { return "127.0.0.1:" + std::to_string(http_port_); }
  int http_port() const { return http_port_; }
  const std::string& namespaces_dir() const { return namespaces_dir_; }
  std::string log_path() const { return root_ + "/wald.log"; }
  void WriteNamespace(const std::string& name, const std::string& yaml) const {
    WriteText(namespaces_dir_ + "/" + name + ".yaml", yaml);
  }
  std::shared_ptr<grpc::Channel> Channel() const {
    return grpc::CreateChannel(grpc_address(), grpc::InsecureChannelCredentials());
  }
  CommandResult Walctl(std::vector<std::string> args) const {
    args.insert(args.begin(), {WALCTL_BINARY, "--server", grpc_address()});
    return RunCommand(args);
  }
  httplib::Client Http() const {
    httplib::Client client("127.0.0.1", http_port_);
    client.set_read_timeout(10, 0);
    return client;
  }

 private:
  std::string root_;
  std::string namespaces_dir_;
  int grpc_port_;
  int http_port_;
  pid_t pid_ = -1;
};

std::string Sha256(const std::string& text) {
  // The CLI is what an operator uses to make a token's hash.
  const std::string file = std::filesystem::temp_directory_path() / ("wal-token-" + std::to_string(::getpid()));
  WriteText(file, text);
  CommandResult result = RunCommand({"/usr/bin/openssl", "dgst", "-sha256", "-r", file});
  std::filesystem::remove(file);
  return result.output.substr(0, 64);
}

v1::WriteToLogRequest Opaque(const std::string& name, const std::string& text) {
  v1::WriteToLogRequest request;
  request.set_namespace_(name);
  request.mutable_payload()->set_opaque(text);
  return request;
}

grpc::Status Write(grpc::Channel* channel, const v1::WriteToLogRequest& request, v1::WriteToLogResponse* response,
                   const std::string& token = "", grpc::ClientContext* given = nullptr) {
  grpc::ClientContext local;
  grpc::ClientContext& context = given != nullptr ? *given : local;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
  auto stub = v1::WriteAheadLog::NewStub(std::shared_ptr<grpc::Channel>(channel, [](grpc::Channel*) {}));
  return stub->WriteToLog(&context, request, response);
}

constexpr const char* kDelayed = "backend: {type: local, local: {segment_bytes: 1048576}}\ndelay: {default: 1h}\n";

// ---------------------------------------------------------------------------

TEST(Operations, AuthAllowDenyMatrix) {
  TempDir dir;
  Wald wald(dir.path());
  const std::string tokens = dir.path() + "/tokens.yaml";
  WriteText(tokens, "tokens:\n"
                    "  - {name: ops, sha256: " + Sha256("ops-token") + ", scopes: [admin, write], namespaces: ['*']}\n"
                    "  - {name: orders-writer, sha256: " + Sha256("orders-writer-token") +
                        ", scopes: [write], namespaces: [orders]}\n");
  wald.extra_config = "auth: {tokens_file: " + tokens + "}\n";
  wald.WriteNamespace("orders", std::string("name: orders\n") + kDelayed);
  wald.WriteNamespace("payments", std::string("name: payments\n") + kDelayed +
                                      "access: {tokens: [{name: payments-app, sha256: " + Sha256("payments-token") +
                                      ", scopes: [write, read]}]}\n");
  wald.Start();
  auto channel = wald.Channel();
  struct Case {
    std::string token, name;
    grpc::StatusCode grpc;
    int http;
  };
  const Case cases[] = {
      {"", "orders", grpc::StatusCode::UNAUTHENTICATED, 401},
      {"wrong", "orders", grpc::StatusCode::UNAUTHENTICATED, 401},
      {"orders-writer-token", "orders", grpc::StatusCode::OK, 200},
      {"orders-writer-token", "payments", grpc::StatusCode::PERMISSION_DENIED, 403},
      {"payments-token", "payments", grpc::StatusCode::OK, 200},
      {"payments-token", "orders", grpc::StatusCode::PERMISSION_DENIED, 403},
      {"ops-token", "payments", grpc::StatusCode::OK, 200},
      {"ops-token", "orders", grpc::StatusCode::OK, 200},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("token '" + c.token + "' on " + c.name);
    v1::WriteToLogResponse response;
    grpc::Status status = Write(channel.get(), Opaque(c.name, "x"), &response, c.token);
    EXPECT_EQ(status.error_code(), c.grpc) << status.error_message();
    httplib::Headers headers;
    if (!c.token.empty()) headers.emplace("Authorization", "Bearer " + c.token);
    auto http = wald.Http().Post(("/v1/namespaces/" + c.name + "/log:write").c_str(), headers,
                                 R"({"payload":{"opaque":"eA=="}})", "application/json");
    ASSERT_TRUE(http);
    EXPECT_EQ(http->status, c.http) << http->body;
  }
  // Admin needs the admin scope; a write-only token is refused, HTTP and gRPC alike.
  auto denied = wald.Http().Delete("/v1/namespaces/orders", {{"Authorization", "Bearer orders-writer-token"}});
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 403);
  EXPECT_EQ(nlohmann::json::parse(denied->body)["error"]["status"], "PERMISSION_DENIED");
  auto anonymous_list = wald.Http().Get("/v1/namespaces");
  EXPECT_EQ(anonymous_list->status, 401);
  EXPECT_EQ(wald.Http().Get("/v1/namespaces", {{"Authorization", "Bearer ops-token"}})->status, 200);
  EXPECT_EQ(wald.Http().Get("/healthz")->status, 200);  // health stays open
  EXPECT_EQ(wald.Walctl({"--json", "status", "orders"}).exit_code, 1);
  auto walctl_denied = wald.Walctl({"--json", "--token", "orders-writer-token", "namespaces", "delete", "orders"});
  EXPECT_EQ(walctl_denied.exit_code, 1);
  EXPECT_NE(walctl_denied.output.find("PERMISSION_DENIED"), std::string::npos) << walctl_denied.output;
  EXPECT_EQ(wald.Walctl({"--token", "ops-token", "status", "orders"}).exit_code, 0);
  EXPECT_EQ(wald.Walctl({"--token", "orders-writer-token", "write", "orders", "hi"}).exit_code, 0);
  wald.Stop();
  // Secrets never reach the log.
  const std::string log = ReadText(wald.log_path());
  for (const char* secret : {"ops-token", "orders-writer-token", "payments-token", "wrong"}) {
    EXPECT_EQ(log.find(std::string("Bearer ") + secret), std::string::npos) << secret;
    EXPECT_EQ(log.find(secret), std::string::npos) << secret << "\n" << log;
  }
}

// ---------------------------------------------------------------------------

struct Certificates {
  std::string ca, server_cert, server_key, client_cert, client_key;
};

Certificates MakeCertificates(const std::string& dir) {
  const std::string openssl = "/usr/bin/openssl";
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), openssl);
    CommandResult result = RunCommand(args);
    EXPECT_EQ(result.exit_code, 0) << args[1] << " " << args[2];
  };
  WriteText(dir + "/server.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  WriteText(dir + "/client.ext", "extendedKeyUsage=clientAuth\n");
  const std::vector<std::string> key = {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"};
  auto with_key = [&](std::vector<std::string> head, std::vector<std::string> tail) {
    head.insert(head.end(), key.begin(), key.end());
    head.insert(head.end(), tail.begin(), tail.end());
    return head;
  };
  run(with_key({"req", "-x509"}, {"-keyout", dir + "/ca.key", "-out", dir + "/ca.crt", "-days", "2", "-subj",
                                  "/CN=wal-test-ca"}));
  for (const std::string who : {"server", "client"}) {
    run(with_key({"req"}, {"-keyout", dir + "/" + who + ".key", "-out", dir + "/" + who + ".csr", "-subj",
                           "/CN=" + (who == "server" ? std::string("127.0.0.1") : std::string("walctl"))}));
    run({"x509", "-req", "-in", dir + "/" + who + ".csr", "-CA", dir + "/ca.crt", "-CAkey", dir + "/ca.key",
         "-CAcreateserial", "-out", dir + "/" + who + ".crt", "-days", "2", "-extfile", dir + "/" + who + ".ext"});
  }
  return {dir + "/ca.crt", dir + "/server.crt", dir + "/server.key", dir + "/client.crt", dir + "/client.key"};
}

TEST(Operations, WalctlOverTlsAndMutualTls) {
  // A refused TLS handshake can leave httplib writing to a closed socket.
  ::signal(SIGPIPE, SIG_IGN);
  TempDir dir;
  Certificates certs = MakeCertificates(dir.path());
  {
    Wald wald(dir.path() + "/tls");
    wald.extra_config = "tls: {cert_file: " + certs.server_cert + ", key_file: " + certs.server_key + "}\n";
    wald.WriteNamespace("orders", std::string("name: orders\n") + kDelayed);
    wald.Start();
    auto ok = wald.Walctl({"--timeout", "10s", "--ca-file", certs.ca, "write", "orders", "over tls"});
    EXPECT_EQ(ok.exit_code, 0) << ok.output;
    EXPECT_NE(ok.output.find("durable=TRUE"), std::string::npos) << ok.output;
    // Plaintext to a TLS port fails; so does TLS without trusting the CA.
    EXPECT_NE(wald.Walctl({"--timeout", "3s", "write", "orders", "plain"}).exit_code, 0);
    EXPECT_NE(wald.Walctl({"--timeout", "3s", "--tls", "write", "orders", "untrusted"}).exit_code, 0);
    // HTTPS on the HTTP port.
    httplib::SSLClient https("127.0.0.1", wald.http_port());
    https.set_ca_cert_path(certs.ca.c_str());
    https.enable_server_certificate_verification(true);
    auto healthz = https.Get("/healthz");
    ASSERT_TRUE(healthz) << httplib::to_string(healthz.error());
    EXPECT_EQ(healthz->status, 200);
    EXPECT_EQ(wald.Stop(), 0);
  }
  {
    Wald wald(dir.path() + "/mtls");
    wald.extra_config = "tls: {cert_file: " + certs.server_cert + ", key_file: " + certs.server_key +
                        ", client_ca_file: " + certs.ca + "}\n";
    wald.WriteNamespace("orders", std::string("name: orders\n") + kDelayed);
    wald.Start();
    auto no_cert = wald.Walctl({"--timeout", "3s", "--ca-file", certs.ca, "write", "orders", "anonymous"});
    EXPECT_NE(no_cert.exit_code, 0) << no_cert.output;
    auto with_cert = wald.Walctl({"--timeout", "10s", "--ca-file", certs.ca, "--cert-file", certs.client_cert,
                                  "--key-file", certs.client_key, "write", "orders", "mutual"});
    EXPECT_EQ(with_cert.exit_code, 0) << with_cert.output;
    auto status = wald.Walctl({"--json", "--ca-file", certs.ca, "--cert-file", certs.client_cert, "--key-file",
                               certs.client_key, "status", "orders"});
    EXPECT_EQ(status.exit_code, 0);
    EXPECT_NE(status.output.find("\"log_end\":\"1\""), std::string::npos) << status.output;
    httplib::SSLClient anonymous("127.0.0.1", wald.http_port());
    anonymous.set_ca_cert_path(certs.ca.c_str());
    EXPECT_FALSE(anonymous.Get("/healthz"));
    httplib::SSLClient client("127.0.0.1", wald.http_port(), certs.client_cert, certs.client_key);
    client.set_ca_cert_path(certs.ca.c_str());
    auto healthz = client.Get("/healthz");
    ASSERT_TRUE(healthz) << httplib::to_string(healthz.error());
    EXPECT_EQ(healthz->status, 200);
    EXPECT_EQ(wald.Stop(), 0);
  }
}

// ---------------------------------------------------------------------------

TEST(Operations, ShardRedirectAndWalctlRouting) {
  TempDir dir;
  Wald a(dir.path() + "/a");
  Wald b(dir.path() + "/b");
  const std::string map = dir.path() + "/shards.yaml";
  WriteText(map, "shards:\n"
                 "  shard-a: {addresses: ['" + a.grpc_address() + "'], http: ['" + a.http_address() +
                     "'], namespaces: [orders]}\n"
                 "  shard-b: {addresses: ['" + b.grpc_address() + "'], http: ['" + b.http_address() +
                     "'], namespaces: [payments]}\n");
  a.extra_config = "shard_map: " + map + "\nshard: shard-a\n";
  b.extra_config = "shard_map: " + map + "\nshard: shard-b\n";
  a.WriteNamespace("orders", std::string("name: orders\n") + kDelayed);
  b.WriteNamespace("payments", std::string("name: payments\n") + kDelayed);
  a.Start();
  b.Start();

  grpc::ClientContext context;
  v1::WriteToLogResponse response;
  grpc::Status refused = Write(a.Channel().get(), Opaque("payments", "x"), &response, "", &context);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(refused.error_message().find("shard-b at " + b.grpc_address()), std::string::npos)
      << refused.error_message();
  auto trailer = context.GetServerTrailingMetadata().find("wal-shard-address");
  ASSERT_NE(trailer, context.GetServerTrailingMetadata().end());
  EXPECT_EQ(std::string(trailer->second.data(), trailer->second.size()), b.grpc_address());

  auto http =
      a.Http().Post("/v1/namespaces/payments/log:write", R"({"payload":{"opaque":"eA=="}})", "application/json");
  ASSERT_TRUE(http);
  EXPECT_EQ(http->status, 421);
  auto error = nlohmann::json::parse(http->body)["error"];
  auto where = error["details"][0]["metadata"];
  EXPECT_EQ(where["shard"], "shard-b");
  EXPECT_EQ(where["address"], b.grpc_address());
  EXPECT_EQ(where["http_address"], b.http_address());
  EXPECT_EQ(error["status"], "FAILED_PRECONDITION");
  // Admin calls are refused the same way.
  EXPECT_EQ(a.Http().Get("/v1/namespaces/payments")->status, 421);

  // walctl picks the shard from the map whatever --server says.
  for (Wald* wrong : {&a, &b}) {
    auto routed = wrong->Walctl({"--shard-map", map, "write", "payments", "routed"});
    EXPECT_EQ(routed.exit_code, 0) << routed.output;
    routed = wrong->Walctl({"--shard-map", map, "write", "orders", "routed"});
    EXPECT_EQ(routed.exit_code, 0) << routed.output;
  }
  auto unrouted = a.Walctl({"--json", "write", "payments", "x"});
  EXPECT_EQ(unrouted.exit_code, 1);
  EXPECT_NE(unrouted.output.find(b.grpc_address()), std::string::npos) << unrouted.output;
  auto status = b.Walctl({"--json", "--shard-map", map, "status", "payments"});
  EXPECT_NE(status.output.find("\"log_end\":\"2\""), std::string::npos) << status.output;
}

// ---------------------------------------------------------------------------

TEST(Operations, ConfigChangePropagatesToASecondInstance) {
  TempDir dir;
  const std::string shared = dir.path() + "/shared-namespaces";
  Wald first(dir.path() + "/first", shared);
  Wald second(dir.path() + "/second", shared);
  first.WriteNamespace("orders", std::string("name: orders\n") + kDelayed);
  first.Start();
  second.Start();

  // A namespace created through the first instance's admin API ...
  const std::string file = dir.path() + "/audit.yaml";
  WriteText(file, std::string("name: audit\n") + kDelayed);
  ASSERT_EQ(first.Walctl({"namespaces", "apply", file}).exit_code, 0);
  auto wait_for = [](const std::function<bool()>& condition) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (condition()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  };
  const auto applied_at = std::chrono::steady_clock::now();
  // ... is served by the second within seconds, with no restart.
  ASSERT_TRUE(wait_for([&] { return second.Walctl({"write", "audit", "hello"}).exit_code == 0; }));
  EXPECT_LT(std::chrono::steady_clock::now() - applied_at, std::chrono::seconds(5));

  // A policy change (a rate limit) reaches it too.
  WriteText(file, std::string("name: audit\n") + kDelayed + "limits: {writes_per_second: 0.001, burst: 1}\n");
  ASSERT_EQ(first.Walctl({"namespaces", "apply", file}).exit_code, 0);
  ASSERT_TRUE(wait_for([&] {
    auto got = second.Walctl({"--json", "namespaces", "get", "audit"});
    return got.output.find("writes_per_second") != std::string::npos;
  }));
  second.Walctl({"write", "audit", "uses the burst"});
  auto limited = second.Walctl({"--json", "write", "audit", "over the rate"});
  EXPECT_EQ(limited.exit_code, 1);
  EXPECT_NE(limited.output.find("RESOURCE_EXHAUSTED"), std::string::npos) << limited.output;

  // And a delete.
  ASSERT_EQ(first.Walctl({"namespaces", "delete", "audit"}).exit_code, 0);
  ASSERT_TRUE(wait_for([&] { return second.Walctl({"namespaces", "get", "audit"}).exit_code == 1; }));
}

// ---------------------------------------------------------------------------
// Server-level files reloaded while wald runs: the tokens file, the shard map
// and the TLS files. The Wald helper polls every 200 ms.

// Polls `condition` until it holds or `timeout` passes.
bool WaitFor(const std::function<bool()>& condition, std::chrono::seconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return condition();
}

// Replaces `path` whole: a sibling file renamed over it, as deployment tools do.
void ReplaceText(const std::string& path, const std::string& text) {
  WriteText(path + ".tmp", text);
  std::filesystem::rename(path + ".tmp", path);
}

int CountInLog(const Wald& wald, const std::string& needle) {
  const std::string log = ReadText(wald.log_path());
  int count = 0;
  for (size_t at = log.find(needle); at != std::string::npos; at = log.find(needle, at + 1)) ++count;
  return count;
}

TEST(Operations, TokensFileRotationAppliesWithoutARestart) {
  TempDir dir;
  Wald wald(dir.path());
  const std::string tokens = dir.path() + "/tokens.yaml";
  auto tokens_for = [](const std::string& token) {
    return "tokens:\n  - {name: app, sha256: " + Sha256(token) + ", scopes: [admin, write], namespaces: ['*']}\n";
  };
  WriteText(tokens, tokens_for("first-token"));
  wald.extra_config = "auth: {tokens_file: " + tokens + "}\n";
  wald.WriteNamespace("orders", std::string("name: orders\n") + kDelayed);
  wald.Start();
  auto channel = wald.Channel();
  auto grpc_code = [&](const std::string& token) {
    v1::WriteToLogResponse response;
    return Write(channel.get(), Opaque("orders", "x"), &response, token).error_code();
  };
  auto http_status = [&](const std::string& token) {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    auto response = wald.Http().Post("/v1/namespaces/orders/log:write", headers, R"({"payload":{"opaque":"eA=="}})",
                                     "application/json");
    return response ? response->status : -1;
  };
  ASSERT_EQ(grpc_code("first-token"), grpc::StatusCode::OK);
  ASSERT_EQ(grpc_code("second-token"), grpc::StatusCode::UNAUTHENTICATED);

  // Rotation, written in place as an editor or `cp` would.
  const auto rotated_at = std::chrono::steady_clock::now();
  WriteText(tokens, tokens_for("second-token"));
  ASSERT_TRUE(WaitFor([&] { return grpc_code("first-token") == grpc::StatusCode::UNAUTHENTICATED; }))
      << ReadText(wald.log_path());
  EXPECT_LT(std::chrono::steady_clock::now() - rotated_at, std::chrono::seconds(5));
  EXPECT_EQ(grpc_code("second-token"), grpc::StatusCode::OK);
  EXPECT_EQ(http_status("first-token"), 401);
  EXPECT_EQ(http_status("second-token"), 200);
  EXPECT_EQ(wald.Walctl({"--token", "second-token", "write", "orders", "x"}).exit_code, 0);
  EXPECT_GE(CountInLog(wald, "auth.tokens_file: reloaded from " + tokens + ": 1 tokens"), 1)
      << ReadText(wald.log_path());

  // A file that does not parse, one that lists no tokens (which would turn auth
  // off), and no file at all: each is logged and the second token stays valid.
  for (const std::string& bad : {std::string("tokens: [\n"), std::string("tokens: []\n"), std::string()}) {
    SCOPED_TRACE(bad.empty() ? "deleted" : "tokens file: " + bad);
    const int errors = CountInLog(wald, "auth.tokens_file: not reloaded, the previous version stays in force");
    if (bad.empty()) {
      std::filesystem::remove(tokens);
    } else {
      ReplaceText(tokens, bad);
    }
    ASSERT_TRUE(WaitFor([&] {
      return CountInLog(wald, "auth.tokens_file: not reloaded, the previous version stays in force") > errors;
    })) << ReadText(wald.log_path());
    EXPECT_EQ(grpc_code("second-token"), grpc::StatusCode::OK);
    EXPECT_EQ(grpc_code(""), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_EQ(grpc_code("first-token"), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_EQ(http_status("second-token"), 200);
    EXPECT_EQ(http_status(""), 401);
  }
  // A good file again takes over.
  ReplaceText(tokens, tokens_for("third-token"));
  ASSERT_TRUE(WaitFor([&] { return grpc_code("third-token") == grpc::StatusCode::OK; })) << ReadText(wald.log_path());
  EXPECT_EQ(grpc_code("second-token"), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(wald.Stop(), 0);
  const std::string log = ReadText(wald.log_path());
  for (const std::string token : {"first-token", "second-token", "third-token"}) {
    EXPECT_EQ(log.find(token), std::string::npos) << token;
    EXPECT_EQ(log.find(Sha256(token)), std::string::npos) << "hash of " << token;
  }
}

TEST(Operations, ShardMapEditAppliesWithoutARestart) {
  TempDir dir;
  Wald a(dir.path() + "/a");
  Wald b(dir.path() + "/b");
  const std::string map = dir.path() + "/shards.yaml";
  auto map_with = [&](const std::string& a_namespaces, const std::string& b_namespaces) {
    return "shards:\n"
           "  shard-a: {addresses: ['" + a.grpc_address() + "'], http: ['" + a.http_address() + "'], namespaces: [" +
           a_namespaces + "]}\n"
           "  shard-b: {addresses: ['" + b.grpc_address() + "'], http: ['" + b.http_address() + "'], namespaces: [" +
           b_namespaces + "]}\n";
  };
  WriteText(map, map_with("orders, payments", ""));
  a.extra_config = "shard_map: " + map + "\nshard: shard-a\n";
  b.extra_config = "shard_map: " + map + "\nshard: shard-b\n";
  for (Wald* wald : {&a, &b}) wald->WriteNamespace("payments", std::string("name: payments\n") + kDelayed);
  a.Start();
  b.Start();
  v1::WriteToLogResponse response;
  ASSERT_TRUE(Write(a.Channel().get(), Opaque("payments", "before the move"), &response).ok());
  ASSERT_EQ(Write(b.Channel().get(), Opaque("payments", "x"), &response).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  // Move payments to shard-b; a starts redirecting it there.
  const auto edited_at = std::chrono::steady_clock::now();
  ReplaceText(map, map_with("orders", "payments"));
  auto redirect_from_a = [&]() -> std::string {  // the trailer's address, or "" if a still serves payments
    grpc::ClientContext context;
    v1::WriteToLogResponse answer;
    grpc::Status status = Write(a.Channel().get(), Opaque("payments", "x"), &answer, "", &context);
    if (status.error_code() != grpc::StatusCode::FAILED_PRECONDITION) return "";
    auto trailer = context.GetServerTrailingMetadata().find("wal-shard-address");
    if (trailer == context.GetServerTrailingMetadata().end()) return "(no trailer)";
    return std::string(trailer->second.data(), trailer->second.size());
  };
  ASSERT_TRUE(WaitFor([&] { return !redirect_from_a().empty(); })) << ReadText(a.log_path());
  EXPECT_LT(std::chrono::steady_clock::now() - edited_at, std::chrono::seconds(5));
  EXPECT_EQ(redirect_from_a(), b.grpc_address());
  auto http =
      a.Http().Post("/v1/namespaces/payments/log:write", R"({"payload":{"opaque":"eA=="}})", "application/json");
  ASSERT_TRUE(http);
  EXPECT_EQ(http->status, 421);
  auto where = nlohmann::json::parse(http->body)["error"]["details"][0]["metadata"];
  EXPECT_EQ(where["shard"], "shard-b");
  EXPECT_EQ(where["address"], b.grpc_address());
  EXPECT_EQ(where["http_address"], b.http_address());
  // ... and b serves it.
  ASSERT_TRUE(WaitFor([&] { return Write(b.Channel().get(), Opaque("payments", "moved"), &response).ok(); }))
      << ReadText(b.log_path());

  // A map without a's shard is refused by a, which keeps the map in force.
  const std::string refused = "shard_map: not reloaded, the previous version stays in force";
  const int errors = CountInLog(a, refused);
  ReplaceText(map, "shards:\n  shard-b: {addresses: ['" + b.grpc_address() + "'], namespaces: [orders, payments]}\n");
  ASSERT_TRUE(WaitFor([&] { return CountInLog(a, refused) > errors; })) << ReadText(a.log_path());
  EXPECT_EQ(CountInLog(a, "shard: 'shard-a' is not in the shard map " + map), 1) << ReadText(a.log_path());
  EXPECT_EQ(redirect_from_a(), b.grpc_address());
  EXPECT_EQ(a.Stop(), 0);
  EXPECT_EQ(b.Stop(), 0);
}

TEST(Operations, CertificateRotationAppliesWithoutARestart) {
  ::signal(SIGPIPE, SIG_IGN);
  TempDir dir;
  for (const char* sub : {"/old", "/new", "/live"}) std::filesystem::create_directories(dir.path() + sub);
  const Certificates old_certs = MakeCertificates(dir.path() + "/old");
  const Certificates new_certs = MakeCertificates(dir.path() + "/new");
  const std::string live = dir.path() + "/live";
  auto install = [](const std::string& from, const std::string& to) { ReplaceText(to, ReadText(from)); };
  install(old_certs.server_key, live + "/server.key");
  install(old_certs.server_cert, live + "/server.crt");
  install(old_certs.ca, live + "/ca.crt");
  const std::string both_cas = dir.path() + "/both-cas.crt";
  WriteText(both_cas, ReadText(old_certs.ca) + ReadText(new_certs.ca));

  Wald wald(dir.path() + "/wald");
  wald.extra_config = "tls: {cert_file: " + live + "/server.crt, key_file: " + live + "/server.key, client_ca_file: " +
                      live + "/ca.crt}\n";
  wald.WriteNamespace("orders", std::string("name: orders\n") + kDelayed);
  wald.Start();

  // New connections each: walctl is a new process; httplib connects per client.
  auto walctl_ok = [&](const std::string& ca, const std::string& cert, const std::string& key) {
    const auto result =
        wald.Walctl({"--timeout", "5s", "--ca-file", ca, "--cert-file", cert, "--key-file", key, "write", "orders", "x"});
    return result.exit_code == 0;
  };
  auto https_ok = [&](const std::string& ca, const std::string& cert, const std::string& key) {
    httplib::SSLClient client("127.0.0.1", wald.http_port(), cert, key);
    client.set_ca_cert_path(ca.c_str());
    client.enable_server_certificate_verification(true);
    client.set_connection_timeout(5, 0);
    client.set_read_timeout(5, 0);
    auto response = client.Get("/healthz");
    return response && response->status == 200;
  };
  const std::string& old_cert = old_certs.client_cert;
  const std::string& old_key = old_certs.client_key;
  // Only a client trusting the new CA can tell the new server certificate is in use.
  EXPECT_TRUE(walctl_ok(old_certs.ca, old_cert, old_key));
  EXPECT_FALSE(walctl_ok(new_certs.ca, old_cert, old_key));
  EXPECT_TRUE(https_ok(old_certs.ca, old_cert, old_key));
  EXPECT_FALSE(https_ok(new_certs.ca, old_cert, old_key));

  // Clients that trust both CAs keep working through the rotation, on an open
  // gRPC connection and on new gRPC and HTTPS connections.
  grpc::SslCredentialsOptions trust_both;
  trust_both.pem_root_certs = ReadText(both_cas);
  trust_both.pem_cert_chain = ReadText(old_cert);
  trust_both.pem_private_key = ReadText(old_key);
  auto open_channel = grpc::CreateChannel(wald.grpc_address(), grpc::SslCredentials(trust_both));
  v1::WriteToLogResponse response;
  ASSERT_TRUE(Write(open_channel.get(), Opaque("orders", "before"), &response).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> succeeded{0};
  std::mutex failures_mutex;
  std::vector<std::string> failures;
  std::thread traffic([&] {
    while (!stop.load()) {
      grpc::ChannelArguments fresh_connection;
      fresh_connection.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      auto fresh = grpc::CreateCustomChannel(wald.grpc_address(), grpc::SslCredentials(trust_both), fresh_connection);
      v1::WriteToLogResponse answer;
      for (auto* channel : {open_channel.get(), fresh.get()}) {
        grpc::Status status = Write(channel, Opaque("orders", "during"), &answer);
        if (status.ok()) {
          ++succeeded;
        } else {
          std::lock_guard lock(failures_mutex);
          failures.push_back((channel == fresh.get() ? "new gRPC connection: " : "open gRPC connection: ") +
                             status.error_message());
        }
      }
      if (https_ok(both_cas, old_cert, old_key)) {
        ++succeeded;
      } else {
        std::lock_guard lock(failures_mutex);
        failures.push_back("new HTTPS connection failed");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });

  // 1. The server certificate and key (key first, so that a poll between the
  //    two renames sees a mismatched pair, which must be refused, not served).
  const auto rotated_at = std::chrono::steady_clock::now();
  install(new_certs.server_key, live + "/server.key");
  install(new_certs.server_cert, live + "/server.crt");
  EXPECT_TRUE(WaitFor([&] { return walctl_ok(new_certs.ca, old_cert, old_key); })) << ReadText(wald.log_path());
  EXPECT_TRUE(WaitFor([&] { return https_ok(new_certs.ca, old_cert, old_key); })) << ReadText(wald.log_path());
  EXPECT_LT(std::chrono::steady_clock::now() - rotated_at, std::chrono::seconds(8));
  EXPECT_FALSE(walctl_ok(old_certs.ca, old_cert, old_key));
  EXPECT_FALSE(https_ok(old_certs.ca, old_cert, old_key));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // traffic on the new certificate
  stop = true;
  traffic.join();
  EXPECT_GT(succeeded.load(), 10);
  EXPECT_TRUE(failures.empty()) << failures.size() << " failed, first: " << failures.front();
  EXPECT_TRUE(Write(open_channel.get(), Opaque("orders", "after"), &response).ok());
  EXPECT_GE(CountInLog(wald, "tls: reloaded from"), 1) << ReadText(wald.log_path());

  // 2. The client CA: clients of the old CA are refused, the new CA's get in.
  install(new_certs.ca, live + "/ca.crt");
  EXPECT_TRUE(WaitFor([&] { return walctl_ok(new_certs.ca, new_certs.client_cert, new_certs.client_key); }))
      << ReadText(wald.log_path());
  EXPECT_TRUE(WaitFor([&] { return !walctl_ok(new_certs.ca, old_cert, old_key); })) << ReadText(wald.log_path());
  EXPECT_TRUE(WaitFor([&] { return https_ok(new_certs.ca, new_certs.client_cert, new_certs.client_key); }));
  EXPECT_FALSE(https_ok(new_certs.ca, old_cert, old_key));

  // 3. A broken certificate file is refused; both ports keep the certificate in
  //    force, also after gRPC's own refresh (1 s) has had time to look.
  const int errors = CountInLog(wald, "tls: not reloaded, the previous version stays in force");
  ReplaceText(live + "/server.crt", "-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n");
  ASSERT_TRUE(WaitFor([&] {
    return CountInLog(wald, "tls: not reloaded, the previous version stays in force") > errors;
  })) << ReadText(wald.log_path());
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_TRUE(walctl_ok(new_certs.ca, new_certs.client_cert, new_certs.client_key)) << ReadText(wald.log_path());
  EXPECT_TRUE(https_ok(new_certs.ca, new_certs.client_cert, new_certs.client_key));
  EXPECT_EQ(wald.Stop(), 0);
  const std::string log = ReadText(wald.log_path());
  EXPECT_EQ(log.find("PRIVATE KEY"), std::string::npos);
  // gRPC logs this when it is handed material it cannot use.
  EXPECT_EQ(log.find("handshaker factory"), std::string::npos) << log;
}

// ---------------------------------------------------------------------------

// A throwaway PostgreSQL on a free loopback port for one test.
class ScopedPostgres {
 public:
  explicit ScopedPostgres(std::string dir) : dir_(std::move(dir)), port_(FreePort()) {}
  ~ScopedPostgres() { Stop(); }
  bool Start() { return Run("start"); }
  bool Stop() { return Run("stop"); }
  std::string Dsn() const { return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=wal user=wal"; }

 private:
  bool Run(const std::string& verb) {
    auto result = RunCommand({"/bin/bash", std::string(WAL_SOURCE_DIR) + "/scripts/test-servers/postgres.sh", verb,
                              dir_, std::to_string(port_)});
    EXPECT_EQ(result.exit_code, 0) << result.output;
    return result.exit_code == 0;
  }
  std::string dir_;
  int port_;
};

bool WaitUntil(const std::function<bool()>& condition, std::chrono::seconds limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return false;
}

TEST(Operations, PostgresControlPlaneReachesEveryInstanceAndSurvivesAnOutage) {
  TempDir dir;
  ScopedPostgres postgres(dir.path());
  ASSERT_TRUE(postgres.Start());
  // A poll interval far longer than the propagation asserted below: the change
  // has to arrive through NOTIFY, not through polling.
  const std::string store = "{type: postgres, dsn: \"" + postgres.Dsn() + "\", poll_interval: 30s}";
  Wald first(dir.path() + "/first");
  Wald second(dir.path() + "/second");
  first.config_store = second.config_store = store;
  first.Start();
  second.Start();

  const std::string file = dir.path() + "/audit.yaml";
  WriteText(file, std::string("name: audit\n") + kDelayed);
  const auto applied_at = std::chrono::steady_clock::now();
  auto applied = first.Walctl({"namespaces", "apply", file});
  ASSERT_EQ(applied.exit_code, 0) << applied.output;
  ASSERT_TRUE(WaitUntil([&] { return second.Walctl({"write", "audit", "hello"}).exit_code == 0; }));
  const auto propagation = std::chrono::steady_clock::now() - applied_at;
  std::cout << "propagation through PostgreSQL NOTIFY: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(propagation).count() << " ms\n";
  EXPECT_LT(propagation, std::chrono::seconds(3));

  // A policy change made on the second reaches the first.
  WriteText(file, std::string("name: audit\n") + kDelayed + "max_retries: 17\n");
  ASSERT_EQ(second.Walctl({"namespaces", "apply", file}).exit_code, 0);
  ASSERT_TRUE(WaitUntil([&] {
    return first.Walctl({"--json", "namespaces", "get", "audit"}).output.find("\"max_retries\":17") !=
           std::string::npos;
  })) << first.Walctl({"--json", "namespaces", "get", "audit"}).output;

  // Control-plane outage: the data path keeps working, changes are refused
  // with a clear error, and an instance restarted meanwhile serves from its cache.
  ASSERT_TRUE(postgres.Stop());
  EXPECT_EQ(first.Walctl({"write", "audit", "during the outage"}).exit_code, 0);
  auto refused = first.Walctl({"--json", "namespaces", "apply", file});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.output.find("UNAVAILABLE"), std::string::npos) << refused.output;
  EXPECT_EQ(second.Stop(), 0);
  second.Start();
  EXPECT_EQ(second.Walctl({"write", "audit", "served from the cache"}).exit_code, 0);
  EXPECT_NE(ReadText(second.log_path()).find("serving the 1 namespaces cached"), std::string::npos);

  // PostgreSQL back: a delete on the first reaches the restarted second.
  ASSERT_TRUE(postgres.Start());
  ASSERT_TRUE(WaitUntil([&] { return first.Walctl({"namespaces", "delete", "audit"}).exit_code == 0; }));
  ASSERT_TRUE(WaitUntil([&] { return second.Walctl({"namespaces", "get", "audit"}).exit_code != 0; },
                        std::chrono::seconds(15)));
}

TEST(Operations, ShardMapKeptInPostgresReachesEveryInstance) {
  TempDir dir;
  ScopedPostgres postgres(dir.path());
  ASSERT_TRUE(postgres.Start());
  const std::string store = "{type: postgres, dsn: \"" + postgres.Dsn() + "\", poll_interval: 30s}";
  Wald a(dir.path() + "/a");
  Wald b(dir.path() + "/b");
  a.config_store = b.config_store = store;
  a.extra_config = "shard: shard-a\n";
  b.extra_config = "shard: shard-b\n";
  a.Start();
  b.Start();
  EXPECT_NE(ReadText(a.log_path()).find("no shard map is stored yet"), std::string::npos);

  // Before any map: every instance serves every namespace.
  const std::string orders = dir.path() + "/orders.yaml";
  WriteText(orders, std::string("name: orders\n") + kDelayed);
  ASSERT_EQ(a.Walctl({"namespaces", "apply", orders}).exit_code, 0);
  ASSERT_TRUE(WaitUntil([&] { return a.Walctl({"write", "orders", "x"}).exit_code == 0; }));
  ASSERT_TRUE(WaitUntil([&] { return b.Walctl({"write", "orders", "x"}).exit_code == 0; }));

  // A map that would leave out the instance taking it is refused, and nothing is stored.
  const std::string map = dir.path() + "/shards.yaml";
  WriteText(map, "shards:\n  shard-b: {addresses: ['" + b.grpc_address() + "'], namespaces: [orders]}\n");
  auto refused = a.Walctl({"--json", "shards", "apply", map});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.output.find("INVALID_ARGUMENT"), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find("shard-a"), std::string::npos) << refused.output;
  EXPECT_EQ(b.Walctl({"--json", "shards", "get"}).output.find("orders"), std::string::npos);

  // orders moves to shard-b: applied on a, in force on a at once and on b
  // within moments (NOTIFY; the poll interval is 30 s).
  WriteText(map, "shards:\n"
                 "  shard-a: {addresses: ['" + a.grpc_address() + "'], namespaces: [audit]}\n"
                 "  shard-b: {addresses: ['" + b.grpc_address() + "'], http: ['" + b.http_address() +
                     "'], namespaces: [orders]}\n");
  auto applied = a.Walctl({"--json", "shards", "apply", map});
  ASSERT_EQ(applied.exit_code, 0) << applied.output;
  EXPECT_NE(applied.output.find("postgres"), std::string::npos) << applied.output;
  auto misdirected = a.Walctl({"--json", "write", "orders", "to the wrong shard"});
  EXPECT_EQ(misdirected.exit_code, 1);
  EXPECT_NE(misdirected.output.find("FAILED_PRECONDITION"), std::string::npos) << misdirected.output;
  EXPECT_NE(misdirected.output.find(b.grpc_address()), std::string::npos) << misdirected.output;
  ASSERT_TRUE(WaitUntil([&] { return b.Walctl({"--json", "shards", "get"}).output.find("orders") != std::string::npos; },
                        std::chrono::seconds(5)));
  auto over_http = b.Http().Get("/v1/shard-map");
  ASSERT_TRUE(over_http);
  EXPECT_EQ(over_http->status, 200);
  auto shown = nlohmann::json::parse(over_http->body);
  EXPECT_EQ(shown["shard"], "shard-b");
  EXPECT_NE(shown["source"].get<std::string>().find("postgres"), std::string::npos);
  EXPECT_EQ(b.Http().Get("/v1/namespaces/audit")->status, 421);

  // walctl --route asks any instance for the map and goes to the right shard.
  auto routed = a.Walctl({"--route", "write", "orders", "routed"});
  EXPECT_EQ(routed.exit_code, 0) << routed.output;

  // A restarted instance takes the stored map at start.
  EXPECT_EQ(a.Stop(), 0);
  a.Start();
  EXPECT_EQ(a.Walctl({"--json", "write", "orders", "x"}).exit_code, 1);
  EXPECT_NE(ReadText(a.log_path()).find("shard map from postgres"), std::string::npos);
}

// ---------------------------------------------------------------------------

TEST(Operations, MetricsAfterALoad) {
  TempDir dir;
  Wald wald(dir.path());
  wald.WriteNamespace("orders", std::string("name: orders\n") + kDelayed);
  wald.Start();
  auto channel = wald.Channel();
  std::vector<std::thread> writers;
  std::atomic<int> durable{0};
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        v1::WriteToLogResponse response;
        if (Write(channel.get(), Opaque("orders", "load"), &response).ok() && response.durable() == v1::TRUE) ++durable;
      }
    });
  }
  for (auto& writer : writers) writer.join();
  ASSERT_EQ(durable.load(), 200);
  v1::WriteToLogResponse response;
  EXPECT_EQ(Write(channel.get(), Opaque("missing", "x"), &response).error_code(), grpc::StatusCode::NOT_FOUND);
  wald.Http().Post("/v1/namespaces/orders/log:write", R"({"payload":{"opaque":"eA=="}})", "application/json");

  auto metrics = wald.Http().Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->get_header_value("Content-Type").find("text/plain"), std::string::npos);
  const std::string& text = metrics->body;
  for (const std::string expected : {
           "wal_writes_total{namespace=\"orders\",durable=\"TRUE\"} 201\n",
           "wal_writes_rejected_total{namespace=\"\",code=\"NOT_FOUND\"} 1\n",
           "wal_write_latency_seconds_count{namespace=\"orders\"} 201\n",
           "wal_write_latency_seconds_bucket{namespace=\"orders\",le=\"+Inf\"} 201\n",
           "wal_namespace_pending{namespace=\"orders\"} 201\n",
           "wal_namespace_pending_delayed{namespace=\"orders\"} 201\n",
           "wal_namespace_dead_letters{namespace=\"orders\"} 0\n",
           "wal_deliveries_total{namespace=\"orders\",result=\"delivered\"} 0\n",
           "wal_delivery_retries_total{namespace=\"orders\"} 0\n",
           "# TYPE wal_log_fsync_seconds histogram\n",
           "wal_up 1\n",
       }) {
    EXPECT_NE(text.find(expected), std::string::npos) << "missing: " << expected << "\n" << text;
  }
  // Every group commit was timed.
  auto count_at = text.find("wal_log_fsync_seconds_count ");
  ASSERT_NE(count_at, std::string::npos);
  EXPECT_GT(std::stoi(text.substr(count_at + 27)), 0);
  EXPECT_NE(text.find("wal_namespace_oldest_pending_age_seconds{namespace=\"orders\"}"), std::string::npos);
}

// ---------------------------------------------------------------------------

TEST(Operations, LimitsRefuseWithClearErrors) {
  TempDir dir;
  Wald wald(dir.path());
  wald.WriteNamespace("slow", std::string("name: slow\n") + kDelayed + "limits: {writes_per_second: 1, burst: 3}\n");
  wald.WriteNamespace("full", std::string("name: full\n") + kDelayed + "limits: {max_backlog: 5}\n");
  wald.Start();
  auto channel = wald.Channel();
  int refused = 0;
  grpc::Status last;
  for (int i = 0; i < 6; ++i) {
    v1::WriteToLogResponse response;
    grpc::Status status = Write(channel.get(), Opaque("slow", "x"), &response);
    if (!status.ok()) ++refused, last = status;
  }
  EXPECT_GE(refused, 2);
  EXPECT_EQ(last.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(last.error_message().find("write rate limit"), std::string::npos) << last.error_message();
  auto http = wald.Http().Post("/v1/namespaces/slow/log:write", R"({"payload":{"opaque":"eA=="}})", "application/json");
  EXPECT_EQ(http->status, 429);

  for (int i = 0; i < 5; ++i) {
    v1::WriteToLogResponse response;
    ASSERT_TRUE(Write(channel.get(), Opaque("full", "x"), &response).ok());
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the backlog is sampled every 100 ms
  v1::WriteToLogResponse response;
  grpc::Status backlog = Write(channel.get(), Opaque("full", "x"), &response);
  EXPECT_EQ(backlog.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(backlog.error_message().find("max_backlog"), std::string::npos) << backlog.error_message();
  auto metrics = wald.Http().Get("/metrics");
  EXPECT_NE(metrics->body.find("wal_writes_rejected_total{namespace=\"full\",code=\"RESOURCE_EXHAUSTED\"} 1"),
            std::string::npos);
}

// ---------------------------------------------------------------------------

TEST(Operations, JsonLogsCarryRequestIdsAndNamespaces) {
  TempDir dir;
  Wald wald(dir.path());
  wald.extra_config = "log_format: json\n";
  wald.WriteNamespace("orders", std::string("name: orders\n") + kDelayed +
                                    "access: {tokens: [{name: app, sha256: " + Sha256("app-token") +
                                    ", scopes: [write]}]}\n");
  wald.Start();
  grpc::ClientContext context;
  context.AddMetadata("x-request-id", "req-grpc-42");
  v1::WriteToLogResponse response;
  grpc::Status status = Write(wald.Channel().get(), Opaque("orders", "x"), &response, "not-the-token", &context);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  auto echoed = context.GetServerInitialMetadata().find("x-request-id");
  ASSERT_NE(echoed, context.GetServerInitialMetadata().end());
  EXPECT_EQ(std::string(echoed->second.data(), echoed->second.size()), "req-grpc-42");

  auto http = wald.Http().Post("/v1/namespaces/orders/log:write", {{"X-Request-Id", "req-http-7"}},
                               R"({"payload":{"opaque":"eA=="}})", "application/json");
  EXPECT_EQ(http->status, 401);
  EXPECT_EQ(http->get_header_value("X-Request-Id"), "req-http-7");
  EXPECT_EQ(wald.Http().Get("/healthz")->get_header_value("X-Request-Id").size(), 16u);  // generated
  wald.Stop();

  std::set<std::string> ids;
  std::istringstream lines(ReadText(wald.log_path()));
  std::string line;
  int parsed = 0;
  while (std::getline(lines, line)) {
    if (line.empty() || line.front() != '{') continue;
    auto json = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(json.is_discarded()) << line;
    ++parsed;
    EXPECT_TRUE(json.contains("time") && json.contains("level") && json.contains("msg")) << line;
    if (json.contains("request_id")) {
      ids.insert(json["request_id"]);
      // Both refused writes named orders: their lines say so in a field of its own.
      EXPECT_EQ(json.value("namespace", ""), "orders") << line;
    }
  }
  EXPECT_GT(parsed, 2);
  EXPECT_TRUE(ids.count("req-grpc-42")) << ReadText(wald.log_path());
  EXPECT_TRUE(ids.count("req-http-7")) << ReadText(wald.log_path());
  EXPECT_EQ(ReadText(wald.log_path()).find("not-the-token"), std::string::npos);
}

// ---------------------------------------------------------------------------

TEST(Operations, GracefulShutdownUnderLoadLosesNothingAnsweredTrue) {
  TempDir dir;
  Wald wald(dir.path());
  wald.WriteNamespace("orders", std::string("name: orders\n") + kDelayed);
  wald.Start();
  auto channel = wald.Channel();
  std::mutex mutex;
  std::map<uint64_t, std::string> acknowledged;  // id -> payload answered TRUE
  std::atomic<int> refused{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int t = 0; t < 8; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; !stop.load(); ++i) {
        const std::string payload = "w" + std::to_string(t) + "-" + std::to_string(i);
        v1::WriteToLogResponse response;
        grpc::Status status = Write(channel.get(), Opaque("orders", payload), &response);
        if (status.ok() && response.durable() == v1::TRUE) {
          std::lock_guard lock(mutex);
          acknowledged[response.id()] = payload;
        } else {
          ++refused;
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  wald.Signal(SIGTERM);
  EXPECT_EQ(wald.Wait(), 0) << ReadText(wald.log_path());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  stop = true;
  for (auto& writer : writers) writer.join();
  ASSERT_GT(acknowledged.size(), 50u);

  wald.Start();
  std::map<uint64_t, std::string> stored;
  auto admin = v1::Admin::NewStub(wald.Channel());
  uint64_t next = 0;
  while (true) {
    grpc::ClientContext context;
    v1::ReadLogRequest read;
    read.set_namespace_("orders");
    read.set_from_id(next);
    read.set_limit(10000);
    v1::ReadLogResponse log;
    ASSERT_TRUE(admin->ReadLog(&context, read, &log).ok());
    if (log.entries().empty()) break;
    for (const auto& entry : log.entries()) {
      const auto& payload = entry.record().fields().at("payload").struct_value().fields();
      stored[entry.id()] = payload.at("opaque").string_value();  // base64 in the JSON view
    }
    next = log.next_id();
  }
  size_t missing = 0;
  for (const auto& [id, payload] : acknowledged) {
    auto found = stored.find(id);
    if (found == stored.end()) {
      ++missing;
      continue;
    }
    EXPECT_EQ(found->second, Base64(payload)) << "entry " << id;
  }
  EXPECT_EQ(missing, 0u) << "of " << acknowledged.size() << " acknowledged writes";
  // The log ends where the last acknowledged write was.
  EXPECT_GE(stored.size(), acknowledged.size());
  EXPECT_EQ(wald.Stop(), 0);
}

}  // namespace
}  // namespace wal::testing
