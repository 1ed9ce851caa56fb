// The gRPC request-to-engine path without a socket: request bytes are parsed
// as the method's message exactly as the services do (ParseRequestBytes), pass
// the request gate, and run against a live engine on the embedded log
// (engine_fixture.h): WriteToLog and every admin call. Bytes that are not the
// message are INVALID_ARGUMENT; a call that parses answers OK or a clear
// refusal, never INTERNAL, a write's outcome is known (never UNKNOWN), and
// every response serializes.
//
// Input: byte 0 picks the method, byte 1 the authorization metadata; the rest
// is the serialized request.
#include <cstddef>
#include <cstdint>
#include <future>
#include <string>
#include <string_view>

#include "engine_fixture.h"
#include "fuzz_check.h"
#include "server/grpc_services.h"
#include "server/namespace_json.h"
#include "server/status_mapping.h"
#include "server/write_batch.h"

namespace {

using namespace wal;
using namespace wal::server;

enum Method {
  kWriteToLog,
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
  kWriteToLogBatch,
  kMethods,
};

void CheckAnswer(const Status& status) {
  FUZZ_CHECK(status.code() != StatusCode::kInternal);
  FUZZ_CHECK(status.ok() || !status.message().empty());
  (void)ToGrpcStatus(status);
}

// Parse, admit, run `body`, serialize: what AdminService does for each call.
template <typename Request, typename Response, typename NameOf, typename Body>
void Admin(std::string_view bytes, std::string_view authorization, Scope scope, NameOf&& name_of, Body&& body) {
  Request request;
  Status parsed = ParseRequestBytes(bytes, &request);
  if (!parsed.ok()) {
    FUZZ_CHECK(parsed.code() == StatusCode::kInvalidArgument);
    return;
  }
  Admission admission = fuzz::EngineFixture::Get().gate().Admit(authorization, name_of(request), scope);
  if (!admission.ok()) return CheckAnswer(admission.status);
  Response response;
  Status status = body(request, &response);
  CheckAnswer(status);
  if (status.ok()) FUZZ_CHECK(response.SerializeAsString().size() == response.ByteSizeLong());
}

void Write(std::string_view bytes, std::string_view authorization) {
  v1::WriteToLogRequest request;
  Status parsed = ParseRequestBytes(bytes, &request);
  if (!parsed.ok()) {
    FUZZ_CHECK(parsed.code() == StatusCode::kInvalidArgument);
    return;
  }
  fuzz::EngineFixture& fixture = fuzz::EngineFixture::Get();
  Admission admission = fixture.gate().AdmitWrite(authorization, request.namespace_());
  if (!admission.ok()) return CheckAnswer(admission.status);
  std::promise<engine::WriteOutcome> done;
  fixture.engine().WriteToLog(request, [&done](engine::WriteOutcome outcome) { done.set_value(std::move(outcome)); });
  engine::WriteOutcome outcome = done.get_future().get();
  if (!outcome.rejection.ok()) return CheckAnswer(outcome.rejection);
  // The embedded log on memory never fails an fsync, so the outcome is known:
  // TRUE, or FALSE with a reason (a namespace with wal_enabled: false applies
  // to its target at once, and these have none).
  FUZZ_CHECK(outcome.response.durable() == v1::TRUE ||
             (outcome.response.durable() == v1::FALSE && !outcome.response.message().empty()));
  FUZZ_CHECK(!outcome.response.SerializeAsString().empty());
}

// What WriteAheadLogService::WriteToLogBatch does: parse, check the size,
// submit every write through the gate; one well-formed result per write.
void WriteBatch(std::string_view bytes, std::string_view authorization) {
  v1::WriteToLogBatchRequest request;
  Status checked = ParseRequestBytes(bytes, &request);
  if (checked.ok()) checked = CheckBatch(request);
  if (!checked.ok()) {
    FUZZ_CHECK(checked.code() == StatusCode::kInvalidArgument);
    return;
  }
  fuzz::EngineFixture& fixture = fuzz::EngineFixture::Get();
  WriteSubmitter submitter(&fixture.engine(), &fixture.gate(), nullptr);
  std::promise<v1::WriteToLogBatchResponse> done;
  SubmitBatch(submitter, authorization, request,
              [&done](v1::WriteToLogBatchResponse results) { done.set_value(std::move(results)); });
  v1::WriteToLogBatchResponse results = done.get_future().get();
  FUZZ_CHECK(results.results_size() == request.writes_size());
  for (const v1::WriteResult& result : results.results()) {
    if (result.has_refused()) {
      FUZZ_CHECK(result.refused().code() != static_cast<int>(grpc::StatusCode::INTERNAL));
      FUZZ_CHECK(result.refused().code() != 0 && !result.refused().message().empty());
    } else {
      FUZZ_CHECK(result.has_written());
      FUZZ_CHECK(result.written().durable() == v1::TRUE ||
                 (result.written().durable() == v1::FALSE && !result.written().message().empty()));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  static const std::string kAuthorizations[] = {"", std::string("Bearer ") + fuzz::kSecuredToken, "Bearer wrong",
                                                "Basic x"};
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 2, size - 2);
  const std::string& authorization = kAuthorizations[data[1] % 4];
  fuzz::EngineFixture& fixture = fuzz::EngineFixture::Get();
  engine::Engine& engine = fixture.engine();
  ShardMapControl* shard_maps = &fixture.shard_maps();
  auto no_name = [](const auto&) { return std::string(); };
  switch (data[0] % kMethods) {
    case kWriteToLog:
      Write(bytes, authorization);
      break;
    case kListNamespaces:
      Admin<v1::ListNamespacesRequest, v1::ListNamespacesResponse>(
          bytes, authorization, Scope::kRead, no_name, [&](const auto&, auto* out) { return admin::ListNamespaces(engine, out); });
      break;
    case kGetNamespace:
      Admin<v1::GetNamespaceRequest, v1::NamespaceResponse>(
          bytes, authorization, Scope::kRead, [](const auto& r) { return r.name(); },
          [&](const auto& r, auto* out) { return admin::GetNamespace(engine, r, out); });
      break;
    case kApplyNamespace:
      Admin<v1::ApplyNamespaceRequest, v1::NamespaceResponse>(
          bytes, authorization, Scope::kAdmin,
          [](const auto& r) {
            auto found = r.config().fields().find("name");
            return found == r.config().fields().end() ? std::string() : found->second.string_value();
          },
          [&](const auto& r, auto* out) -> Status {
            // Configs that would reach outside the process are only validated.
            WAL_ASSIGN_OR_RETURN(config::NamespaceConfig config, NamespaceFromStruct(r.config(), engine.module_catalog()));
            if (!fuzz::SafeToApply(config)) return config::ValidateNamespace(config);
            return admin::ApplyNamespace(engine, r, out);
          });
      break;
    case kDeleteNamespace:
      Admin<v1::DeleteNamespaceRequest, v1::DeleteNamespaceResponse>(
          bytes, authorization, Scope::kAdmin, [](const auto& r) { return r.name(); },
          [&](const auto& r, auto*) { return admin::DeleteNamespace(engine, r); });
      break;
    case kGetStatus:
      Admin<v1::GetStatusRequest, v1::GetStatusResponse>(
          bytes, authorization, Scope::kRead, [](const auto& r) { return r.namespace_(); },
          [&](const auto& r, auto* out) { return admin::GetStatus(engine, r, out); });
      break;
    case kReadLog:
      Admin<v1::ReadLogRequest, v1::ReadLogResponse>(
          bytes, authorization, Scope::kRead, [](const auto& r) { return r.namespace_(); },
          [&](const auto& r, auto* out) { return admin::ReadLog(engine, r, out); });
      break;
    case kListDeadLetters:
      Admin<v1::ListDeadLettersRequest, v1::ListDeadLettersResponse>(
          bytes, authorization, Scope::kRead, [](const auto& r) { return r.namespace_(); },
          [&](const auto& r, auto* out) { return admin::ListDeadLetters(engine, r, out); });
      break;
    case kRedriveDeadLetters:
      Admin<v1::RedriveDeadLettersRequest, v1::RedriveDeadLettersResponse>(
          bytes, authorization, Scope::kAdmin, [](const auto& r) { return r.namespace_(); },
          [&](const auto& r, auto* out) { return admin::RedriveDeadLetters(engine, r, out); });
      break;
    case kPurgeDeadLetters:
      Admin<v1::PurgeDeadLettersRequest, v1::PurgeDeadLettersResponse>(
          bytes, authorization, Scope::kAdmin, [](const auto& r) { return r.namespace_(); },
          [&](const auto& r, auto* out) { return admin::PurgeDeadLetters(engine, r, out); });
      break;
    case kGetShardMap:
      Admin<v1::GetShardMapRequest, v1::ShardMapResponse>(
          bytes, authorization, Scope::kRead, no_name, [&](const auto&, auto* out) { return admin::GetShardMap(shard_maps, out); });
      break;
    case kWriteToLogBatch:
      WriteBatch(bytes, authorization);
      break;
    default:
      Admin<v1::ApplyShardMapRequest, v1::ShardMapResponse>(
          bytes, authorization, Scope::kAdmin, no_name,
          [&](const auto& r, auto* out) { return admin::ApplyShardMap(shard_maps, r, out); });
      break;
  }
  fixture.Restore();
  return 0;
}
