#include "server/http_gateway.h"

#include <google/protobuf/util/json_util.h>
#include <httplib.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <future>
#include <regex>
#include <nlohmann/json.hpp>

#include "server/grpc_services.h"
#include "server/logging.h"
#include "server/namespace_json.h"
#include "server/status_mapping.h"

namespace wal::server {
namespace {

constexpr const char* kJson = "application/json";

void SendError(httplib::Response& response, const Status& status) {
  response.status = ToHttpStatus(status);
  nlohmann::json body = {{"code", std::string(StatusCodeName(status.code()))}, {"message", status.message()}};
  response.set_content(body.dump(), kJson);
}

void SendMessage(httplib::Response& response, const google::protobuf::Message& message, int http_status = 200) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  auto printed = google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!printed.ok()) return SendError(response, Internal(std::string(printed.message())));
  response.status = http_status;
  response.set_content(json, kJson);
}

Status ParseBody(const httplib::Request& request, google::protobuf::Message* message) {
  if (request.body.empty()) return InvalidArgument("request body: a JSON object is required");
  auto parsed = google::protobuf::util::JsonStringToMessage(request.body, message);
  if (!parsed.ok()) return InvalidArgument("request body: " + std::string(parsed.message()));
  return Status::Ok();
}

Result<uint64_t> ParseUnsigned(const httplib::Request& request, const std::string& name, uint64_t fallback) {
  if (!request.has_param(name.c_str())) return fallback;
  const std::string text = request.get_param_value(name.c_str());
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos || text.size() > 19) {
    return InvalidArgument("query parameter " + name + ": not an unsigned integer: '" + text + "'");
  }
  return std::stoull(text);
}

// The HTTP status that carries a write's durable answer: 200 only for TRUE, so
// `curl --fail` scripts treat FALSE and UNKNOWN as failures.
int HttpStatusForDurable(v1::Durable durable) {
  switch (durable) {
    case v1::TRUE: return 200;
    case v1::FALSE: return 503;
    default: return 500;
  }
}

// The gate (request_gate.h) is shared with the gRPC front end; what follows
// maps its answers onto HTTP: refusals, and which scope each route needs.

// A refusal from the gate: 421 Misdirected Request for another shard's namespace.
void SendRefusal(httplib::Response& response, const Admission& admission) {
  if (!admission.misdirected()) return SendError(response, admission.status);
  response.status = 421;
  nlohmann::json body = {{"code", std::string(StatusCodeName(admission.status.code()))},
                         {"message", admission.status.message()},
                         {"shard", admission.shard},
                         {"address", admission.address},
                         {"http_address", admission.http_address}};
  response.set_header("Wal-Shard-Address", admission.address);
  response.set_content(body.dump(), kJson);
}

struct RouteAccess {
  bool checked = false;  // false: no gate (health, metrics) or checked in the handler (writes)
  std::string name;
  Scope scope = Scope::kRead;
};

