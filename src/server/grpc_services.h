// gRPC front ends for the engine: the data service (WriteAheadLog) and Admin.
//
// Both use gRPC's callback API: WriteToLog returns its reactor at once and
// finishes it from the log's commit thread when the group commit covering the
// entry completes, so no gRPC thread waits on the disk.
//
// The methods take the request as raw bytes and parse it themselves
// (ParseRequestBytes): gRPC's own answer to bytes that are not the request
// message is UNIMPLEMENTED with an empty message, which reads like a missing
// method; these answer INVALID_ARGUMENT naming the message type.
//
// Failure: no input escapes as an exception or aborts; a handler that fails
// unexpectedly answers INTERNAL and the server keeps serving.
#pragma once

#include <string_view>

#include "engine/engine.h"
#include "server/metrics.h"
#include "server/request_gate.h"
#include "server/shard_map_control.h"
#include "server/write_submitter.h"
#include "wal/v1/admin.grpc.pb.h"
#include "wal/v1/wal.grpc.pb.h"

namespace wal::server {

// Parses a request message from its wire bytes; INVALID_ARGUMENT when they are
// not one (truncated, another type, a string field that is not UTF-8, nesting
// past protobuf's depth limit). What the gRPC services run on every request.
Status ParseRequestBytes(std::string_view bytes, google::protobuf::Message* message);

using WriteAheadLogRawService = v1::WriteAheadLog::WithRawCallbackMethod_WriteToLog<
    v1::WriteAheadLog::WithRawCallbackMethod_WriteToLogStream<
        v1::WriteAheadLog::WithRawCallbackMethod_WriteToLogBatch<v1::WriteAheadLog::Service>>>;

class WriteAheadLogService final : public WriteAheadLogRawService {
 public:
  // engine, gate and metrics outlive the service; a null gate admits everything.
  explicit WriteAheadLogService(engine::Engine* engine, RequestGate* gate = nullptr, Metrics* metrics = nullptr)
      : engine_(engine), gate_(gate), metrics_(metrics), submitter_(engine, gate, metrics) {}

  using WriteAheadLogRawService::WriteToLog;
  using WriteAheadLogRawService::WriteToLogStream;
  using WriteAheadLogRawService::WriteToLogBatch;
  grpc::ServerUnaryReactor* WriteToLog(grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) override;
  // Many writes, each answered on its own (write_stream.h, write_batch.h).
  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* WriteToLogStream(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* WriteToLogBatch(grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
                                            grpc::ByteBuffer* response) override;

 private:
  engine::Engine* engine_;
  RequestGate* gate_;
  Metrics* metrics_;
  WriteSubmitter submitter_;
};

using AdminRawService = v1::Admin::WithRawCallbackMethod_ListNamespaces<
    v1::Admin::WithRawCallbackMethod_GetNamespace<v1::Admin::WithRawCallbackMethod_ApplyNamespace<
        v1::Admin::WithRawCallbackMethod_DeleteNamespace<v1::Admin::WithRawCallbackMethod_GetStatus<
            v1::Admin::WithRawCallbackMethod_ReadLog<v1::Admin::WithRawCallbackMethod_ListDeadLetters<
                v1::Admin::WithRawCallbackMethod_RedriveDeadLetters<v1::Admin::WithRawCallbackMethod_PurgeDeadLetters<
                    v1::Admin::WithRawCallbackMethod_GetShardMap<
                        v1::Admin::WithRawCallbackMethod_ApplyShardMap<v1::Admin::Service>>>>>>>>>>>;

class AdminService final : public AdminRawService {
 public:
  // `shard_maps` (may be null: not sharded) outlives the service.
  explicit AdminService(engine::Engine* engine, RequestGate* gate = nullptr, ShardMapControl* shard_maps = nullptr)
      : engine_(engine), gate_(gate), shard_maps_(shard_maps) {}

