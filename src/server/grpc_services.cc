#include "server/grpc_services.h"

#include <google/protobuf/util/json_util.h>

#include "server/namespace_json.h"
#include "server/status_mapping.h"

namespace wal::server {
namespace {

grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* context, const Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

}  // namespace

grpc::ServerUnaryReactor* WriteAheadLogService::WriteToLog(grpc::CallbackServerContext* context,
                                                           const v1::WriteToLogRequest* request,
                                                           v1::WriteToLogResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  engine_->WriteToLog(*request, [reactor, response](engine::WriteOutcome outcome) {
    if (!outcome.rejection.ok()) {
      reactor->Finish(ToGrpcStatus(outcome.rejection));
      return;
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
  WAL_ASSIGN_OR_RETURN(config::NamespaceConfig config, NamespaceFromStruct(request.config()));
  WAL_RETURN_IF_ERROR(engine.ApplyNamespace(config));
  WAL_ASSIGN_OR_RETURN(*response->mutable_config(), NamespaceToStruct(config));
  return Status::Ok();
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
    std::string json;
    auto printed = google::protobuf::util::MessageToJsonString(at.record, &json, print_options);
    if (!printed.ok()) return Internal("entry " + std::to_string(at.id) + ": " + std::string(printed.message()));
    auto parsed = google::protobuf::util::JsonStringToMessage(json, view->mutable_record());
    if (!parsed.ok()) return Internal("entry " + std::to_string(at.id) + ": " + std::string(parsed.message()));
    next_id = at.id + 1;
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
  return FinishNow(context, admin::ListNamespaces(*engine_, response));
}

grpc::ServerUnaryReactor* AdminService::GetNamespace(grpc::CallbackServerContext* context,
                                                     const v1::GetNamespaceRequest* request,
                                                     v1::NamespaceResponse* response) {
  return FinishNow(context, admin::GetNamespace(*engine_, *request, response));
}

grpc::ServerUnaryReactor* AdminService::ApplyNamespace(grpc::CallbackServerContext* context,
                                                       const v1::ApplyNamespaceRequest* request,
                                                       v1::NamespaceResponse* response) {
  return FinishNow(context, admin::ApplyNamespace(*engine_, *request, response));
}

grpc::ServerUnaryReactor* AdminService::DeleteNamespace(grpc::CallbackServerContext* context,
                                                        const v1::DeleteNamespaceRequest* request,
                                                        v1::DeleteNamespaceResponse*) {
  return FinishNow(context, admin::DeleteNamespace(*engine_, *request));
}

grpc::ServerUnaryReactor* AdminService::GetStatus(grpc::CallbackServerContext* context,
                                                  const v1::GetStatusRequest* request, v1::GetStatusResponse* response) {
  return FinishNow(context, admin::GetStatus(*engine_, *request, response));
}

grpc::ServerUnaryReactor* AdminService::ReadLog(grpc::CallbackServerContext* context, const v1::ReadLogRequest* request,
                                                v1::ReadLogResponse* response) {
  return FinishNow(context, admin::ReadLog(*engine_, *request, response));
}

}  // namespace wal::server

namespace wal::server {

grpc::ServerUnaryReactor* AdminService::ListDeadLetters(grpc::CallbackServerContext* context,
                                                        const v1::ListDeadLettersRequest* request,
                                                        v1::ListDeadLettersResponse* response) {
  return FinishNow(context, admin::ListDeadLetters(*engine_, *request, response));
}

grpc::ServerUnaryReactor* AdminService::RedriveDeadLetters(grpc::CallbackServerContext* context,
                                                           const v1::RedriveDeadLettersRequest* request,
                                                           v1::RedriveDeadLettersResponse* response) {
  return FinishNow(context, admin::RedriveDeadLetters(*engine_, *request, response));
}

grpc::ServerUnaryReactor* AdminService::PurgeDeadLetters(grpc::CallbackServerContext* context,
                                                         const v1::PurgeDeadLettersRequest* request,
                                                         v1::PurgeDeadLettersResponse* response) {
  return FinishNow(context, admin::PurgeDeadLetters(*engine_, *request, response));
}

}  // namespace wal::server
