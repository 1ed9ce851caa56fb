// HTTP/JSON front end: cpp-httplib carries the bytes; HttpApi (http_api.h)
// decodes, authorises, runs and encodes every request, so the routes, bodies and
// error shapes are documented there and in docs/api.md, and the decoding can be
// tested and fuzzed without a socket.
//
// Failure: no request can stop the server. Requests httplib refuses itself (a
// malformed request line or headers, a URI over 8 KiB, a body over
// max_request_bytes) get a JSON error body too.
//
// Threading: requests are served on a pool of 16 threads.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "common/status.h"
#include "config/config.h"
#include "engine/engine.h"
#include "server/http_api.h"
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
  // Connections served at once. Each open connection, idle keep-alive ones
  // included, holds one thread of the gateway's pool; connections past it wait
  // for a thread to come free.
  size_t max_connections = 256;
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

  HttpGatewayOptions options_;
  std::unique_ptr<HttpApi> api_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace wal::server
