// The HTTP/JSON API behind the transport: decodes a request (http_decode.h),
// passes it through the request gate, runs it against the engine or the admin
// operations (grpc_services.h) and encodes the answer (http_response.h). The
// HTTP library only carries bytes to and from Serve().
//
// Failure: Serve() never throws and never aborts; every input gets a response,
// a 4xx for bad input. A write's response is 200 only for durable=TRUE (503 for
// FALSE, 500 for UNKNOWN), so `curl --fail` treats the others as failures.
//
// Threading: Serve() is thread-safe and blocks the calling thread until a
// write's outcome is known. Ownership: the engine, gate, metrics and shard-map
// control outlive the HttpApi; null gate, metrics or shard maps mean no auth or
// routing, no metrics, and not sharded.
#pragma once

#include "engine/engine.h"
#include "server/http_decode.h"
#include "server/http_response.h"
#include "server/metrics.h"
#include "server/request_gate.h"
#include "server/shard_map_control.h"
#include "server/write_submitter.h"

namespace wal::server {

class HttpApi {
 public:
  HttpApi(engine::Engine* engine, RequestGate* gate, Metrics* metrics, ShardMapControl* shard_maps)
      : engine_(engine), gate_(gate), metrics_(metrics), shard_maps_(shard_maps), submitter_(engine, gate, metrics) {}
  HttpApi(const HttpApi&) = delete;
  HttpApi& operator=(const HttpApi&) = delete;

  // Every response carries X-Request-Id: the request's when usable, else a new one.
  HttpResponse Serve(const HttpRequest& request) const;

 private:
  HttpResponse ServeDecoded(const HttpRequest& request, HttpCall& call) const;
  HttpResponse Dispatch(HttpCall& call) const;
  HttpResponse Write(HttpCall& call) const;
  // POST /v1/log:writeBatch: always 200 with one result per write (each
  // passes the gate on its own), unless the batch itself is malformed.
  HttpResponse WriteBatch(HttpCall& call) const;
  void CountRejectedWrite(const std::string& name, bool served, const Status& status) const;

  engine::Engine* engine_;
  RequestGate* gate_;
  Metrics* metrics_;
  ShardMapControl* shard_maps_;
  WriteSubmitter submitter_;
};

}  // namespace wal::server
