// Hostile input against a live wald: thousands of malformed, mutated and random
// HTTP requests over raw sockets and gRPC requests as raw bytes on every method.
// wald must answer each one it can parse with a well-formed error or success
// (never a 5xx, never a hang) and must still be serving at the end.
//
// Seeded: WAL_HOSTILE_SEED=<n> replays a run; a failure prints the seed, the
// case number and the request. Bounded: each phase stops at its time budget.
#include <gtest/gtest.h>
#include <grpcpp/generic/generic_stub.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <future>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "grpc/health/v1/health.grpc.pb.h"
#include "wal/v1/admin.grpc.pb.h"
#include "wal/v1/wal.grpc.pb.h"
#include "wald_process.h"

namespace wal::testing {
namespace {

using Clock = std::chrono::steady_clock;

// sha256("s3cret-token"): the "secured" namespace's token.
constexpr const char* kToken = "s3cret-token";
constexpr const char* kTokenSha256 = "a81e611a041b13f078bf8ebe5dab4d4fd63fcc5594661c918bec093a2f416a7e";

// "sentinel" is never named by the generated requests, so the closing checks
// find it as it was configured whatever the requests did to the others.
constexpr const char* kNamespaces[][2] = {
    {"orders", "name: orders\nbackend: {type: local, local: {segment_bytes: 1048576, preallocate: false}}\n"
               "max_payload_bytes: 65536\n"},
    {"secured", "name: secured\nbackend: {type: local, local: {segment_bytes: 1048576, preallocate: false}}\n"},
    {"sentinel", "name: sentinel\nbackend: {type: local, local: {segment_bytes: 1048576, preallocate: false}}\n"},
};

uint64_t Seed() {
  const char* text = std::getenv("WAL_HOSTILE_SEED");
  return text != nullptr ? std::strtoull(text, nullptr, 10) : 20240611;
}

// Printable form of request bytes for failure messages.
std::string Printable(const std::string& bytes, size_t limit = 600) {
  std::string out;
  for (size_t i = 0; i < bytes.size() && out.size() < limit; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c >= 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (bytes.size() > limit) out += "... (" + std::to_string(bytes.size()) + " bytes)";
  return out;
}

// ---------------------------------------------------------------------------
// Raw HTTP exchange

struct HttpAnswer {
  bool answered = false;  // a status line arrived
  int status = 0;
  std::string content_type;
  std::string body;
  std::string problem;  // set when what arrived is not a well-formed HTTP response
};

bool SendAll(int fd, const std::string& bytes, Clock::time_point deadline) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    pollfd descriptor{fd, POLLOUT, 0};
    if (::poll(&descriptor, 1, 100) <= 0) {
      if (Clock::now() > deadline) return false;
      continue;
    }
    ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;  // the server may close early (413, 400): not an error by itself
    sent += static_cast<size_t>(n);
  }
  return true;
}

// Sends `bytes` on a fresh connection and reads one response. A request the
// bytes leave unfinished would make wald wait for the rest (its read timeout
// is 5 s), so when `patient` is false and nothing arrives for a moment, a filler
// ("\r\n\r\n", padding, a last chunk) is sent that finishes most framings; if
// that brings nothing either, the exchange ends unanswered. (Half-closing the
// socket instead would make httplib drop the response: it sees the peer gone.)
HttpAnswer Exchange(int port, const std::string& bytes, bool head, bool patient = true) {
  HttpAnswer answer;
  int fd = ConnectLoopback(port);
  if (fd < 0) {
    answer.problem = "cannot connect: wald is not listening";
    return answer;
  }
  const auto deadline = Clock::now() + std::chrono::seconds(15);
  SendAll(fd, bytes, deadline);
  auto quiet_until = Clock::now() + std::chrono::milliseconds(patient ? 15000 : 150);
  bool nudged = false;
  std::string received;
  size_t header_end = std::string::npos;
  size_t body_start = 0;
  size_t wanted = std::string::npos;
  char buffer[65536];
  while (Clock::now() < deadline) {
    if (header_end == std::string::npos) {
      header_end = received.find("\r\n\r\n", body_start);
      if (header_end != std::string::npos) {
        const std::string head_text = received.substr(body_start, header_end - body_start);
        // Interim 1xx answers (100 Continue) precede the real one.
        if (head_text.rfind("HTTP/1.1 1", 0) == 0) {
          body_start = header_end + 4;
          header_end = std::string::npos;
          continue;
        }
        if (head_text.size() < 12 || head_text.rfind("HTTP/1.", 0) != 0) {
          answer.problem = "not an HTTP status line: " + Printable(head_text, 100);
          break;
        }
        answer.answered = true;
        answer.status = std::atoi(head_text.substr(9, 3).c_str());
        wanted = 0;
        size_t line = head_text.find("\r\n");
        while (line != std::string::npos) {
          size_t next = head_text.find("\r\n", line + 2);
          std::string header = head_text.substr(line + 2, next == std::string::npos ? std::string::npos : next - line - 2);
          std::string lower = header;
          for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          if (lower.rfind("content-length:", 0) == 0) wanted = std::strtoull(header.c_str() + 15, nullptr, 10);
          if (lower.rfind("content-type:", 0) == 0) answer.content_type = header.substr(14);
          line = next;
        }
        if (head) wanted = 0;
        body_start = header_end + 4;
      }
    }
    if (header_end != std::string::npos && received.size() - body_start >= wanted) break;
    if (received.empty() && Clock::now() > quiet_until) {
      if (nudged) break;
      nudged = true;
      SendAll(fd, "\r\n\r\n" + std::string(256, 'x') + "\r\n0\r\n\r\n", deadline);
      quiet_until = Clock::now() + std::chrono::milliseconds(150);
    }
    pollfd descriptor{fd, POLLIN, 0};
    if (::poll(&descriptor, 1, 20) <= 0) continue;
    ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    received.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  if (!answer.problem.empty()) return answer;
  if (header_end == std::string::npos) {
    if (received.size() > body_start) answer.problem = "partial response: " + Printable(received, 200);
    if (received.empty() && patient) answer.problem = "no answer within 15 s";
    return answer;
  }
  if (received.size() - body_start < wanted) {
    answer.problem = "body shorter than its Content-Length";
    return answer;
  }
  answer.body = received.substr(body_start, wanted);
  return answer;
}

// "" when `answer` is an acceptable answer; else what is wrong with it.
std::string Judge(const HttpAnswer& answer, bool head) {
  if (!answer.problem.empty()) return answer.problem;
  if (!answer.answered) return "";
  if (answer.status >= 500) return "HTTP " + std::to_string(answer.status) + ": " + Printable(answer.body, 300);
  if (answer.status < 200) return "HTTP " + std::to_string(answer.status);
  if (head) return "";
  if (answer.content_type.rfind("text/plain", 0) == 0 && answer.status < 300) return "";
  const nlohmann::json body = nlohmann::json::parse(answer.body, nullptr, false);
  if (body.is_discarded()) return "HTTP " + std::to_string(answer.status) + " body is not JSON: " + Printable(answer.body, 300);
  if (answer.status >= 400) {
    const bool shaped = body.is_object() && body.contains("error") && body["error"].is_object() &&
                        body["error"].value("code", 0) == answer.status && body["error"].contains("message") &&
                        body["error"]["message"].is_string() && body["error"].contains("status") &&
                        body["error"]["status"].is_string();
    if (!shaped) {
      return "HTTP " + std::to_string(answer.status) + " error body lacks error.code/message/status: " +
             Printable(answer.body, 300);
    }
  }
  return "";
}

// ---------------------------------------------------------------------------
// HTTP request generation

struct HttpCase {
  std::string method;
  std::string target;  // path and query, as sent (already percent-encoded)
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool chunked = false;
  bool complete = true;  // a well-framed request: it must get an answer
};

std::string Serialize(const HttpCase& request) {
  std::string out = request.method + " " + request.target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  bool has_length = false;
  for (const auto& [name, value] : request.headers) {
    out += name + ": " + value + "\r\n";
    if (name == "Content-Length" || name == "Transfer-Encoding") has_length = true;
  }
  if (request.chunked) {
    out += "Transfer-Encoding: chunked\r\n\r\n";
    char size[32];
    std::snprintf(size, sizeof(size), "%zx\r\n", request.body.size());
    if (!request.body.empty()) out += size + request.body + "\r\n";
    out += "0\r\n\r\n";
    return out;
  }
  if (!has_length && (!request.body.empty() || request.method == "POST" || request.method == "PUT")) {
    out += "Content-Length: " + std::to_string(request.body.size()) + "\r\n";
  }
  return out + "\r\n" + request.body;
}

class Generator {
 public:
  explicit Generator(uint64_t seed) : random_(seed) {}

  size_t Below(size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<size_t>(0, n - 1)(random_); }
  bool OneIn(size_t n) { return Below(n) == 0; }
  char Byte() { return static_cast<char>(Below(256)); }
  template <typename T>
  const T& Pick(const std::vector<T>& items) { return items[Below(items.size())]; }

  std::string RandomBytes(size_t max) {
    std::string out(Below(max + 1), '\0');
    for (char& c : out) c = Byte();
    return out;
  }

  // A valid request for one of the routes.
  HttpCase Template() {
    static const std::vector<HttpCase> kTemplates = {
        {"POST", "/v1/namespaces/orders/log:write", {}, R"({"payload":{"opaque":"aGVsbG8="}})"},
        {"POST", "/v1/namespaces/orders/log:write", {},
         R"({"namespace":"orders","lifecycle":{"delay":"1.5s","write_time":"2024-01-01T00:00:00Z"},)"
         R"("payload":{"mutation":{"op":"PUT","table":"t","key":"aw==","value":"dg==","ttl":"60s"}},"idempotency_key":"k1"})"},
        {"POST", "/v1/namespaces/orders/log:write", {},
         R"({"payload":{"mutation_set":{"mutations":[{"op":"PUT","key":"YQ==","value":"MQ==","sequence":"1"},)"
         R"({"op":"DELETE","key":"Yg==","sequence":"2"}]}}})"},
        {"POST", "/v1/namespaces/orders/log:write", {},
         R"({"payload":{"opaque":"eA=="},"target":{"type":"http","settings":{"url":"http://127.0.0.1:1/x"}}})"},
        {"POST", "/v1/namespaces/secured/log:write", {{"Authorization", std::string("Bearer ") + kToken}},
         R"({"payload":{"opaque":"c2VjcmV0"}})"},
        {"GET", "/v1/namespaces", {}, ""},
        {"GET", "/v1/namespaces/orders", {}, ""},
        {"GET", "/v1/namespaces/secured", {{"Authorization", std::string("Bearer ") + kToken}}, ""},
        {"PUT", "/v1/namespaces/scratch", {}, R"({"backend":{"type":"local","local":{"preallocate":false}},"max_payload_bytes":1024})"},
        {"DELETE", "/v1/namespaces/scratch?purge_data=true", {}, ""},
        {"GET", "/v1/status", {}, ""},
        {"GET", "/v1/status?namespace=orders", {}, ""},
        {"GET", "/v1/namespaces/orders/log?from=0&limit=5", {}, ""},
        {"GET", "/v1/namespaces/orders/dlq?from=0&limit=5", {}, ""},
        {"POST", "/v1/namespaces/orders/dlq:redrive", {}, R"({"ids":["1","2"]})"},
        {"POST", "/v1/namespaces/orders/dlq:purge", {}, R"({"ids":["99"]})"},
        {"GET", "/v1/shard-map", {}, ""},
        {"PUT", "/v1/shard-map", {}, "shards:\n  a: {addresses: ['127.0.0.1:1'], namespaces: [orders]}\n"},
        {"GET", "/healthz", {}, ""},
        {"HEAD", "/healthz", {}, ""},
        {"GET", "/readyz", {}, ""},
        {"GET", "/metrics", {}, ""},
        {"OPTIONS", "/v1/namespaces", {}, ""},
        {"PATCH", "/v1/namespaces/orders", {}, "{}"},
    };
    return Pick(kTemplates);
  }

  std::string HostilePathPiece() {
    static const std::vector<std::string> kPieces = {
        "%FF", "%C0%AF", "%ED%A0%80", "%F4%90%80%80", "%E2%82", "%00", "%0A", "%0D%0A", "..", "../..", "%2e%2e%2f",
        "..%2F..%2Fetc%2Fpasswd", "//", "/./", ":", ":write", "%3A", "%25", "%", "%G1", "~", "\xff", "\xc3\x28",
        "%F0%9F%92%A9", "orders", "ORDERS", "orders.", "-", "_", std::string(2000, 'a'), std::string(9000, 'b'),
        "%20", "+", "?", "#frag", ";x=y", "\\", "%5C",
    };
    return Pick(kPieces);
  }

  // Replaces `text` (JSON) with a hostile variant.
  std::string MutateJson(const std::string& text) {
    switch (Below(14)) {
      case 0: return text.substr(0, Below(text.size() + 1));                        // truncated
      case 1: return std::string(Below(20000) + 1, '[');                            // deep, unterminated
      case 2: {
        const size_t depth = Below(3000) + 1;                                       // deep, terminated
        return R"({"payload":{"opaque":"eA=="},"target":{"type":"http","settings":{"x":)" + std::string(depth, '[') +
               std::string(depth, ']') + "}}}";
      }
      case 3: {
        std::string out = text;                                                     // invalid UTF-8 in a string
        const size_t quote = out.find('"');
        if (quote != std::string::npos) out.insert(quote + 1, Pick<std::string>({"\xff", "\xc0\xaf", "\xed\xa0\x80", "\x80"}));
        return out;
      }
      case 4: return R"({"payload":{"opaque":"\ud800"},"namespace":"\udfff\u0000"})";  // lone surrogates, NUL
      case 5: return R"({"payload":{"opaque":5},"lifecycle":{"delay":"abc"}})";          // wrong types
      case 6: return R"({"payload":{"mutation":{"op":"EXPLODE","key":[]}},"lifecycle":{"delay":"-99999999999s"}})";
      case 7: return R"({"lifecycle":{"delay":"315576000001s","write_time":"9999-99-99T99:99:99Z"},"payload":{"opaque":"!!"}})";
      case 8: return R"({"payload":{"opaque":"eA=="},"payload":{"opaque":"eQ=="},"idempotency_key":1e999})";
      case 9: return "{\"payload\":{\"opaque\":\"" + std::string(Below(300000), 'A') + "\"}}";
      case 10: return R"({"ids":["-1","18446744073709551616","x",null,{}],"name":7,"backend":{"type":["local"]}})";
      case 11: return R"({"backend":{"type":"local","local":{"segment_bytes":"-1"}},"retry":{"max_attempts":1e300},"name":"scratch"})";
      case 12: {
        std::string out = text;                                                     // byte flips
        for (size_t flips = Below(4) + 1; flips > 0 && !out.empty(); --flips) out[Below(out.size())] = Byte();
        return out;
      }
      default: return RandomBytes(200);
    }
  }

  HttpCase Mutated() {
    HttpCase request = Template();
    const size_t mutations = Below(3) + 1;
    for (size_t m = 0; m < mutations; ++m) {
      switch (Below(12)) {
        case 0:  // a hostile path piece in the namespace segment or anywhere
          if (request.target.rfind("/v1/namespaces/", 0) == 0 && OneIn(2)) {
            const size_t end = request.target.find_first_of("/?:", 15);
            request.target = "/v1/namespaces/" + HostilePathPiece() +
                             (end == std::string::npos ? "" : request.target.substr(end));
          } else {
            request.target.insert(Below(request.target.size() + 1), HostilePathPiece());
          }
          break;
        case 1: {  // hostile query
          static const std::vector<std::string> kQueries = {
              "from=-1", "limit=99999999999999999999", "limit=10001", "from=abc", "limit=", "from=1&from=2",
              "namespace=%FF", "namespace=orders&namespace=secured", "purge_data=maybe", "purge_data=%00", "=&&=",
              "%FF=%FF", "limit=5%00", "a=" + std::string(5000, 'x'), "from=18446744073709551615",
              "from=18446744073709551616"};
          request.target += (request.target.find('?') == std::string::npos ? "?" : "&") + Pick(kQueries);
          break;
        }
        case 2:  // the method
          request.method = Pick<std::string>({"GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS", "get",
                                              "TRACE", "CONNECT", "BREW", "G\xffT", "POST\x00"});
          break;
        case 3:  // huge or many headers
          if (OneIn(2)) {
            request.headers.emplace_back("X-Big", std::string(Below(20000) + 1, 'h'));
          } else {
            for (size_t i = Below(300) + 1; i > 0; --i) request.headers.emplace_back("X-H" + std::to_string(i), "v");
          }
          break;
        case 4:  // hostile auth and request-id headers
          request.headers.emplace_back(
              Pick<std::string>({"Authorization", "X-Request-Id", "authorization", "x-request-id"}),
              Pick<std::string>({"Bearer", "Bearer ", "Bearer \xff\xfe", "Basic Zm9vOmJhcg==", "bearer x y z",
                                 std::string("Bearer ") + std::string(10000, 't'), "\"quoted\"", "id with spaces",
                                 std::string(200, 'r'), "\x01\x02"}));
          break;
        case 5:  // body
          request.body = MutateJson(request.body.empty() ? std::string(R"({"x":1})") : request.body);
          break;
        case 6:  // chunked framing of the body
          request.chunked = true;
          break;
        case 7:  // a Content-Length that does not fit the body: the request ends early or runs over
          request.headers.emplace_back(
              "Content-Length", Pick<std::string>({"0", "-1", "abc", "99999999999999999999", "18446744073709551615",
                                                   std::to_string(request.body.size() + 1 + Below(50)),
                                                   std::to_string(request.body.size() / 2), "1, 2", " 5"}));
          request.complete = false;
          break;
        case 8:  // odd transfer encodings
          request.headers.emplace_back("Transfer-Encoding",
                                       Pick<std::string>({"gzip", "chunked, chunked", "identity", "x"}));
          request.complete = false;
          break;
        case 9:  // content types and expectations
          request.headers.emplace_back(Pick<std::string>({"Content-Type", "Expect", "Content-Encoding", "Range"}),
                                       Pick<std::string>({"application/json; charset=latin1", "100-continue",
                                                          "text/plain", "multipart/form-data; boundary=x", "gzip",
                                                          "bytes=0-1,5-", "bytes=99999999999999999999-"}));
          break;
        case 10:  // a header line without a colon or with bad bytes
          request.headers.emplace_back(Pick<std::string>({"NoColon\r\nX", "Bad Name", "\xff\xfe", "X-Nul"}),
                                       Pick<std::string>({"v", "\xff", std::string("a\0b", 3)}));
          request.complete = false;
          break;
        default:  // the target itself
          request.target = Pick<std::string>({"*", "", "http://127.0.0.1/v1/namespaces", "v1/namespaces", "/",
                                              std::string(9000, '/'), "/v1/namespaces/" + std::string(8100, 'n')});
          break;
      }
    }
    return request;
  }

  // Serialized bytes with byte-level damage (answer optional).
  std::string Damaged(std::string bytes) {
    for (size_t edits = Below(6) + 1; edits > 0; --edits) {
      if (bytes.empty()) break;
      const size_t at = Below(bytes.size());
      switch (Below(4)) {
        case 0: bytes[at] = Byte(); break;
        case 1: bytes.erase(at, Below(8) + 1); break;
        case 2: bytes.insert(at, RandomBytes(8)); break;
        default: bytes.insert(at, Pick<std::string>({"\r\n", "\r\n\r\n", "\n", ":", " ", "%"})); break;
      }
    }
    return bytes;
  }

  std::mt19937_64& engine() { return random_; }

 private:
  std::mt19937_64 random_;
};

// ---------------------------------------------------------------------------
// gRPC request generation

struct GrpcMethod {
  std::string path;
  std::string valid;  // a serialized valid request
};

std::vector<GrpcMethod> GrpcMethods() {
  std::vector<GrpcMethod> methods;
  auto add = [&](std::string path, const google::protobuf::Message& message) {
    methods.push_back({std::move(path), message.SerializeAsString()});
  };
  v1::WriteToLogRequest write;
  write.set_namespace_("orders");
  write.mutable_payload()->set_opaque("hello");
  write.mutable_lifecycle()->mutable_delay()->set_seconds(1);
  add("/wal.v1.WriteAheadLog/WriteToLog", write);
  v1::WriteToLogRequest mutation;
  mutation.set_namespace_("orders");
  auto* put = mutation.mutable_payload()->mutable_mutation_set()->add_mutations();
  put->set_op(v1::Mutation::PUT);
  put->set_key("k");
  put->set_value("v");
  put->set_sequence(1);
  (*mutation.mutable_target()->mutable_settings()->mutable_fields())["url"].set_string_value("http://127.0.0.1:1/");
  mutation.mutable_target()->set_type("http");
  add("/wal.v1.WriteAheadLog/WriteToLog", mutation);
  add("/wal.v1.Admin/ListNamespaces", v1::ListNamespacesRequest());
  v1::GetNamespaceRequest get;
  get.set_name("orders");
  add("/wal.v1.Admin/GetNamespace", get);
  v1::ApplyNamespaceRequest apply;
  auto& fields = *apply.mutable_config()->mutable_fields();
  fields["name"].set_string_value("scratch");
  (*fields["backend"].mutable_struct_value()->mutable_fields())["type"].set_string_value("local");
  fields["max_payload_bytes"].set_number_value(1024);
  add("/wal.v1.Admin/ApplyNamespace", apply);
  v1::DeleteNamespaceRequest remove;
  remove.set_name("scratch");
  remove.set_purge_data(true);
  add("/wal.v1.Admin/DeleteNamespace", remove);
  v1::GetStatusRequest status;
  status.set_namespace_("orders");
  add("/wal.v1.Admin/GetStatus", status);
  v1::ReadLogRequest read;
  read.set_namespace_("orders");
  read.set_limit(5);
  add("/wal.v1.Admin/ReadLog", read);
  v1::ListDeadLettersRequest dead;
  dead.set_namespace_("orders");
  dead.set_limit(5);
  add("/wal.v1.Admin/ListDeadLetters", dead);
  v1::RedriveDeadLettersRequest redrive;
  redrive.set_namespace_("orders");
  redrive.add_ids(1);
  add("/wal.v1.Admin/RedriveDeadLetters", redrive);
  v1::PurgeDeadLettersRequest purge;
  purge.set_namespace_("orders");
  purge.add_ids(7);
  add("/wal.v1.Admin/PurgeDeadLetters", purge);
  add("/wal.v1.Admin/GetShardMap", v1::GetShardMapRequest());
  v1::ApplyShardMapRequest map;
  map.set_map("shards: {a: {addresses: ['127.0.0.1:1']}}");
  add("/wal.v1.Admin/ApplyShardMap", map);
  add("/grpc.health.v1.Health/Check", grpc::health::v1::HealthCheckRequest());
  return methods;
}

std::string MutateMessage(Generator& generator, std::string bytes) {
  switch (generator.Below(8)) {
    case 0: return generator.RandomBytes(300);
    case 1: return bytes.substr(0, generator.Below(bytes.size() + 1));
    case 2: {
      // A field with a length far past the end.
      return bytes + std::string("\x0a\xff\xff\xff\xff\x0f", 6) + "short";
    }
    case 3: {
      // Deeply nested groups / messages: a tag of field 1 (length-delimited), over and over.
      std::string nested;
      for (size_t depth = generator.Below(2000) + 1; depth > 0; --depth) nested = "\x1a" + std::string(1, '\x00') + nested;
      return bytes + nested;
    }
    case 4: {
      // Invalid UTF-8 in the first string field (proto3 strings must be UTF-8).
      if (bytes.size() > 2) bytes[2] = '\xff';
      return bytes;
    }
    case 5: {
      // Unknown fields of every wire type.
      return bytes + std::string("\xf8\x7f\x01\xfd\x7f\x01\x02\x03\x04\xf9\x7f\x01\x02\x03\x04\x05\x06\x07\x08\xfb\x7f", 21);
    }
    default: {
      for (size_t flips = generator.Below(5) + 1; flips > 0 && !bytes.empty(); --flips) {
        bytes[generator.Below(bytes.size())] = generator.Byte();
      }
      return bytes;
    }
  }
}

class HostileInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    wald_ = std::make_unique<WaldProcess>(dir_.path());
    for (const auto& [name, yaml] : kNamespaces) wald_->WriteNamespaceFile(name, yaml);
    std::string secured = kNamespaces[1][1];
    secured += std::string("access:\n  tokens:\n    - {name: svc, sha256: ") + kTokenSha256 + ", scopes: [write, read]}\n";
    wald_->WriteNamespaceFile("secured", secured);
    wald_->Start();
  }

  // The closing checks: wald answers health checks and takes a valid write on
  // both transports with durable=TRUE.
  void ExpectStillServing() {
    HttpAnswer health = Exchange(wald_->http_port(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", false);
    ASSERT_TRUE(health.answered) << health.problem;
    EXPECT_EQ(health.status, 200);
    const std::string body = R"({"payload":{"opaque":"c3RpbGwgdXA="}})";
    HttpAnswer write = Exchange(wald_->http_port(),
                                "POST /v1/namespaces/sentinel/log:write HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                                    std::to_string(body.size()) + "\r\n\r\n" + body,
                                false);
    ASSERT_TRUE(write.answered) << write.problem;
    EXPECT_EQ(write.status, 200) << write.body;
    EXPECT_NE(write.body.find(R"("durable":"TRUE")"), std::string::npos) << write.body;

    auto channel = wald_->Channel();
    grpc::health::v1::HealthCheckResponse serving;
    grpc::ClientContext health_context;
    health_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    ASSERT_TRUE(grpc::health::v1::Health::NewStub(channel)
                    ->Check(&health_context, grpc::health::v1::HealthCheckRequest(), &serving)
                    .ok());
    EXPECT_EQ(serving.status(), grpc::health::v1::HealthCheckResponse::SERVING);
    v1::WriteToLogRequest request;
    request.set_namespace_("sentinel");
    request.mutable_payload()->set_opaque("still up");
    v1::WriteToLogResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::Status status = v1::WriteAheadLog::NewStub(channel)->WriteToLog(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.durable(), v1::TRUE) << response.message();
  }

  // Sends one HTTP request; fails the test (with the replay information) when
  // the answer is not acceptable. Returns false once wald stops answering.
  bool SendHttp(const std::string& where, const std::string& bytes, bool head, bool must_answer) {
    HttpAnswer answer = Exchange(wald_->http_port(), bytes, head, must_answer);
    std::string problem = Judge(answer, head);
    if (problem.empty() && must_answer && !answer.answered) problem = "a well-framed request got no answer";
    if (!problem.empty()) {
      ADD_FAILURE() << "seed " << seed_ << ", " << where << ": " << problem << "\nrequest: " << Printable(bytes);
      return answer.problem.find("cannot connect") == std::string::npos;
    }
    if (answer.answered) ++http_answered_;
    return true;
  }

  TempDir dir_;
  std::unique_ptr<WaldProcess> wald_;
  const uint64_t seed_ = Seed();
  std::atomic<size_t> http_answered_{0};
};

TEST_F(HostileInputTest, PathThatIsNotUtf8GetsAJsonErrorAndWaldKeepsServing) {
  // A percent-encoded 0xFF in an unknown path: the 404 body quotes the path.
  HttpAnswer answer = Exchange(wald_->http_port(), "GET /%FF HTTP/1.1\r\nHost: x\r\n\r\n", false);
  ASSERT_TRUE(answer.answered) << answer.problem;
  EXPECT_EQ(answer.status, 400);
  EXPECT_EQ(Judge(answer, false), "");
  // The same byte in a namespace name on every route.
  for (const char* path : {"/v1/namespaces/%FF", "/v1/namespaces/%FF/log", "/v1/namespaces/%C0%AF/dlq",
                           "/v1/namespaces/%ED%A0%80/log:write", "/v1/status?namespace=%FF"}) {
    const std::string method = std::string(path).find("log:write") != std::string::npos ? "POST" : "GET";
    HttpAnswer named = Exchange(wald_->http_port(),
                                method + " " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", false);
    ASSERT_TRUE(named.answered) << path << ": " << named.problem;
    EXPECT_EQ(named.status, 400) << path << ": " << named.body;
    EXPECT_EQ(Judge(named, false), "") << path;
  }
  ExpectStillServing();
}

TEST_F(HostileInputTest, ThousandsOfMalformedHttpRequestsGetWellFormedAnswers) {
  // One body over max_request_bytes (72 MiB): 413, not a crash or a hang.
  ASSERT_TRUE(SendHttp("oversized body",
                       "POST /v1/namespaces/orders/log:write HTTP/1.1\r\nHost: x\r\nContent-Length: 75600000\r\n\r\n" +
                           std::string(75600000, '{'),
                       false, false));
  // Four clients at once (wald serves HTTP on 16 threads); each replays from
  // its own seed, so a failure names the worker and the case.
  constexpr size_t kWorkers = 4;
  constexpr size_t kCasesPerWorker = 1500;
  const auto budget_end = Clock::now() + std::chrono::seconds(25);
  std::atomic<size_t> sent{0};
  std::vector<std::thread> workers;
  for (size_t worker = 0; worker < kWorkers; ++worker) {
    workers.emplace_back([&, worker] {
      Generator generator(seed_ + worker);
      for (size_t index = 0; index < kCasesPerWorker && Clock::now() < budget_end; ++index) {
        std::string bytes;
        bool head = false;
        bool must_answer = false;
        const size_t kind = generator.Below(10);
        if (kind < 2) {
          HttpCase request = generator.Template();
          head = request.method == "HEAD";
          bytes = Serialize(request);
          must_answer = true;
        } else if (kind < 8) {
          HttpCase request = generator.Mutated();
          head = request.method == "HEAD";
          bytes = Serialize(request);
          must_answer = request.complete;
        } else if (kind < 9) {
          HttpCase request = generator.Template();
          head = request.method == "HEAD";
          bytes = generator.Damaged(Serialize(request));
        } else {
          bytes = generator.RandomBytes(2000);
        }
        ++sent;
        const std::string where = "worker " + std::to_string(worker) + " case " + std::to_string(index);
        if (!SendHttp(where, bytes, head, must_answer)) return;
      }
    });
  }
  for (auto& worker : workers) worker.join();
  std::printf("HTTP: %zu requests sent, %zu answered acceptably (seed %llu)\n", sent.load(), http_answered_.load(),
              static_cast<unsigned long long>(seed_));
  EXPECT_GE(sent.load(), 1000u) << "too few requests within the time budget to mean much";
  ExpectStillServing();
}

TEST_F(HostileInputTest, ThousandsOfMalformedGrpcRequestsGetStatusCodes) {
  Generator generator(seed_);
  const std::vector<GrpcMethod> methods = GrpcMethods();
  auto channel = wald_->Channel();
  grpc::GenericStub stub(channel);
  const auto budget_end = Clock::now() + std::chrono::seconds(20);
  size_t sent = 0;
  size_t ok = 0;
  std::map<grpc::StatusCode, size_t> codes;
  for (; sent < 6000 && Clock::now() < budget_end; ++sent) {
    const GrpcMethod& method = generator.Pick(methods);
    const std::string bytes = generator.OneIn(6) ? method.valid : MutateMessage(generator, method.valid);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (generator.OneIn(4)) {
      context.AddMetadata(generator.OneIn(2) ? "authorization" : "x-request-id",
                          generator.Pick<std::string>({"Bearer", "Bearer ", std::string("Bearer ") + kToken,
                                                       "bearer x", std::string(3000, 'z'), "Basic x"}));
    }
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    stub.UnaryCall(&context, method.path, grpc::StubOptions(), &request, &response,
                   [&done](grpc::Status status) { done.set_value(std::move(status)); });
    const grpc::Status status = done.get_future().get();
    ++codes[status.error_code()];
    switch (status.error_code()) {
      case grpc::StatusCode::OK:
        ++ok;
        break;
      case grpc::StatusCode::INVALID_ARGUMENT:
      case grpc::StatusCode::NOT_FOUND:
      case grpc::StatusCode::ALREADY_EXISTS:
      case grpc::StatusCode::FAILED_PRECONDITION:
      case grpc::StatusCode::PERMISSION_DENIED:
      case grpc::StatusCode::UNAUTHENTICATED:
      case grpc::StatusCode::RESOURCE_EXHAUSTED:
      case grpc::StatusCode::OUT_OF_RANGE:
        break;
      default:
        ADD_FAILURE() << "seed " << seed_ << ", gRPC case " << sent << " " << method.path << ": status "
                      << status.error_code() << " " << status.error_message() << "\nrequest: " << Printable(bytes);
    }
    if (status.error_code() == grpc::StatusCode::UNAVAILABLE) break;  // wald is gone: stop here
  }
  std::printf("gRPC: %zu calls, %zu OK (seed %llu); codes:", sent, ok, static_cast<unsigned long long>(seed_));
  for (const auto& [code, count] : codes) std::printf(" %d:%zu", static_cast<int>(code), count);
  std::printf("\n");
  EXPECT_GE(sent, 500u) << "too few calls within the time budget to mean much";
  ExpectStillServing();
}

}  // namespace
}  // namespace wal::testing
