// HTTP request decoding, independent of the HTTP library that carries it: a
// request (method, path, query, headers, body) becomes the API call it asks for,
// with its request message filled in, or the error to answer.
//
// Routes (docs/api.md):
//   GET  /healthz   GET /readyz   GET /metrics
//   POST   /v1/namespaces/{name}/log:write          body: WriteToLogRequest (JSON)
//   POST   /v1/log:writeBatch                       body: WriteToLogBatchRequest (JSON), or
//                                                   NDJSON (one WriteToLogRequest per line)
//   GET    /v1/namespaces                           ListNamespaces
//   GET    /v1/namespaces/{name}                    GetNamespace
//   PUT    /v1/namespaces/{name}                    body: the namespace config (JSON object)
//   DELETE /v1/namespaces/{name}[?purge_data=true|false]
//   GET    /v1/namespaces/{name}/log[?from=ID&limit=N]
//   GET    /v1/namespaces/{name}/dlq[?from=ID&limit=N]
//   POST   /v1/namespaces/{name}/dlq:redrive        body (optional): {"ids": [...]}
//   POST   /v1/namespaces/{name}/dlq:purge          body: {"ids": [...]} or {"all": true}
//   GET    /v1/status[?namespace=NAME]
//   GET    /v1/shard-map   PUT /v1/shard-map        body: the shard map document (YAML or JSON)
// HEAD is answered like GET. An unknown path is 404; a known path with another
// method is 405, with the methods the path accepts.
//
// Failure: DecodeHttpRequest never throws and never aborts, whatever the bytes.
// Text that ends up in a request message or an error message (path segments,
// query values, bodies) must be UTF-8; anything else is a 400. Decoding checks
// the form of a request only; whether the namespace exists, the config is valid
// or the caller may do it is for the engine and the request gate.
//
// Threading: pure functions over values.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/status.h"
#include "server/auth.h"
#include "wal/v1/admin.pb.h"
#include "wal/v1/wal.pb.h"

namespace wal::server {

// A request as the transport received it. The path is already percent-decoded
// and the query split into decoded name/value pairs, in their order.
struct HttpRequest {
  std::string method;
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;
  std::vector<std::pair<std::string, std::string>> headers;  // names in any case
  std::string body;
};

enum class HttpRoute {
  kHealth,
  kReady,
  kMetrics,
  kWrite,
  kWriteBatch,
  kListNamespaces,
  kGetNamespace,
  kApplyNamespace,
  kDeleteNamespace,
  kGetStatus,
  kReadLog,
  kListDeadLetters,
  kRedriveDeadLetters,
  kPurgeDeadLetters,
  kGetShardMap,
  kApplyShardMap,
};

using HttpCallMessage =
    std::variant<std::monostate, v1::WriteToLogRequest, v1::WriteToLogBatchRequest, v1::GetNamespaceRequest, v1::ApplyNamespaceRequest,
                 v1::DeleteNamespaceRequest, v1::GetStatusRequest, v1::ReadLogRequest, v1::ListDeadLettersRequest,
                 v1::RedriveDeadLettersRequest, v1::PurgeDeadLettersRequest, v1::ApplyShardMapRequest>;

// A request for one of the routes. When its query or body is malformed,
// `invalid` says why: answer 400, but only once the request gate has admitted
// the caller, so an unauthenticated caller learns nothing about its input.
struct HttpCall {
  HttpRoute route = HttpRoute::kHealth;
  // The request gate's check (RequestGate::Admit): `gated` is false for health
  // and metrics, and for writes, which pass RequestGate::AdmitWrite instead
  // (each write of a batch on its own).
  bool gated = false;
  std::string name;  // the namespace the call is about ("" = cluster-wide)
  Scope scope = Scope::kRead;
  std::string authorization;  // the Authorization header, "" when absent
  HttpCallMessage message;    // the request message for routes that have one
  bool ndjson = false;        // a batch sent as NDJSON, answered the same way
  Status invalid;
};

// A request no route serves (404), a route with another method (405) or a path
// that is not UTF-8 (400).
struct HttpError {
  int http_status = 400;
  Status status;
  std::string allow;  // a 405's Allow header: the methods the path accepts
};

using HttpDecoded = std::variant<HttpCall, HttpError>;

HttpDecoded DecodeHttpRequest(const HttpRequest& request);

// The value of header `name` (case-insensitive), or "" when absent.
std::string_view HeaderValue(const HttpRequest& request, std::string_view name);

}  // namespace wal::server
