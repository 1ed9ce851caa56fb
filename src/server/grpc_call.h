// What every gRPC handler of wald does around its work: read the caller's
// metadata, parse the request from raw bytes, serialize the response, and turn
// a refusal or a failed handler into the call's status. Shared by the unary
// services (grpc_services.cc) and the write stream (write_stream.cc).
//
// Threading: pure functions, or calls on the one context they are given.
// Failure: none throws for any input; errors are Status values.
#pragma once

#include <grpcpp/grpcpp.h>

#include <string>
#include <string_view>

#include "common/status.h"
#include "server/request_gate.h"

namespace google::protobuf {
class Message;
}

namespace wal::server {

// Every call reads its request id and bearer token from the metadata first:
// the id goes on every log line of the call, the token to the gate.
struct CallMetadata {
  std::string authorization;  // never logged
  std::string request_id;
};

// Reads the caller's metadata and echoes the request id back in the initial
// metadata (so call it before the first response is sent).
CallMetadata ReadCallMetadata(grpc::CallbackServerContext* context);

// Logs a refusal: auth refusals at warn (someone may be probing), the rest at debug.
void LogRefusal(const Admission& admission, std::string_view call);

// The status of a refused call; a misdirected one also names the right shard
// in trailing metadata.
Status Refuse(grpc::CallbackServerContext* context, const Admission& admission, std::string_view call);

// INTERNAL, after logging what failed: a handler bug costs one call.
Status HandlerFailed(std::string_view call, std::string_view what);

// INVALID_ARGUMENT naming the message type the bytes were meant to be.
Status ParseFailure(const google::protobuf::Message& message);

Status ParseRequest(const grpc::ByteBuffer& bytes, google::protobuf::Message* message);
Status SerializeResponse(const google::protobuf::Message& message, grpc::ByteBuffer* out);

}  // namespace wal::server
