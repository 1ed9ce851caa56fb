#include "server/http_gateway.h"

#include <algorithm>
#include <limits>

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <exception>
#include <string>
#include <variant>

#include "server/http_api.h"

namespace wal::server {
namespace {

// Every request reaches HttpApi, which routes it; the pattern matches any path
// (std::regex's '.' stops at line breaks, which a decoded path may hold).
constexpr const char* kAnyPath = R"([\s\S]*)";

// Past max_request_bytes a body is still read to its end, so the 413 reaches a
// client that is still sending (closing with unread bytes would reset the
// connection and lose the answer), but only this much further.
constexpr size_t kMaxDiscardedBytes = 64ull << 20;

HttpRequest FromHttplib(const httplib::Request& request, std::string body) {
  HttpRequest converted;
  converted.method = request.method;
  converted.path = request.path;
  converted.query.assign(request.params.begin(), request.params.end());
  converted.headers.assign(request.headers.begin(), request.headers.end());
  converted.body = std::move(body);
  return converted;
}

// The body, read with `reader` up to `max_bytes`; a transport error answer when
// it cannot be read whole or is over the limit.
std::variant<std::string, HttpResponse> ReadBody(const httplib::Request& request, httplib::Response& response,
                                                 const httplib::ContentReader& reader, size_t max_bytes) {
  std::string body;
  size_t discarded = 0;
  auto receive = [&](const char* data, size_t size) {
    if (discarded == 0 && body.size() + size <= max_bytes) {
      body.append(data, size);
      return true;
    }
    discarded += size;
    return discarded <= kMaxDiscardedBytes;
  };
  bool read = false;
  if (request.is_multipart_form_data()) {
    // Read to the end and refused below: no route takes form fields or files.
    read = reader([&](const httplib::MultipartFormData&) { return true; }, receive);
  } else {
    read = reader(receive);
  }
  if (discarded > 0) return TransportErrorResponse(413, max_bytes);
  // httplib sets 413 (a Content-Length over the limit), 415 (an unknown
  // Content-Encoding) or 400 (a malformed chunk, a short body).
  if (!read) return TransportErrorResponse(response.status >= 400 ? response.status : 400, max_bytes);
  if (request.is_multipart_form_data()) {
    return ErrorResponse(InvalidArgument("request body: multipart/form-data is not accepted; send the JSON "
                                         "document itself as the body (curl -d @file.json, not -F)"),
                         415);
  }
  return body;
}

void ToHttplib(HttpResponse&& from, httplib::Response& response) {
  response.status = from.status;
  for (auto& [name, value] : from.headers) response.set_header(name.c_str(), value);
  response.set_content(std::move(from.body), from.content_type.c_str());
}

std::unique_ptr<httplib::Server> MakeServer(const ServerTls* tls) {
  if (tls == nullptr) return std::make_unique<httplib::Server>();
  // The setup callback rather than file paths: httplib would read the files once.
  return std::make_unique<httplib::SSLServer>([tls](SSL_CTX& context) { return tls->ConfigureSslContext(context); });
}

}  // namespace

HttpGateway::HttpGateway(engine::Engine* engine, size_t max_request_bytes)
    : HttpGateway(engine, HttpGatewayOptions{.max_request_bytes = max_request_bytes}) {}

HttpGateway::HttpGateway(engine::Engine* engine, HttpGatewayOptions options)
    : options_(std::move(options)),
      api_(std::make_unique<HttpApi>(engine, options_.gate, options_.metrics, options_.shard_maps)),
      server_(MakeServer(options_.tls)) {
  RegisterRoutes();
}

HttpGateway::~HttpGateway() { Stop(); }

void HttpGateway::RegisterRoutes() {
  httplib::Server& server = *server_;
  server.set_payload_max_length(options_.max_request_bytes);
  const size_t threads = std::max<size_t>(1, options_.max_connections);
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // A response goes out as headers then body, two writes: with Nagle on, the
  // second waits for the client's delayed ACK, about 40 ms per request.
  server.set_tcp_nodelay(true);
  // httplib closes a keep-alive connection after 5 requests by default, so a
  // client writing steadily reconnects (and a TLS one renegotiates) every few
  // writes. Idle connections are still closed after the keep-alive timeout.
  server.set_keep_alive_max_count(std::numeric_limits<int>::max());

  auto serve = [this](const httplib::Request& request, httplib::Response& response) {
    // API answers are never served in byte ranges: httplib would cut even an
    // error body into a multipart/byteranges reply. The Request is httplib's
    // own non-const object, handed to handlers as const.
    const_cast<httplib::Request&>(request).ranges.clear();
    // HttpApi::Serve never throws; the conversions could only fail to allocate.
    try {
      ToHttplib(api_->Serve(FromHttplib(request, request.body)), response);
    } catch (const std::exception&) {
      ToHttplib(ErrorResponse(Internal("the request handler failed")), response);
    }
  };
  // Requests with a body take it through a content reader rather than
  // httplib's own reading, which refuses a form-urlencoded body over 8 KiB (a
  // limit compiled into the library) and splits one into query parameters:
  // `curl -d @file.json` sends that content type. Every body is taken as
  // JSON, whatever its type, up to max_request_bytes, chunked ones included.
  auto serve_with_body = [this](const httplib::Request& request, httplib::Response& response,
                                const httplib::ContentReader& reader) {
    const_cast<httplib::Request&>(request).ranges.clear();
    try {
      auto body = ReadBody(request, response, reader, options_.max_request_bytes);
      if (auto* refused = std::get_if<HttpResponse>(&body)) {
        ToHttplib(std::move(*refused), response);
        return;
      }
      ToHttplib(api_->Serve(FromHttplib(request, std::move(std::get<std::string>(body)))), response);
    } catch (const std::exception&) {
      ToHttplib(ErrorResponse(Internal("the request handler failed")), response);
    }
  };
  server.Get(kAnyPath, serve);
  server.Post(kAnyPath, serve_with_body);
  server.Put(kAnyPath, serve_with_body);
  server.Patch(kAnyPath, serve_with_body);
  // httplib hands a DELETE to a content reader only when it has a Content-Length.
  server.Delete(kAnyPath, serve_with_body);
  server.Delete(kAnyPath, serve);
  server.Options(kAnyPath, serve);

  // Errors httplib answers itself (a malformed request line or header, a body
  // over max_request_bytes, a URI over its limit) get the same error body.
  // Nothing request-derived goes into it, and nothing here may throw: httplib
  // calls this outside any handler's try.
  const size_t max_request_bytes = options_.max_request_bytes;
  server.set_error_handler([max_request_bytes](const httplib::Request&, httplib::Response& response) {
    if (!response.body.empty()) return;
    try {
      ToHttplib(TransportErrorResponse(response.status, max_request_bytes), response);
    } catch (const std::exception&) {
    }
  });
  server.set_exception_handler([](const httplib::Request&, httplib::Response& response, std::exception_ptr) {
    response.status = 500;
    try {
      response.set_content(ErrorResponse(Internal("the request handler failed")).body, "application/json");
    } catch (const std::exception&) {
    }
  });
}

Status HttpGateway::Start(const std::string& listen) {
  if (!server_->is_valid()) {
    return InvalidArgument("http: cannot set up TLS with the certificate and key from tls.cert_file/key_file");
  }
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) return InvalidArgument("http_listen: expected host:port, got '" + listen + "'");
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = 0;
  try {
    port = std::stoi(listen.substr(colon + 1));
  } catch (...) {
    return InvalidArgument("http_listen: bad port in '" + listen + "'");
  }
  if (port == 0) {
    port_ = server_->bind_to_any_port(host.c_str());
    if (port_ < 0) return Unavailable("http: cannot bind " + listen);
  } else {
    if (!server_->bind_to_port(host.c_str(), port)) return Unavailable("http: cannot bind " + listen);
    port_ = port;
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // httplib's stop() is a no-op until the listener runs; wait so Stop() right
  // after Start() cannot leave the thread listening forever.
  for (int waited = 0; waited < 5000 && !server_->is_running(); ++waited) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return Status::Ok();
}

void HttpGateway::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace wal::server
