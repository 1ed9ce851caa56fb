#include "server/grpc_services.h"

#include <google/protobuf/util/json_util.h>

#include <spdlog/spdlog.h>

#include "server/logging.h"
#include "server/namespace_json.h"
#include "server/status_mapping.h"

namespace wal::server {
namespace {

grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* context, const Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

// Every call reads its request id and bearer token from the metadata first:
// the id goes on every log line of the call, the token to the gate.

struct CallMetadata {
  std::string authorization;  // never logged
  std::string request_id;
};

// Reads the caller's metadata and echoes the request id back in the initial metadata.
CallMetadata ReadCallMetadata(grpc::CallbackServerContext* context) {
  CallMetadata metadata;
  std::string_view offered_id;
  for (const auto& [key, value] : context->client_metadata()) {
    std::string_view name(key.data(), key.size());
    if (name == "authorization") metadata.authorization.assign(value.data(), value.size());
    if (name == "x-request-id") offered_id = std::string_view(value.data(), value.size());
  }
  metadata.request_id = RequestIdFrom(offered_id);
  context->AddInitialMetadata("x-request-id", metadata.request_id);
  return metadata;
}

void LogRefusal(const Admission& admission, std::string_view call) {
  const StatusCode code = admission.status.code();
  if (code == StatusCode::kUnauthenticated || code == StatusCode::kPermissionDenied) {
    spdlog::warn("{} refused: {}", call, admission.status.ToString());
  } else {
    spdlog::debug("{} refused: {}", call, admission.status.ToString());
  }
}

grpc::ServerUnaryReactor* FinishRefused(grpc::CallbackServerContext* context, const Admission& admission) {
  if (admission.misdirected()) {
    context->AddTrailingMetadata(kShardAddressKey, admission.address);
    context->AddTrailingMetadata("wal-shard", admission.shard);
  }
  return FinishNow(context, admission.status);
}

// Runs `body` (returning a Status) once the gate admits the call.
template <typename Body>
grpc::ServerUnaryReactor* Guarded(grpc::CallbackServerContext* context, RequestGate* gate, std::string_view call,
                                  const std::string& name, Scope scope, Body&& body) {
  CallMetadata metadata = ReadCallMetadata(context);
  RequestIdScope request_id(metadata.request_id);
  if (gate != nullptr) {
    Admission admission = gate->Admit(metadata.authorization, name, scope);
    if (!admission.ok()) {
      LogRefusal(admission, call);
      return FinishRefused(context, admission);
    }
  }
  return FinishNow(context, body());
}

std::string ConfigName(const google::protobuf::Struct& config) {
  auto found = config.fields().find("name");
  return found == config.fields().end() ? std::string() : found->second.string_value();
}

}  // namespace

grpc::ServerUnaryReactor* WriteAheadLogService::WriteToLog(grpc::CallbackServerContext* context,
                                                           const v1::WriteToLogRequest* request,
                                                           v1::WriteToLogResponse* response) {
  const auto started = std::chrono::steady_clock::now();
  CallMetadata metadata = ReadCallMetadata(context);
  RequestIdScope request_id(metadata.request_id);
  const std::string& name = request->namespace_();
  // The namespace is looked up once, by the gate or here; the metric label of
  // a namespace that is not served is "" (names from requests are unbounded).
  engine::NamespaceView view;
  if (gate_ != nullptr) {
    Admission admission = gate_->AdmitWrite(metadata.authorization, name);
    if (!admission.ok()) {
      LogRefusal(admission, "write");
      if (metrics_ != nullptr) metrics_->WriteRejected(admission.view.served() ? name : "", admission.status.code());
      return FinishRefused(context, admission);
    }
    view = std::move(admission.view);
  } else {
    view = engine_->View(name);
  }
  const std::string label = view.served() ? name : "";
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  engine_->WriteToLog(view, *request, [this, reactor, response, started, name, label, id = metadata.request_id](
                                          engine::WriteOutcome outcome) {
    if (!outcome.rejection.ok()) {
      if (metrics_ != nullptr) metrics_->WriteRejected(label, outcome.rejection.code());
      reactor->Finish(ToGrpcStatus(outcome.rejection));
      return;
    }
    if (metrics_ != nullptr) {
      metrics_->WriteAnswered(name, outcome.response.durable(), std::chrono::steady_clock::now() - started);
    }
    if (outcome.response.durable() != v1::TRUE) {
      RequestIdScope callback_id(id);
      spdlog::warn("write to {} answered durable={}: {}", name, v1::Durable_Name(outcome.response.durable()),
                   outcome.response.message());
    }
    *response = std::move(outcome.response);
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

namespace admin {

Status ListNamespaces(engine::Engine& engine, v1::ListNamespacesResponse* response) {
  for (const std::string& name : engine.ListNamespaces()) response->add_names(name);
  return Status::Ok();
}

Status GetNamespace(engine::Engine& engine, const v1::GetNamespaceRequest& request, v1::NamespaceResponse* response) {
  WAL_ASSIGN_OR_RETURN(config::NamespaceConfig config, engine.GetNamespace(request.name()));
  WAL_ASSIGN_OR_RETURN(*response->mutable_config(), NamespaceToStruct(config));
  return Status::Ok();
}

Status ApplyNamespace(engine::Engine& engine, const v1::ApplyNamespaceRequest& request, v1::NamespaceResponse* response) {
  WAL_ASSIGN_OR_RETURN(config::NamespaceConfig config, NamespaceFromStruct(request.config(), engine.module_catalog()));
  WAL_RETURN_IF_ERROR(engine.ApplyNamespace(config));
  WAL_ASSIGN_OR_RETURN(*response->mutable_config(), NamespaceToStruct(config));
  return Status::Ok();
}

Status GetShardMap(const ShardMapControl* shard_maps, v1::ShardMapResponse* response) {
  const ShardMapControl none;
  ShardMapControl::View view = (shard_maps != nullptr ? shard_maps : &none)->Get();
  response->set_map(view.text);
  response->set_source(view.source);
  response->set_shard(view.shard);
  return Status::Ok();
}

Status ApplyShardMap(ShardMapControl* shard_maps, const v1::ApplyShardMapRequest& request,
                     v1::ShardMapResponse* response) {
  ShardMapControl none;
  WAL_RETURN_IF_ERROR((shard_maps != nullptr ? shard_maps : &none)->Apply(request.map()));
  return GetShardMap(shard_maps, response);
}

Status DeleteNamespace(engine::Engine& engine, const v1::DeleteNamespaceRequest& request) {
  return engine.DeleteNamespace(request.name(), request.purge_data());
}

Status GetStatus(engine::Engine& engine, const v1::GetStatusRequest& request, v1::GetStatusResponse* response) {
  WAL_ASSIGN_OR_RETURN(auto statuses, engine.NamespaceStatuses(request.namespace_()));
  for (auto& status : statuses) *response->add_namespaces() = std::move(status);
  return Status::Ok();
}

namespace {

constexpr uint32_t kDefaultReadLimit = 100;
constexpr uint32_t kMaxReadLimit = 10000;

Result<uint32_t> ReadLimit(uint32_t requested) {
  uint32_t limit = requested == 0 ? kDefaultReadLimit : requested;
  if (limit > kMaxReadLimit) return InvalidArgument("limit: at most " + std::to_string(kMaxReadLimit));
  return limit;
}

// Fills `views` with the records in their proto-field-name JSON form; returns the
// id after the last one (or `from_id` when there are none).
Result<uint64_t> FillViews(const std::vector<engine::Engine::RecordAt>& records, uint64_t from_id,
                           google::protobuf::RepeatedPtrField<v1::LogRecordView>* views) {
  uint64_t next_id = from_id;
  google::protobuf::util::JsonPrintOptions print_options;
  print_options.preserve_proto_field_names = true;
  for (const auto& at : records) {
    v1::LogRecordView* view = views->Add();
    view->set_id(at.id);
    next_id = at.id + 1;
    if (!at.unparsed.empty()) {
      view->set_unparsed(at.unparsed);
      continue;
    }
    std::string json;
    auto printed = google::protobuf::util::MessageToJsonString(at.record, &json, print_options);
    if (!printed.ok()) return Internal("entry " + std::to_string(at.id) + ": " + std::string(printed.message()));
    auto parsed = google::protobuf::util::JsonStringToMessage(json, view->mutable_record());
    if (!parsed.ok()) return Internal("entry " + std::to_string(at.id) + ": " + std::string(parsed.message()));
  }
  return next_id;
}

}  // namespace

Status ReadLog(engine::Engine& engine, const v1::ReadLogRequest& request, v1::ReadLogResponse* response) {
  WAL_ASSIGN_OR_RETURN(uint32_t limit, ReadLimit(request.limit()));
  WAL_ASSIGN_OR_RETURN(auto records, engine.ReadLog(request.namespace_(), request.from_id(), limit));
  WAL_ASSIGN_OR_RETURN(uint64_t next_id, FillViews(records, request.from_id(), response->mutable_entries()));
  response->set_next_id(next_id);
  return Status::Ok();
}

Status ListDeadLetters(engine::Engine& engine, const v1::ListDeadLettersRequest& request,
                       v1::ListDeadLettersResponse* response) {
  WAL_ASSIGN_OR_RETURN(uint32_t limit, ReadLimit(request.limit()));
  WAL_ASSIGN_OR_RETURN(auto records, engine.ListDeadLetters(request.namespace_(), request.from_id(), limit));
  WAL_ASSIGN_OR_RETURN(uint64_t next_id, FillViews(records, request.from_id(), response->mutable_entries()));
  response->set_next_id(next_id);
  return Status::Ok();
}

Status RedriveDeadLetters(engine::Engine& engine, const v1::RedriveDeadLettersRequest& request,
                          v1::RedriveDeadLettersResponse* response) {
  std::vector<uint64_t> ids(request.ids().begin(), request.ids().end());
  WAL_ASSIGN_OR_RETURN(uint64_t redriven, engine.RedriveDeadLetters(request.namespace_(), ids));
  response->set_redriven(redriven);
  return Status::Ok();
}

Status PurgeDeadLetters(engine::Engine& engine, const v1::PurgeDeadLettersRequest& request,
                        v1::PurgeDeadLettersResponse* response) {
  std::vector<uint64_t> ids(request.ids().begin(), request.ids().end());
  WAL_ASSIGN_OR_RETURN(uint64_t purged, engine.PurgeDeadLetters(request.namespace_(), ids));
  response->set_purged(purged);
  return Status::Ok();
}

}  // namespace admin

grpc::ServerUnaryReactor* AdminService::ListNamespaces(grpc::CallbackServerContext* context,
                                                       const v1::ListNamespacesRequest*,
                                                       v1::ListNamespacesResponse* response) {
  return Guarded(context, gate_, "ListNamespaces", "", Scope::kRead, [&] { return admin::ListNamespaces(*engine_, response); });
}

grpc::ServerUnaryReactor* AdminService::GetNamespace(grpc::CallbackServerContext* context,
                                                     const v1::GetNamespaceRequest* request,
                                                     v1::NamespaceResponse* response) {
  return Guarded(context, gate_, "GetNamespace", request->name(), Scope::kRead,
                 [&] { return admin::GetNamespace(*engine_, *request, response); });
}

grpc::ServerUnaryReactor* AdminService::ApplyNamespace(grpc::CallbackServerContext* context,
                                                       const v1::ApplyNamespaceRequest* request,
                                                       v1::NamespaceResponse* response) {
  return Guarded(context, gate_, "ApplyNamespace", ConfigName(request->config()), Scope::kAdmin,
                 [&] { return admin::ApplyNamespace(*engine_, *request, response); });
}

grpc::ServerUnaryReactor* AdminService::DeleteNamespace(grpc::CallbackServerContext* context,
                                                        const v1::DeleteNamespaceRequest* request,
                                                        v1::DeleteNamespaceResponse*) {
  return Guarded(context, gate_, "DeleteNamespace", request->name(), Scope::kAdmin,
                 [&] { return admin::DeleteNamespace(*engine_, *request); });
}

grpc::ServerUnaryReactor* AdminService::GetStatus(grpc::CallbackServerContext* context,
                                                  const v1::GetStatusRequest* request, v1::GetStatusResponse* response) {
  return Guarded(context, gate_, "GetStatus", request->namespace_(), Scope::kRead,
                 [&] { return admin::GetStatus(*engine_, *request, response); });
}

grpc::ServerUnaryReactor* AdminService::ReadLog(grpc::CallbackServerContext* context, const v1::ReadLogRequest* request,
                                                v1::ReadLogResponse* response) {
  return Guarded(context, gate_, "ReadLog", request->namespace_(), Scope::kRead,
                 [&] { return admin::ReadLog(*engine_, *request, response); });
}

}  // namespace wal::server

namespace wal::server {

grpc::ServerUnaryReactor* AdminService::ListDeadLetters(grpc::CallbackServerContext* context,
                                                        const v1::ListDeadLettersRequest* request,
                                                        v1::ListDeadLettersResponse* response) {
  return Guarded(context, gate_, "ListDeadLetters", request->namespace_(), Scope::kRead,
                 [&] { return admin::ListDeadLetters(*engine_, *request, response); });
}

grpc::ServerUnaryReactor* AdminService::RedriveDeadLetters(grpc::CallbackServerContext* context,
                                                           const v1::RedriveDeadLettersRequest* request,
                                                           v1::RedriveDeadLettersResponse* response) {
  return Guarded(context, gate_, "RedriveDeadLetters", request->namespace_(), Scope::kAdmin,
                 [&] { return admin::RedriveDeadLetters(*engine_, *request, response); });
}

grpc::ServerUnaryReactor* AdminService::PurgeDeadLetters(grpc::CallbackServerContext* context,
                                                         const v1::PurgeDeadLettersRequest* request,
                                                         v1::PurgeDeadLettersResponse* response) {
  return Guarded(context, gate_, "PurgeDeadLetters", request->namespace_(), Scope::kAdmin,
                 [&] { return admin::PurgeDeadLetters(*engine_, *request, response); });
}

grpc::ServerUnaryReactor* AdminService::GetShardMap(grpc::CallbackServerContext* context,
                                                    const v1::GetShardMapRequest*, v1::ShardMapResponse* response) {
  return Guarded(context, gate_, "GetShardMap", "", Scope::kRead,
                 [&] { return admin::GetShardMap(shard_maps_, response); });
}

grpc::ServerUnaryReactor* AdminService::ApplyShardMap(grpc::CallbackServerContext* context,
                                                      const v1::ApplyShardMapRequest* request,
                                                      v1::ShardMapResponse* response) {
  return Guarded(context, gate_, "ApplyShardMap", "", Scope::kAdmin,
                 [&] { return admin::ApplyShardMap(shard_maps_, *request, response); });
}

}  // namespace wal::server
