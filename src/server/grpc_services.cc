#include "server/grpc_services.h"

#include <google/protobuf/util/json_util.h>
#include <grpcpp/support/proto_buffer_reader.h>
#include <grpcpp/support/proto_buffer_writer.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <memory>

#include "common/log_context.h"
#include "server/grpc_call.h"
#include "server/logging.h"
#include "server/namespace_json.h"
#include "server/status_mapping.h"
#include "server/write_batch.h"
#include "server/write_stream.h"

namespace wal::server {
namespace {

grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* context, const Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

// One admin call: parse, admit (the namespace is `name_of(request)`), run
// `body(request, &response)`, serialize. Whatever happens, the call is
// finished exactly once and nothing escapes to gRPC's thread.
template <typename Request, typename Response, typename NameOf, typename Body>
grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* context, RequestGate* gate, std::string_view call,
                                Scope scope, const grpc::ByteBuffer* bytes, grpc::ByteBuffer* out, NameOf&& name_of,
                                Body&& body) {
  Status status;
  try {
    status = [&]() -> Status {
      CallMetadata metadata = ReadCallMetadata(context);
      RequestIdScope request_id(metadata.request_id);
      Request request;
      WAL_RETURN_IF_ERROR(ParseRequest(*bytes, &request));
      LogNamespaceScope log_namespace(name_of(request));
      if (gate != nullptr) {
        Admission admission = gate->Admit(metadata.authorization, name_of(request), scope);
        if (!admission.ok()) return Refuse(context, admission, call);
        // A call that also writes into a second namespace (a redrive into
        // another one) needs the right to write there as well.
        if constexpr (requires { request.to_namespace(); }) {
          if (!request.to_namespace().empty()) {
            admission = gate->Admit(metadata.authorization, request.to_namespace(), Scope::kWrite);
            if (!admission.ok()) return Refuse(context, admission, call);
          }
        }
      }
      Response response;
      WAL_RETURN_IF_ERROR(body(request, &response));
      return SerializeResponse(response, out);
    }();
  } catch (const std::exception& error) {
    status = HandlerFailed(call, error.what());
  } catch (...) {
    status = HandlerFailed(call, "an exception that is not a std::exception");
  }
  return FinishNow(context, status);
}

std::string ConfigName(const google::protobuf::Struct& config) {
  auto found = config.fields().find("name");
  return found == config.fields().end() ? std::string() : found->second.string_value();
}

}  // namespace

Status ParseRequestBytes(std::string_view bytes, google::protobuf::Message* message) {
  if (!message->ParseFromArray(bytes.data(), static_cast<int>(std::min<size_t>(bytes.size(), INT32_MAX)))) {
    return ParseFailure(*message);
  }
  return Status::Ok();
}

grpc::ServerUnaryReactor* WriteAheadLogService::WriteToLog(grpc::CallbackServerContext* context,
                                                           const grpc::ByteBuffer* bytes, grpc::ByteBuffer* out) {
  const auto started = std::chrono::steady_clock::now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // Claimed by whoever finishes the call: the write's callback, or a refusal
  // or failure here. The loser touches neither `out` nor the reactor.
  auto answered = std::make_shared<std::atomic<bool>>(false);
  auto finish = [reactor, answered](const Status& status) {
    if (!answered->exchange(true)) reactor->Finish(ToGrpcStatus(status));
  };
  try {
    CallMetadata metadata = ReadCallMetadata(context);
    RequestIdScope request_id(metadata.request_id);
    v1::WriteToLogRequest request;
    Status parsed = ParseRequest(*bytes, &request);
    if (!parsed.ok()) {
      if (metrics_ != nullptr) metrics_->WriteRejected("", parsed.code());
      finish(parsed);
      return reactor;
    }
    const std::string& name = request.namespace_();
    LogNamespaceScope log_namespace(name);
    // The namespace is looked up once, by the gate or here; the metric label
    // of a namespace that is not served is "" (names from requests are unbounded).
    engine::NamespaceView view;
    if (gate_ != nullptr) {
      Admission admission = gate_->AdmitWrite(metadata.authorization, name);
      if (!admission.ok()) {
        if (metrics_ != nullptr) metrics_->WriteRejected(admission.view.served() ? name : "", admission.status.code());
        finish(Refuse(context, admission, "write"));
        return reactor;
      }
      view = std::move(admission.view);
    } else {
      view = engine_->View(name);
    }
    const std::string label = view.served() ? name : "";
    engine_->WriteToLog(view, request, [this, reactor, out, started, name, label, answered, id = metadata.request_id](
                                           engine::WriteOutcome outcome) {
      if (answered->exchange(true)) return;
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
        LogNamespaceScope log_namespace(name);
        spdlog::warn("write to {} answered durable={}: {}", name, v1::Durable_Name(outcome.response.durable()),
                     outcome.response.message());
      }
      reactor->Finish(ToGrpcStatus(SerializeResponse(outcome.response, out)));
    });
  } catch (const std::exception& error) {
    finish(HandlerFailed("write", error.what()));
  } catch (...) {
    finish(HandlerFailed("write", "an exception that is not a std::exception"));
  }
  return reactor;
}

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* WriteAheadLogService::WriteToLogStream(
    grpc::CallbackServerContext* context) {
  return new WriteStreamReactor(context, &submitter_);
}