// Which namespace and scope a request needs, from its method and path.
RouteAccess AccessFor(const httplib::Request& request) {
  static const std::regex kNamespaced(R"(^/v1/namespaces/([^/:]+)(/log|/dlq|/dlq:redrive|/dlq:purge)?$)");
  RouteAccess access;
  const std::string& path = request.path;
  std::smatch match;
  if (path == "/v1/namespaces") {
    access = {true, "", Scope::kRead};
  } else if (path == "/v1/shard-map") {
    access = {true, "", request.method == "GET" || request.method == "HEAD" ? Scope::kRead : Scope::kAdmin};
  } else if (path == "/v1/status") {
    access = {true, request.get_param_value("namespace"), Scope::kRead};
  } else if (std::regex_match(path, match, kNamespaced)) {
    const bool mutating = request.method != "GET" && request.method != "HEAD";
    access = {true, match[1], mutating ? Scope::kAdmin : Scope::kRead};
  }
  return access;
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
    : engine_(engine),
      options_(std::move(options)),
      max_request_bytes_(options_.max_request_bytes),
      server_(MakeServer(options_.tls)) {
  RegisterRoutes();
}

HttpGateway::~HttpGateway() { Stop(); }

void HttpGateway::RegisterRoutes() {
  httplib::Server& server = *server_;
  server.set_payload_max_length(max_request_bytes_);
  server.new_task_queue = [] { return new httplib::ThreadPool(16); };

  // Request id (echoed back, and on this thread's log lines) and, for API
  // paths other than writes, the gate: shard routing and auth.
  server.set_pre_routing_handler([this](const httplib::Request& request, httplib::Response& response) {
    const std::string id = RequestIdFrom(request.get_header_value("X-Request-Id"));
    SetThreadRequestId(id);
    response.set_header("X-Request-Id", id);
    if (options_.gate == nullptr) return httplib::Server::HandlerResponse::Unhandled;
    RouteAccess access = AccessFor(request);
    if (!access.checked) return httplib::Server::HandlerResponse::Unhandled;
    Admission admission = options_.gate->Admit(request.get_header_value("Authorization"), access.name, access.scope);
    if (admission.ok()) return httplib::Server::HandlerResponse::Unhandled;
    if (admission.status.code() == StatusCode::kUnauthenticated || admission.status.code() == StatusCode::kPermissionDenied) {
      spdlog::warn("{} {} refused: {}", request.method, request.path, admission.status.ToString());
    }
    SendRefusal(response, admission);
    return httplib::Server::HandlerResponse::Handled;
  });

  server.Get("/metrics", [this](const httplib::Request&, httplib::Response& response) {
    if (options_.metrics == nullptr) return SendError(response, NotFound("metrics are not enabled"));
    response.set_content(options_.metrics->Render(*engine_), "text/plain; version=0.0.4; charset=utf-8");
  });

  server.Post(R"(/v1/namespaces/([^/]+)/log:write)", [this](const httplib::Request& request, httplib::Response& response) {
    const auto started = std::chrono::steady_clock::now();
    const std::string path_namespace = request.matches[1];
    // The namespace is looked up once, by the gate or here; the metric label
    // of a namespace that is not served is "" (names from requests are unbounded).
    engine::NamespaceView view;
    auto reject = [&](const Status& status) {
      if (options_.metrics != nullptr) options_.metrics->WriteRejected(view.served() ? path_namespace : "", status.code());
    };
    if (options_.gate != nullptr) {
      Admission admission = options_.gate->AdmitWrite(request.get_header_value("Authorization"), path_namespace);
      view = std::move(admission.view);
      if (!admission.ok()) {
        if (admission.status.code() == StatusCode::kUnauthenticated ||
            admission.status.code() == StatusCode::kPermissionDenied) {
          spdlog::warn("write refused: {}", admission.status.ToString());
        }
        reject(admission.status);
        return SendRefusal(response, admission);
      }
    } else {
      view = engine_->View(path_namespace);
    }
    v1::WriteToLogRequest write;
    Status parsed = ParseBody(request, &write);
    if (!parsed.ok()) {
      reject(parsed);
      return SendError(response, parsed);
    }
    if (!write.namespace_().empty() && write.namespace_() != path_namespace) {
      return SendError(response, InvalidArgument("namespace: body says '" + write.namespace_() + "' but the path says '" +
                                                 path_namespace + "'"));
    }
    write.set_namespace_(path_namespace);
    std::promise<engine::WriteOutcome> promise;
    auto future = promise.get_future();
    engine_->WriteToLog(view, write, [&promise](engine::WriteOutcome outcome) { promise.set_value(std::move(outcome)); });
    engine::WriteOutcome outcome = future.get();
    if (!outcome.rejection.ok()) {
      reject(outcome.rejection);
      return SendError(response, outcome.rejection);
    }
    if (options_.metrics != nullptr) {
      options_.metrics->WriteAnswered(path_namespace, outcome.response.durable(), std::chrono::steady_clock::now() - started);
    }
    if (outcome.response.durable() != v1::TRUE) {
      spdlog::warn("write to {} answered durable={}: {}", path_namespace, v1::Durable_Name(outcome.response.durable()),
                   outcome.response.message());
    }
    SendMessage(response, outcome.response, HttpStatusForDurable(outcome.response.durable()));
  });

  server.Get("/v1/namespaces", [this](const httplib::Request&, httplib::Response& response) {
    v1::ListNamespacesResponse list;
    Status status = admin::ListNamespaces(*engine_, &list);
    if (!status.ok()) return SendError(response, status);
    SendMessage(response, list);
  });

  server.Get(R"(/v1/namespaces/([^/:]+))", [this](const httplib::Request& request, httplib::Response& response) {
    v1::GetNamespaceRequest get;
    get.set_name(request.matches[1]);
    v1::NamespaceResponse result;
    Status status = admin::GetNamespace(*engine_, get, &result);
    if (!status.ok()) return SendError(response, status);
    SendMessage(response, result);
  });

  server.Put(R"(/v1/namespaces/([^/:]+))", [this](const httplib::Request& request, httplib::Response& response) {
    v1::ApplyNamespaceRequest apply;
    Status status = ParseBody(request, apply.mutable_config());
    if (!status.ok()) return SendError(response, status);
    const std::string path_name = request.matches[1];
    auto& fields = *apply.mutable_config()->mutable_fields();
    if (fields.count("name") == 0) fields["name"].set_string_value(path_name);
    if (fields["name"].string_value() != path_name) {
      return SendError(response, InvalidArgument("name: body says '" + fields["name"].string_value() +
                                                 "' but the path says '" + path_name + "'"));
    }
    v1::NamespaceResponse result;
    status = admin::ApplyNamespace(*engine_, apply, &result);
    if (!status.ok()) return SendError(response, status);
    SendMessage(response, result);
  });

  server.Delete(R"(/v1/namespaces/([^/:]+))", [this](const httplib::Request& request, httplib::Response& response) {
    v1::DeleteNamespaceRequest remove;
    remove.set_name(request.matches[1]);
    remove.set_purge_data(request.get_param_value("purge_data") == "true");
    Status status = admin::DeleteNamespace(*engine_, remove);
    if (!status.ok()) return SendError(response, status);
    SendMessage(response, v1::DeleteNamespaceResponse());
  });

  server.Get("/v1/shard-map", [this](const httplib::Request&, httplib::Response& response) {
    v1::ShardMapResponse result;
    Status status = admin::GetShardMap(options_.shard_maps, &result);
    if (!status.ok()) return SendError(response, status);
    SendMessage(response, result);
  });

  // The body is the shard map document itself (YAML or JSON), as in the file.
  server.Put("/v1/shard-map", [this](const httplib::Request& request, httplib::Response& response) {
    v1::ApplyShardMapRequest apply;
    apply.set_map(request.body);
    v1::ShardMapResponse result;
    Status status = admin::ApplyShardMap(options_.shard_maps, apply, &result);
    if (!status.ok()) return SendError(response, status);
    SendMessage(response, result);
  });

  server.Get("/v1/status", [this](const httplib::Request& request, httplib::Response& response) {
    v1::GetStatusRequest get;
    get.set_namespace_(request.get_param_value("namespace"));
    v1::GetStatusResponse result;
    Status status = admin::GetStatus(*engine_, get, &result);
    if (!status.ok()) return SendError(response, status);
    SendMessage(response, result);
  });

  server.Get(R"(/v1/namespaces/([^/:]+)/log)", [this](const httplib::Request& request, httplib::Response& response) {
    v1::ReadLogRequest read;
    read.set_namespace_(request.matches[1]);
    auto from = ParseUnsigned(request, "from", 0);
    if (!from.ok()) return SendError(response, from.status());
    auto limit = ParseUnsigned(request, "limit", 100);
    if (!limit.ok()) return SendError(response, limit.status());
    if (*limit > 10000) return SendError(response, InvalidArgument("query parameter limit: at most 10000"));
    read.set_from_id(*from);
    read.set_limit(static_cast<uint32_t>(*limit));
    v1::ReadLogResponse result;
    Status status = admin::ReadLog(*engine_, read, &result);
    if (!status.ok()) return SendError(response, status);
    SendMessage(response, result);
  });

  server.Get(R"(/v1/namespaces/([^/:]+)/dlq)", [this](const httplib::Request& request, httplib::Response& response) {
    v1::ListDeadLettersRequest list;
    list.set_namespace_(request.matches[1]);
    auto from = ParseUnsigned(request, "from", 0);
    if (!from.ok()) return SendError(response, from.status());
    auto limit = ParseUnsigned(request, "limit", 100);
    if (!limit.ok()) return SendError(response, limit.status());
    if (*limit > 10000) return SendError(response, InvalidArgument("query parameter limit: at most 10000"));
    list.set_from_id(*from);
    list.set_limit(static_cast<uint32_t>(*limit));
    v1::ListDeadLettersResponse result;
    Status status = admin::ListDeadLetters(*engine_, list, &result);
    if (!status.ok()) return SendError(response, status);
    SendMessage(response, result);
  });

  server.Post(R"(/v1/namespaces/([^/:]+)/dlq:redrive)", [this](const httplib::Request& request, httplib::Response& response) {
    v1::RedriveDeadLettersRequest redrive;
    if (!request.body.empty()) {
      Status parsed = ParseBody(request, &redrive);
      if (!parsed.ok()) return SendError(response, parsed);
    }
    redrive.set_namespace_(request.matches[1]);
    v1::RedriveDeadLettersResponse result;
    Status status = admin::RedriveDeadLetters(*engine_, redrive, &result);
    if (!status.ok()) return SendError(response, status);
    SendMessage(response, result);
  });

  server.Post(R"(/v1/namespaces/([^/:]+)/dlq:purge)", [this](const httplib::Request& request, httplib::Response& response) {
    v1::PurgeDeadLettersRequest purge;
    if (!request.body.empty()) {
      Status parsed = ParseBody(request, &purge);
      if (!parsed.ok()) return SendError(response, parsed);
    }
    purge.set_namespace_(request.matches[1]);
    v1::PurgeDeadLettersResponse result;
    Status status = admin::PurgeDeadLetters(*engine_, purge, &result);
    if (!status.ok()) return SendError(response, status);
    SendMessage(response, result);
  });

  server.Get("/healthz", [](const httplib::Request&, httplib::Response& response) {
    response.set_content(R"({"status":"ok"})", kJson);
  });
  server.Get("/readyz", [this](const httplib::Request&, httplib::Response& response) {
    auto statuses = engine_->NamespaceStatuses("");
    nlohmann::json body = {{"status", "ready"}, {"namespaces", statuses.ok() ? statuses->size() : 0}};
    response.set_content(body.dump(), kJson);
  });

  // Known paths with the wrong method get 405; anything else 404 — both as JSON.
  auto method_not_allowed = [](const httplib::Request& request, httplib::Response& response) {
    SendError(response, Status(StatusCode::kInvalidArgument, "method " + request.method + " is not allowed on " + request.path));
    response.status = 405;
  };
  server.Get(R"(/v1/namespaces/([^/]+)/log:write)", method_not_allowed);
  server.Put(R"(/v1/namespaces/([^/]+)/log:write)", method_not_allowed);
  server.Delete(R"(/v1/namespaces/([^/]+)/log:write)", method_not_allowed);
  server.Post(R"(/v1/namespaces(/[^/:]+)?)", method_not_allowed);
  server.Post("/v1/status", method_not_allowed);

  server.set_error_handler([](const httplib::Request& request, httplib::Response& response) {
    if (!response.body.empty()) return;
    const int status = response.status;
    nlohmann::json body = {{"code", status == 404 ? "NOT_FOUND" : "INVALID_ARGUMENT"},
                           {"message", status == 404 ? "no route for " + request.method + " " + request.path
                                                     : "the request could not be served (HTTP " + std::to_string(status) + ")"}};
    response.set_content(body.dump(), kJson);
  });
  server.set_exception_handler([](const httplib::Request&, httplib::Response& response, std::exception_ptr) {
    SendError(response, Internal("the request handler failed"));
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
