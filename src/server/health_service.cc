#include "server/health_service.h"

#include <mutex>

namespace wal::server {
namespace {

using grpc::health::v1::HealthCheckResponse;

class WatchReactor final : public grpc::ServerWriteReactor<HealthCheckResponse> {
 public:
  explicit WatchReactor(HealthCheckResponse::ServingStatus status) {
    response_.set_status(status);
    StartWrite(&response_);
  }

  void OnWriteDone(bool ok) override {
    if (!ok) FinishOnce(grpc::Status::OK);
  }
  void OnCancel() override { FinishOnce(grpc::Status::CANCELLED); }
  void OnDone() override { delete this; }

 private:
  void FinishOnce(const grpc::Status& status) {
    std::lock_guard lock(mutex_);
    if (finished_) return;
    finished_ = true;
    Finish(status);
  }

  HealthCheckResponse response_;
  std::mutex mutex_;
  bool finished_ = false;
};

}  // namespace

HealthCheckResponse::ServingStatus HealthService::StatusOf(const std::string& service) const {
  if (service.empty() || service == "wal.v1.WriteAheadLog" || service == "wal.v1.Admin") {
    return serving_.load() ? HealthCheckResponse::SERVING : HealthCheckResponse::NOT_SERVING;
  }
  return HealthCheckResponse::SERVICE_UNKNOWN;
}

grpc::ServerUnaryReactor* HealthService::Check(grpc::CallbackServerContext* context, const grpc::ByteBuffer* bytes,
                                               grpc::ByteBuffer* out) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  grpc::health::v1::HealthCheckRequest request;
  grpc::ByteBuffer shared(*bytes);
  if (!grpc::SerializationTraits<grpc::health::v1::HealthCheckRequest>::Deserialize(&shared, &request).ok()) {
    reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                 "request: the bytes are not a valid grpc.health.v1.HealthCheckRequest"));
    return reactor;
  }
  const auto status = StatusOf(request.service());
  if (status == HealthCheckResponse::SERVICE_UNKNOWN) {
    reactor->Finish(grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown service " + request.service()));
    return reactor;
  }
  HealthCheckResponse response;
  response.set_status(status);
  bool own_buffer = false;
  reactor->Finish(grpc::SerializationTraits<HealthCheckResponse>::Serialize(response, out, &own_buffer));
  return reactor;
}

grpc::ServerWriteReactor<HealthCheckResponse>* HealthService::Watch(
    grpc::CallbackServerContext*, const grpc::health::v1::HealthCheckRequest* request) {
  return new WatchReactor(StatusOf(request->service()));
}

}  // namespace wal::server