grpc::ServerUnaryReactor* WriteAheadLogService::WriteToLogBatch(grpc::CallbackServerContext* context,
                                                                const grpc::ByteBuffer* bytes, grpc::ByteBuffer* out) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // As in WriteToLog: whoever claims `answered` first finishes the call.
  auto answered = std::make_shared<std::atomic<bool>>(false);
  try {
    CallMetadata metadata = ReadCallMetadata(context);
    RequestIdScope request_id(metadata.request_id);
    v1::WriteToLogBatchRequest request;
    Status checked = ParseRequest(*bytes, &request);
    if (checked.ok()) checked = CheckBatch(request);
    if (!checked.ok()) {
      answered->store(true);
      reactor->Finish(ToGrpcStatus(checked));
      return reactor;
    }
    SubmitBatch(submitter_, metadata.authorization, request,
                [reactor, out, answered](v1::WriteToLogBatchResponse response) {
                  if (!answered->exchange(true)) reactor->Finish(ToGrpcStatus(SerializeResponse(response, out)));
                });
  } catch (const std::exception& error) {
    Status failed = HandlerFailed("write batch", error.what());
    if (!answered->exchange(true)) reactor->Finish(ToGrpcStatus(failed));
  }
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

namespace {

const char* ApplyChangeName(engine::Engine::ApplyChange change) {
  switch (change) {
    case engine::Engine::ApplyChange::kCreate:
      return "create";
    case engine::Engine::ApplyChange::kPolicy:
      return "policy";
    case engine::Engine::ApplyChange::kReopen:
      return "reopen";
    case engine::Engine::ApplyChange::kUnchanged:
      break;
  }
  return "unchanged";
}

Status DecodeAndApply(engine::Engine& engine, const v1::ApplyNamespaceRequest& request,
                      v1::NamespaceResponse* response) {
  google::protobuf::Struct named = request.config();
  if (!request.name().empty()) {
    // The request's name (the HTTP path's) fills in or must match the config's.
    auto& fields = *named.mutable_fields();
    auto found = fields.find("name");
    if (found == fields.end()) {
      fields["name"].set_string_value(request.name());
    } else if (found->second.kind_case() != google::protobuf::Value::kStringValue ||
               found->second.string_value() != request.name()) {
      return InvalidArgument("name: the config's name does not match the request's name '" + request.name() + "'");
    }
  }
  WAL_ASSIGN_OR_RETURN(config::NamespaceConfig config, NamespaceFromStruct(named, engine.module_catalog()));
  if (request.validate_only()) {
    config::NamespaceConfig filled;
    WAL_ASSIGN_OR_RETURN(engine::Engine::ApplyChange change, engine.CheckApply(config, &filled));
    response->set_change(ApplyChangeName(change));
    WAL_ASSIGN_OR_RETURN(*response->mutable_config(), NamespaceToStruct(filled));
    return Status::Ok();
  }
  WAL_RETURN_IF_ERROR(engine.ApplyNamespace(config));
  WAL_ASSIGN_OR_RETURN(*response->mutable_config(), NamespaceToStruct(config));
  return Status::Ok();
}

}  // namespace

