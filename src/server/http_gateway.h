// HTTP/JSON front end. Bodies use protobuf's JSON mapping of the same messages
// the gRPC API uses, so the two APIs cannot drift apart.
//
//   POST   /v1/namespaces/{namespace}/log:write   WriteToLogRequest -> WriteToLogResponse
//   GET    /v1/namespaces                          ListNamespacesResponse
//   GET    /v1/namespaces/{name}                   NamespaceResponse
//   PUT    /v1/namespaces/{name}                   namespace config -> NamespaceResponse
//   DELETE /v1/namespaces/{name}[?purge_data=true]
//   GET    /v1/status[?namespace=NAME]             GetStatusResponse
//   GET    /v1/namespaces/{name}/log?from=ID&limit=N  ReadLogResponse
//   GET    /healthz   (process is up)      GET /readyz   (engine is serving)
//   GET    /metrics   Prometheus text format (metrics.h)
//
// Errors: a 4xx/5xx status with {"code": "...", "message": "..."}; a namespace of
// another shard answers 421 with {code, message, shard, address, http_address}.
// Requests carry `Authorization: Bearer <token>` when auth is on and may carry
// `X-Request-Id` (echoed back; generated when absent).
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "common/status.h"
#include "config/config.h"
#include "engine/engine.h"
#include "server/metrics.h"
#include "server/request_gate.h"
#include "server/shard_map_control.h"
#include "server/tls.h"

namespace httplib {
class Server;
}

namespace wal::server {

struct HttpGatewayOptions {
  size_t max_request_bytes = 72ull << 20;
  // Set: HTTPS with the certificate in force (mTLS when it has a client CA); must
  // outlive the gateway. Null: plain HTTP.
  const ServerTls* tls = nullptr;
  RequestGate* gate = nullptr;    // null: admit everything
  Metrics* metrics = nullptr;     // null: no /metrics and no write metrics
  ShardMapControl* shard_maps = nullptr;  // null: not sharded (GET /v1/shard-map shows none)
};

class HttpGateway {
 public:
  // `engine` (and the options' gate and metrics) must outlive the gateway.
  explicit HttpGateway(engine::Engine* engine, size_t max_request_bytes);
  HttpGateway(engine::Engine* engine, HttpGatewayOptions options);
  ~HttpGateway();

  // Binds `listen` ("host:port"; port 0 picks a free port) and starts serving on
  // a background thread pool. Fails if the address cannot be bound.
  Status Start(const std::string& listen);
  int port() const { return port_; }
  // Stops accepting, finishes requests in flight. Idempotent.
  void Stop();

 private:
  void RegisterRoutes();

  engine::Engine* engine_;
  HttpGatewayOptions options_;
  size_t max_request_bytes_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace wal::server
