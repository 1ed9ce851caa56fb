#include "server/http_api.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <exception>
#include <future>
#include <nlohmann/json.hpp>

#include "server/grpc_services.h"
#include "common/log_context.h"
#include "server/logging.h"
#include "server/write_batch.h"

namespace wal::server {
namespace {

// The HTTP status that carries a write's durable answer.
int HttpStatusForDurable(v1::Durable durable) {
  switch (durable) {
    case v1::TRUE: return 200;
    case v1::FALSE: return 503;
    default: return 500;
  }
}

template <typename Response>
HttpResponse Answer(const Status& status, const Response& response) {
  if (!status.ok()) return ErrorResponse(status);
  return MessageResponse(response);
}

HttpResponse DecodeErrorResponse(const HttpError& error) {
  ErrorExtras extras;
  if (error.http_status == 405) {
    // As grpc-gateway answers a method the path has no binding for.
    extras.status_name = "UNIMPLEMENTED";
    extras.reason = "METHOD_NOT_ALLOWED";
    extras.allow = error.allow;
  }
  return ErrorResponse(error.status, error.http_status, extras);
}

bool IsAuthRefusal(const Status& status) {
  return status.code() == StatusCode::kUnauthenticated || status.code() == StatusCode::kPermissionDenied;
}

}  // namespace

HttpResponse HttpApi::Serve(const HttpRequest& request) const {
  HttpResponse response;
  std::string request_id;
  try {
    request_id = RequestIdFrom(HeaderValue(request, "X-Request-Id"));
    SetThreadRequestId(request_id);
    HttpDecoded decoded = DecodeHttpRequest(request);
    if (auto* error = std::get_if<HttpError>(&decoded)) {
      response = DecodeErrorResponse(*error);
    } else {
      response = ServeDecoded(request, std::get<HttpCall>(decoded));
    }
  } catch (const std::exception& error) {
    // A handler bug must cost one request, never the process.
    spdlog::error("http {} {}: the handler failed: {}", request.method, request.path, error.what());
    response = ErrorResponse(Internal("the request handler failed"));
  } catch (...) {
    spdlog::error("http {} {}: the handler failed", request.method, request.path);
    response = ErrorResponse(Internal("the request handler failed"));
  }
  if (request_id.empty()) request_id = NewRequestId();
  response.headers.emplace_back("X-Request-Id", std::move(request_id));
  return response;
}

HttpResponse HttpApi::ServeDecoded(const HttpRequest& request, HttpCall& call) const {
  LogNamespaceScope log_namespace(call.name);
  if (call.route == HttpRoute::kWrite) return Write(call);
  if (call.route == HttpRoute::kWriteBatch) return WriteBatch(call);
  if (call.gated && gate_ != nullptr) {
    Admission admission = gate_->Admit(call.authorization, call.name, call.scope);
    // A redrive into another namespace writes there, so it needs that right too.
    const auto* redrive = std::get_if<v1::RedriveDeadLettersRequest>(&call.message);
    if (admission.ok() && redrive != nullptr && !redrive->to_namespace().empty()) {
      admission = gate_->Admit(call.authorization, redrive->to_namespace(), Scope::kWrite);
    }
    if (!admission.ok()) {
      if (IsAuthRefusal(admission.status)) {
        spdlog::warn("{} {} refused: {}", request.method, request.path, admission.status.ToString());
      }
      return RefusalResponse(admission);
    }
  }
  if (!call.invalid.ok()) return ErrorResponse(call.invalid);
  return Dispatch(call);
}

void HttpApi::CountRejectedWrite(const std::string& name, bool served, const Status& status) const {
  if (metrics_ == nullptr) return;
  // Names from requests are unbounded: a namespace not served is labelled "".
  metrics_->WriteRejected(served ? name : "", status.code());
}

HttpResponse HttpApi::Write(HttpCall& call) const {
  const auto started = std::chrono::steady_clock::now();
  const std::string& name = call.name;
  // The namespace is looked up once, by the gate or here, for the whole call.
  engine::NamespaceView view;
  if (gate_ != nullptr) {
    Admission admission = gate_->AdmitWrite(call.authorization, name);
    if (!admission.ok()) {
      if (IsAuthRefusal(admission.status)) spdlog::warn("write refused: {}", admission.status.ToString());
      CountRejectedWrite(name, admission.view.served(), admission.status);
      return RefusalResponse(admission);
    }
    view = std::move(admission.view);
  } else {
    view = engine_->View(name);
  }
  if (!call.invalid.ok()) {
    CountRejectedWrite(name, view.served(), call.invalid);
    return ErrorResponse(call.invalid);
  }
  auto promise = std::make_shared<std::promise<engine::WriteOutcome>>();
  std::future<engine::WriteOutcome> future = promise->get_future();
  engine_->WriteToLog(view, std::get<v1::WriteToLogRequest>(call.message),
                      [promise](engine::WriteOutcome outcome) { promise->set_value(std::move(outcome)); });
  engine::WriteOutcome outcome = future.get();
  if (!outcome.rejection.ok()) {
    CountRejectedWrite(name, view.served(), outcome.rejection);
    return ErrorResponse(outcome.rejection);
  }
  if (metrics_ != nullptr) {
    metrics_->WriteAnswered(name, outcome.response.durable(), std::chrono::steady_clock::now() - started);
  }
  if (outcome.response.durable() != v1::TRUE) {
    spdlog::warn("write to {} answered durable={}: {}", name, v1::Durable_Name(outcome.response.durable()),
                 outcome.response.message());
  }
  return MessageResponse(outcome.response, HttpStatusForDurable(outcome.response.durable()));
}

HttpResponse HttpApi::WriteBatch(HttpCall& call) const {
  auto& batch = std::get<v1::WriteToLogBatchRequest>(call.message);
  Status checked = call.invalid.ok() ? CheckBatch(batch) : call.invalid;
  if (!checked.ok()) {
    CountRejectedWrite("", false, checked);
    return ErrorResponse(checked);
  }
  auto promise = std::make_shared<std::promise<v1::WriteToLogBatchResponse>>();
  std::future<v1::WriteToLogBatchResponse> future = promise->get_future();
  SubmitBatch(submitter_, call.authorization, batch,
              [promise](v1::WriteToLogBatchResponse results) { promise->set_value(std::move(results)); });
  v1::WriteToLogBatchResponse results = future.get();
  if (!call.ndjson) return MessageResponse(results);
  // NDJSON in, NDJSON out: line i answers the i-th write line.
  HttpResponse response;
  response.content_type = "application/x-ndjson";
  for (const v1::WriteResult& result : results.results()) {
    HttpResponse line = MessageResponse(result);
    if (line.status != 200) return line;
    response.body += line.body;
    response.body += '\n';
  }
  return response;
}

HttpResponse HttpApi::Dispatch(HttpCall& call) const {
  switch (call.route) {
    case HttpRoute::kHealth: {
      HttpResponse response;
      response.body = R"({"status":"ok"})";
      return response;
    }
    case HttpRoute::kReady: {
      // A namespace that failed to load, or whose log refuses writes, is
      // listed with its reason. The answer stays 200: one namespace's trouble
      // (a broker outage, a bad file) must not take the instance, and every
      // namespace it serves, out of its load balancer.
      auto statuses = engine_->NamespaceStatuses("");
      nlohmann::json failing = nlohmann::json::array();
      if (statuses.ok()) {
        for (const v1::NamespaceStatus& status : *statuses) {
          if (!status.error().empty() || !status.writable()) {
            failing.push_back({{"name", status.name()}, {"error", status.error()}});
          }
        }
      }
      HttpResponse response;
      response.body = nlohmann::json{{"status", failing.empty() ? "ready" : "degraded"},
                                     {"namespaces", statuses.ok() ? statuses->size() : 0},
                                     {"failing", failing}}
                          .dump();
      return response;
    }
    case HttpRoute::kMetrics: {
      if (metrics_ == nullptr) return ErrorResponse(NotFound("metrics are not enabled"));
      HttpResponse response;
      response.content_type = "text/plain; version=0.0.4; charset=utf-8";
      response.body = metrics_->Render(*engine_);
      return response;
    }
    case HttpRoute::kWrite:
      return Write(call);
    case HttpRoute::kWriteBatch:
      return WriteBatch(call);
    case HttpRoute::kListNamespaces: {
      v1::ListNamespacesResponse list;
      return Answer(admin::ListNamespaces(*engine_, &list), list);
    }
    case HttpRoute::kGetNamespace: {
      v1::NamespaceResponse result;
      return Answer(admin::GetNamespace(*engine_, std::get<v1::GetNamespaceRequest>(call.message), &result), result);
    }
    case HttpRoute::kApplyNamespace: {
      v1::NamespaceResponse result;
      Status applied =
          admin::ApplyNamespace(*engine_, std::get<v1::ApplyNamespaceRequest>(call.message), &result, metrics_);
      return Answer(applied, result);
    }
    case HttpRoute::kDeleteNamespace:
      return Answer(admin::DeleteNamespace(*engine_, std::get<v1::DeleteNamespaceRequest>(call.message)),
                    v1::DeleteNamespaceResponse());
    case HttpRoute::kGetStatus: {
      v1::GetStatusResponse result;
      return Answer(admin::GetStatus(*engine_, std::get<v1::GetStatusRequest>(call.message), &result), result);
    }
    case HttpRoute::kReadLog: {
      v1::ReadLogResponse result;
      return Answer(admin::ReadLog(*engine_, std::get<v1::ReadLogRequest>(call.message), &result), result);
    }
    case HttpRoute::kListDeadLetters: {
      v1::ListDeadLettersResponse result;
      return Answer(admin::ListDeadLetters(*engine_, std::get<v1::ListDeadLettersRequest>(call.message), &result),
                    result);
    }
    case HttpRoute::kRedriveDeadLetters: {
      v1::RedriveDeadLettersResponse result;
      return Answer(
          admin::RedriveDeadLetters(*engine_, std::get<v1::RedriveDeadLettersRequest>(call.message), &result), result);
    }
    case HttpRoute::kPurgeDeadLetters: {
      v1::PurgeDeadLettersResponse result;
      return Answer(admin::PurgeDeadLetters(*engine_, std::get<v1::PurgeDeadLettersRequest>(call.message), &result),
                    result);
    }
    case HttpRoute::kGetShardMap: {
      v1::ShardMapResponse result;
      return Answer(admin::GetShardMap(shard_maps_, &result), result);
    }
    case HttpRoute::kApplyShardMap: {
      v1::ShardMapResponse result;
      return Answer(admin::ApplyShardMap(shard_maps_, std::get<v1::ApplyShardMapRequest>(call.message), &result),
                    result);
    }
  }
  return ErrorResponse(Internal("unhandled route"));
}

}  // namespace wal::server