Status ApplyNamespace(engine::Engine& engine, const v1::ApplyNamespaceRequest& request, v1::NamespaceResponse* response,
                      Metrics* metrics) {
  Status applied = DecodeAndApply(engine, request, response);
  // A dry run that finds a problem has done its job; it is not a rejected change.
  if (!applied.ok() && !request.validate_only() && metrics != nullptr) metrics->ConfigRejected(ConfigSource::kApply);
  return applied;
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

v1::LogRecordView::State ViewState(engine::Engine::RecordState state) {
  using State = engine::Engine::RecordState;
  switch (state) {
    case State::kUnknown:
      return v1::LogRecordView::STATE_UNKNOWN;
    case State::kDelayed:
      return v1::LogRecordView::DELAYED;
    case State::kDue:
      return v1::LogRecordView::DUE;
    case State::kInFlight:
      return v1::LogRecordView::IN_FLIGHT;
    case State::kDone:
      return v1::LogRecordView::DONE;
    case State::kDead:
      return v1::LogRecordView::DEAD;
    case State::kDelivered:
      return v1::LogRecordView::DELIVERED;
    case State::kSuperseded:
      return v1::LogRecordView::SUPERSEDED;
  }
  return v1::LogRecordView::STATE_UNKNOWN;
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
    view->set_entry_id(at.entry_id);
    view->set_state(ViewState(at.state));
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
  WAL_ASSIGN_OR_RETURN(uint64_t redriven, engine.RedriveDeadLetters(request.namespace_(), ids, request.to_namespace()));
  response->set_redriven(redriven);
  return Status::Ok();
}

Status PurgeDeadLetters(engine::Engine& engine, const v1::PurgeDeadLettersRequest& request,
                        v1::PurgeDeadLettersResponse* response) {
  // Purging cannot be undone, so "everything" must be asked for in so many
  // words; a request that lost its ids on the way must not empty the DLQ.
  if (request.ids().empty() && !request.all()) {
    return InvalidArgument("purge: name the dead letters to drop in \"ids\", or send \"all\": true to drop every "
                           "one; an empty request purges nothing");
  }
  if (!request.ids().empty() && request.all()) {
    return InvalidArgument("purge: send \"ids\" or \"all\": true, not both");
  }
  // The engine takes no ids to mean every dead letter.
  std::vector<uint64_t> ids(request.ids().begin(), request.ids().end());
  WAL_ASSIGN_OR_RETURN(uint64_t purged, engine.PurgeDeadLetters(request.namespace_(), ids));
  response->set_purged(purged);
  return Status::Ok();
}

}  // namespace admin

grpc::ServerUnaryReactor* AdminService::ListNamespaces(grpc::CallbackServerContext* context, const Raw* request,
                                                       Raw* response) {
  return Unary<v1::ListNamespacesRequest, v1::ListNamespacesResponse>(
      context, gate_, "ListNamespaces", Scope::kRead, request, response, [](const auto&) { return std::string(); },
      [&](const auto&, auto* result) { return admin::ListNamespaces(*engine_, result); });
}

grpc::ServerUnaryReactor* AdminService::GetNamespace(grpc::CallbackServerContext* context, const Raw* request,
                                                     Raw* response) {
  return Unary<v1::GetNamespaceRequest, v1::NamespaceResponse>(
      context, gate_, "GetNamespace", Scope::kRead, request, response, [](const auto& get) { return get.name(); },
      [&](const auto& get, auto* result) { return admin::GetNamespace(*engine_, get, result); });
}

grpc::ServerUnaryReactor* AdminService::ApplyNamespace(grpc::CallbackServerContext* context, const Raw* request,
                                                       Raw* response) {
  return Unary<v1::ApplyNamespaceRequest, v1::NamespaceResponse>(
      context, gate_, "ApplyNamespace", Scope::kAdmin, request, response,
      [](const auto& apply) { return ConfigName(apply.config()); },
      [&](const auto& apply, auto* result) { return admin::ApplyNamespace(*engine_, apply, result, metrics_); });
}

