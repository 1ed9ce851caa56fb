#include "server/http_gateway.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <exception>

#include "server/http_api.h"

namespace wal::server {
namespace {

// Every request reaches HttpApi, which routes it; the pattern matches any path
// (std::regex's '.' stops at line breaks, which a decoded path may hold).
constexpr const char* kAnyPath = R"([\s\S]*)";

HttpRequest FromHttplib(const httplib::Request& request) {
  HttpRequest converted;
  converted.method = request.method;
  converted.path = request.path;
  converted.query.assign(request.params.begin(), request.params.end());
  converted.headers.assign(request.headers.begin(), request.headers.end());
  converted.body = request.body;
  return converted;
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
    : HttpGateway(engine, HttpGatewayOptions{max_request_bytes, nullptr, nullptr, nullptr}) {}

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
  server.new_task_queue = [] { return new httplib::ThreadPool(16); };

  auto serve = [this](const httplib::Request& request, httplib::Response& response) {
    // API answers are never served in byte ranges: httplib would cut even an
    // error body into a multipart/byteranges reply. The Request is httplib's
    // own non-const object, handed to handlers as const.
    const_cast<httplib::Request&>(request).ranges.clear();
    // HttpApi::Serve never throws; the conversions could only fail to allocate.
    try {
      ToHttplib(api_->Serve(FromHttplib(request)), response);
    } catch (const std::exception&) {
      ToHttplib(ErrorResponse(Internal("the request handler failed")), response);
    }
  };
  server.Get(kAnyPath, serve);
  server.Post(kAnyPath, serve);
  server.Put(kAnyPath, serve);
  server.Delete(kAnyPath, serve);
  server.Patch(kAnyPath, serve);
  server.Options(kAnyPath, serve);

  // Errors httplib answers itself (a malformed request line or header, a body
  // over max_request_bytes, a URI over its limit) get the same JSON body shape.
  // Nothing request-derived goes into it, and nothing here may throw: httplib
  // calls this outside any handler's try.
  server.set_error_handler([](const httplib::Request&, httplib::Response& response) {
    if (!response.body.empty()) return;
    try {
      response.set_content(TransportErrorBody(response.status), "application/json");
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
