#include "server/grpc_call.h"

#include <google/protobuf/message.h>
#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/support/proto_buffer_reader.h>
#include <grpcpp/support/proto_buffer_writer.h>
#include <spdlog/spdlog.h>

#include "server/logging.h"

namespace wal::server {

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

Status Refuse(grpc::CallbackServerContext* context, const Admission& admission, std::string_view call) {
  LogRefusal(admission, call);
  if (admission.misdirected()) {
    context->AddTrailingMetadata(kShardAddressKey, admission.address);
    context->AddTrailingMetadata("wal-shard", admission.shard);
  }
  return admission.status;
}

Status HandlerFailed(std::string_view call, std::string_view what) {
  spdlog::error("{}: the handler failed: {}", call, what);
  return Internal("the request handler failed");
}

Status ParseFailure(const google::protobuf::Message& message) {
  return InvalidArgument("request: the bytes are not a valid " + message.GetTypeName() +
                         " (truncated, another message, or a string field that is not UTF-8)");
}

Status ParseRequest(const grpc::ByteBuffer& bytes, google::protobuf::Message* message) {
  grpc::ByteBuffer shared(bytes);  // shares the slices; the reader needs a mutable buffer
  grpc::ProtoBufferReader reader(&shared);
  if (!reader.status().ok() || !message->ParseFromZeroCopyStream(&reader)) return ParseFailure(*message);
  return Status::Ok();
}

Status SerializeResponse(const google::protobuf::Message& message, grpc::ByteBuffer* out) {
  bool own_buffer = false;
  grpc::Status serialized = grpc::SerializationTraits<google::protobuf::Message>::Serialize(message, out, &own_buffer);
  if (!serialized.ok()) return Internal("the response cannot be serialized: " + serialized.error_message());
  return Status::Ok();
}

}  // namespace wal::server
