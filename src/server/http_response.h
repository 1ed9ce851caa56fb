// HTTP responses of the API, independent of the HTTP library that sends them:
// JSON error bodies, protobuf messages in their JSON mapping, and shard
// refusals (docs/api.md).
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

// {"code": "<StatusCode name>", "message": "..."} with `http_status`, or with
// ToHttpStatus(status) when it is 0.
HttpResponse ErrorResponse(const Status& status, int http_status = 0);
// The message in protobuf's JSON mapping with proto field names; an
// unprintable message becomes a 500 error body.
HttpResponse MessageResponse(const google::protobuf::Message& message, int http_status = 200);
// A refusal by the request gate: a 421 with where to go for another shard's
// namespace, else the plain error.
HttpResponse RefusalResponse(const Admission& admission);
// The body of an error the transport produced before any route ran (a
// malformed request line, an oversized body): {"code", "message"}.
std::string TransportErrorBody(int http_status);

}  // namespace wal::server