  using Raw = grpc::ByteBuffer;
  using AdminRawService::ListNamespaces;
  using AdminRawService::GetNamespace;
  using AdminRawService::ApplyNamespace;
  using AdminRawService::DeleteNamespace;
  using AdminRawService::GetStatus;
  using AdminRawService::ReadLog;
  using AdminRawService::ListDeadLetters;
  using AdminRawService::RedriveDeadLetters;
  using AdminRawService::PurgeDeadLetters;
  using AdminRawService::GetShardMap;
  using AdminRawService::ApplyShardMap;
  grpc::ServerUnaryReactor* ListNamespaces(grpc::CallbackServerContext* context, const Raw* request, Raw* response) override;
  grpc::ServerUnaryReactor* GetNamespace(grpc::CallbackServerContext* context, const Raw* request, Raw* response) override;
  grpc::ServerUnaryReactor* ApplyNamespace(grpc::CallbackServerContext* context, const Raw* request, Raw* response) override;
  grpc::ServerUnaryReactor* DeleteNamespace(grpc::CallbackServerContext* context, const Raw* request, Raw* response) override;
  grpc::ServerUnaryReactor* GetStatus(grpc::CallbackServerContext* context, const Raw* request, Raw* response) override;
  grpc::ServerUnaryReactor* ReadLog(grpc::CallbackServerContext* context, const Raw* request, Raw* response) override;
  grpc::ServerUnaryReactor* ListDeadLetters(grpc::CallbackServerContext* context, const Raw* request, Raw* response) override;
  grpc::ServerUnaryReactor* RedriveDeadLetters(grpc::CallbackServerContext* context, const Raw* request,
                                               Raw* response) override;
  grpc::ServerUnaryReactor* PurgeDeadLetters(grpc::CallbackServerContext* context, const Raw* request,
                                             Raw* response) override;
  grpc::ServerUnaryReactor* GetShardMap(grpc::CallbackServerContext* context, const Raw* request, Raw* response) override;
  grpc::ServerUnaryReactor* ApplyShardMap(grpc::CallbackServerContext* context, const Raw* request, Raw* response) override;

 private:
  engine::Engine* engine_;
  RequestGate* gate_;
  ShardMapControl* shard_maps_;
};

// The admin operations, shared by the gRPC and HTTP front ends so both answer
// the same way. Each fills `response` or returns why it could not.
namespace admin {
Status ListNamespaces(engine::Engine& engine, v1::ListNamespacesResponse* response);
Status GetNamespace(engine::Engine& engine, const v1::GetNamespaceRequest& request, v1::NamespaceResponse* response);
Status ApplyNamespace(engine::Engine& engine, const v1::ApplyNamespaceRequest& request, v1::NamespaceResponse* response);
Status DeleteNamespace(engine::Engine& engine, const v1::DeleteNamespaceRequest& request);
Status GetStatus(engine::Engine& engine, const v1::GetStatusRequest& request, v1::GetStatusResponse* response);
Status ReadLog(engine::Engine& engine, const v1::ReadLogRequest& request, v1::ReadLogResponse* response);
Status ListDeadLetters(engine::Engine& engine, const v1::ListDeadLettersRequest& request,
                       v1::ListDeadLettersResponse* response);
Status RedriveDeadLetters(engine::Engine& engine, const v1::RedriveDeadLettersRequest& request,
                          v1::RedriveDeadLettersResponse* response);
Status PurgeDeadLetters(engine::Engine& engine, const v1::PurgeDeadLettersRequest& request,
                        v1::PurgeDeadLettersResponse* response);
// `shard_maps` may be null (not sharded).
Status GetShardMap(const ShardMapControl* shard_maps, v1::ShardMapResponse* response);
Status ApplyShardMap(ShardMapControl* shard_maps, const v1::ApplyShardMapRequest& request,
                     v1::ShardMapResponse* response);
}  // namespace admin

}  // namespace wal::server