grpc::ServerUnaryReactor* AdminService::DeleteNamespace(grpc::CallbackServerContext* context, const Raw* request,
                                                        Raw* response) {
  return Unary<v1::DeleteNamespaceRequest, v1::DeleteNamespaceResponse>(
      context, gate_, "DeleteNamespace", Scope::kAdmin, request, response,
      [](const auto& remove) { return remove.name(); },
      [&](const auto& remove, auto*) { return admin::DeleteNamespace(*engine_, remove); });
}

grpc::ServerUnaryReactor* AdminService::GetStatus(grpc::CallbackServerContext* context, const Raw* request,
                                                  Raw* response) {
  return Unary<v1::GetStatusRequest, v1::GetStatusResponse>(
      context, gate_, "GetStatus", Scope::kRead, request, response, [](const auto& get) { return get.namespace_(); },
      [&](const auto& get, auto* result) { return admin::GetStatus(*engine_, get, result); });
}

grpc::ServerUnaryReactor* AdminService::ReadLog(grpc::CallbackServerContext* context, const Raw* request,
                                                Raw* response) {
  return Unary<v1::ReadLogRequest, v1::ReadLogResponse>(
      context, gate_, "ReadLog", Scope::kRead, request, response, [](const auto& read) { return read.namespace_(); },
      [&](const auto& read, auto* result) { return admin::ReadLog(*engine_, read, result); });
}

grpc::ServerUnaryReactor* AdminService::ListDeadLetters(grpc::CallbackServerContext* context, const Raw* request,
                                                        Raw* response) {
  return Unary<v1::ListDeadLettersRequest, v1::ListDeadLettersResponse>(
      context, gate_, "ListDeadLetters", Scope::kRead, request, response,
      [](const auto& list) { return list.namespace_(); },
      [&](const auto& list, auto* result) { return admin::ListDeadLetters(*engine_, list, result); });
}

grpc::ServerUnaryReactor* AdminService::RedriveDeadLetters(grpc::CallbackServerContext* context, const Raw* request,
                                                           Raw* response) {
  return Unary<v1::RedriveDeadLettersRequest, v1::RedriveDeadLettersResponse>(
      context, gate_, "RedriveDeadLetters", Scope::kAdmin, request, response,
      [](const auto& redrive) { return redrive.namespace_(); },
      [&](const auto& redrive, auto* result) { return admin::RedriveDeadLetters(*engine_, redrive, result); });
}

grpc::ServerUnaryReactor* AdminService::PurgeDeadLetters(grpc::CallbackServerContext* context, const Raw* request,
                                                         Raw* response) {
  return Unary<v1::PurgeDeadLettersRequest, v1::PurgeDeadLettersResponse>(
      context, gate_, "PurgeDeadLetters", Scope::kAdmin, request, response,
      [](const auto& purge) { return purge.namespace_(); },
      [&](const auto& purge, auto* result) { return admin::PurgeDeadLetters(*engine_, purge, result); });
}

grpc::ServerUnaryReactor* AdminService::GetShardMap(grpc::CallbackServerContext* context, const Raw* request,
                                                    Raw* response) {
  return Unary<v1::GetShardMapRequest, v1::ShardMapResponse>(
      context, gate_, "GetShardMap", Scope::kRead, request, response, [](const auto&) { return std::string(); },
      [&](const auto&, auto* result) { return admin::GetShardMap(shard_maps_, result); });
}

grpc::ServerUnaryReactor* AdminService::ApplyShardMap(grpc::CallbackServerContext* context, const Raw* request,
                                                      Raw* response) {
  return Unary<v1::ApplyShardMapRequest, v1::ShardMapResponse>(
      context, gate_, "ApplyShardMap", Scope::kAdmin, request, response, [](const auto&) { return std::string(); },
      [&](const auto& apply, auto* result) { return admin::ApplyShardMap(shard_maps_, apply, result); });
}

}  // namespace wal::server
