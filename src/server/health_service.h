// grpc.health.v1.Health, served as a generated service so server reflection can
// describe it. The overall service ("") and wal's own services report SERVING
// while wald serves and NOT_SERVING once shutdown begins.
//
// Check takes its request as raw bytes, like wal's own services
// (grpc_services.h): bytes that are not a HealthCheckRequest get
// INVALID_ARGUMENT rather than gRPC's empty UNIMPLEMENTED.
//
// Threading: all methods are thread-safe.
#pragma once

#include <atomic>

#include "grpc/health/v1/health.grpc.pb.h"

namespace wal::server {

using HealthRawService = grpc::health::v1::Health::WithRawCallbackMethod_Check<
    grpc::health::v1::Health::WithCallbackMethod_Watch<grpc::health::v1::Health::Service>>;

class HealthService final : public HealthRawService {
 public:
  void SetServing(bool serving) { serving_.store(serving); }

  using HealthRawService::Check;
  grpc::ServerUnaryReactor* Check(grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
                                  grpc::ByteBuffer* response) override;
  // Sends the current status once, then holds the stream open until the client
  // cancels or the server shuts down.
  using HealthRawService::Watch;
  grpc::ServerWriteReactor<grpc::health::v1::HealthCheckResponse>* Watch(
      grpc::CallbackServerContext* context, const grpc::health::v1::HealthCheckRequest* request) override;

 private:
  // The status for `service`, or SERVICE_UNKNOWN for a name wald does not serve.
  grpc::health::v1::HealthCheckResponse::ServingStatus StatusOf(const std::string& service) const;

  std::atomic<bool> serving_{true};
};

}  // namespace wal::server
