// HTTP responses of the API, independent of the HTTP library that sends them:
// error answers, protobuf messages in their JSON mapping, and shard refusals
// (docs/api.md, "HTTP conventions").
//
// Every error answer, whichever layer refuses the request (decoding, the
// request gate, the engine, the admin calls, the transport), is built here in
// the one shape Google's REST APIs and grpc-gateway use:
//   {"error": {"code": <HTTP status>, "message": "...", "status": "<gRPC code name>",
//              "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
//                           "reason": "<wal code>", "domain": "wal", "metadata": {...}}, ...]}}
// A 429 or 503 also carries Retry-After (and a google.rpc.RetryInfo detail).
//
// Failure: none of these throws. Request-derived text that reaches a message
// (a path, a name, a body excerpt quoted by a parser) may hold bytes that are not
// UTF-8; they are written as U+FFFD so the body is always valid JSON.
//
// Threading: pure functions over values.
#pragma once

#include <google/protobuf/message.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "server/request_gate.h"

namespace wal::server {

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// What a 429 or 503 tells the client to wait when its refusal named no better
// figure: a draining instance or an unserved namespace may be back, or another
// instance reachable, within a second.
inline constexpr int kDefaultRetryAfterSeconds = 1;

// What an error answer carries beyond its Status.
struct ErrorExtras {
  std::string status_name;  // "" = the gRPC name of the Status's code
  std::string reason;       // the ErrorInfo reason; "" = wal's name of the Status's code
  std::vector<std::pair<std::string, std::string>> metadata;  // ErrorInfo metadata
  int retry_after_seconds = 0;  // 0 = kDefaultRetryAfterSeconds on a 429 or 503, none otherwise
  std::string allow;            // the Allow header of a 405
};

// The error answer for `status`, with HTTP status `http_status`, or with
// ToHttpStatus(status) when it is 0.
HttpResponse ErrorResponse(const Status& status, int http_status = 0, const ErrorExtras& extras = {});
// The message in protobuf's JSON mapping with proto field names and every
// field printed, defaults included (so `jq .id` finds an id of 0); an
// unprintable message becomes a 500 error. A 503 gets Retry-After.
HttpResponse MessageResponse(const google::protobuf::Message& message, int http_status = 200);
// A refusal by the request gate: a 421 with where to go for another shard's
// namespace, else the plain error with the gate's Retry-After.
HttpResponse RefusalResponse(const Admission& admission);
// The error answer for a request the transport refused before any route ran
// (a malformed request line, a body over `max_request_bytes`).
HttpResponse TransportErrorResponse(int http_status, size_t max_request_bytes);

}  // namespace wal::server
