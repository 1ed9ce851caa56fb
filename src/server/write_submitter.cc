#include "server/write_submitter.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <utility>

#include "common/log_context.h"
#include "server/grpc_call.h"
#include "server/status_mapping.h"

namespace wal::server {

v1::WriteResult RefusedResult(const Status& status) {
  v1::WriteResult result;
  const grpc::Status mapped = ToGrpcStatus(status);
  result.mutable_refused()->set_code(static_cast<int32_t>(mapped.error_code()));
  result.mutable_refused()->set_message(mapped.error_message());
  return result;
}

void WriteSubmitter::Submit(std::string_view authorization, const v1::WriteToLogRequest& request, Done done) const {
  const auto started = std::chrono::steady_clock::now();
  const std::string& name = request.namespace_();
  LogNamespaceScope log_namespace(name);
  engine::NamespaceView view;
  if (gate_ != nullptr) {
    Admission admission = gate_->AdmitWrite(authorization, name);
    if (!admission.ok()) {
      LogRefusal(admission, "write");
      if (metrics_ != nullptr) metrics_->WriteRejected(admission.view.served() ? name : "", admission.status.code());
      Status refusal = admission.status;
      // The unary call names the right shard in trailing metadata; a result
      // has only its message for it.
      if (admission.misdirected()) {
        refusal = refusal.WithContext("shard " + admission.shard + " at " + admission.address);
      }
      done(RefusedResult(refusal));
      return;
    }
    view = std::move(admission.view);
  } else {
    view = engine_->View(name);
  }
  // Metric labels only for a served namespace: names from requests are unbounded.
  std::string label = view.served() ? name : "";
  engine_->WriteToLog(view, request, [metrics = metrics_, started, label = std::move(label),
                                      done = std::move(done)](engine::WriteOutcome outcome) {
    if (!outcome.rejection.ok()) {
      if (metrics != nullptr) metrics->WriteRejected(label, outcome.rejection.code());
      done(RefusedResult(outcome.rejection));
      return;
    }
    if (metrics != nullptr) {
      metrics->WriteAnswered(label, outcome.response.durable(), std::chrono::steady_clock::now() - started);
    }
    if (outcome.response.durable() != v1::TRUE) {
      LogNamespaceScope log_namespace(label);
      spdlog::warn("write to {} answered durable={}: {}", label, v1::Durable_Name(outcome.response.durable()),
                   outcome.response.message());
    }
    v1::WriteResult result;
    *result.mutable_written() = std::move(outcome.response);
    done(std::move(result));
  });
}

}  // namespace wal::server
