// gRPC front ends for the engine: the data service (WriteAheadLog) and Admin.
//
// Both use gRPC's callback API: WriteToLog returns its reactor at once and
// finishes it from the log's commit thread when the group commit covering the
// entry completes, so no gRPC thread waits on the disk.
#pragma once

#include "engine/engine.h"
#include "server/metrics.h"
#include "server/request_gate.h"
#include "server/shard_map_control.h"
#include "wal/v1/admin.grpc.pb.h"
#include "wal/v1/wal.grpc.pb.h"

namespace wal::server {

class WriteAheadLogService final : public v1::WriteAheadLog::CallbackService {
 public:
  // engine, gate and metrics outlive the service; a null gate admits everything.
  explicit WriteAheadLogService(engine::Engine* engine, RequestGate* gate = nullptr, Metrics* metrics = nullptr)
      : engine_(engine), gate_(gate), metrics_(metrics) {}

  grpc::ServerUnaryReactor* WriteToLog(grpc::CallbackServerContext* context, const v1::WriteToLogRequest* request,
                                       v1::WriteToLogResponse* response) override;

 private:
  engine::Engine* engine_;
  RequestGate* gate_;
  Metrics* metrics_;
};

class AdminService final : public v1::Admin::CallbackService {
 public:
  // `shard_maps` (may be null: not sharded) outlives the service.
  explicit AdminService(engine::Engine* engine, RequestGate* gate = nullptr, ShardMapControl* shard_maps = nullptr)
      : engine_(engine), gate_(gate), shard_maps_(shard_maps) {}

  grpc::ServerUnaryReactor* ListNamespaces(grpc::CallbackServerContext* context, const v1::ListNamespacesRequest* request,
                                           v1::ListNamespacesResponse* response) override;
  grpc::ServerUnaryReactor* GetNamespace(grpc::CallbackServerContext* context, const v1::GetNamespaceRequest* request,
                                         v1::NamespaceResponse* response) override;
  grpc::ServerUnaryReactor* ApplyNamespace(grpc::CallbackServerContext* context, const v1::ApplyNamespaceRequest* request,
                                           v1::NamespaceResponse* response) override;
  grpc::ServerUnaryReactor* DeleteNamespace(grpc::CallbackServerContext* context,
                                            const v1::DeleteNamespaceRequest* request,
                                            v1::DeleteNamespaceResponse* response) override;
  grpc::ServerUnaryReactor* GetStatus(grpc::CallbackServerContext* context, const v1::GetStatusRequest* request,
                                      v1::GetStatusResponse* response) override;
  grpc::ServerUnaryReactor* ReadLog(grpc::CallbackServerContext* context, const v1::ReadLogRequest* request,
                                    v1::ReadLogResponse* response) override;
  grpc::ServerUnaryReactor* ListDeadLetters(grpc::CallbackServerContext* context,
                                            const v1::ListDeadLettersRequest* request,
                                            v1::ListDeadLettersResponse* response) override;
  grpc::ServerUnaryReactor* RedriveDeadLetters(grpc::CallbackServerContext* context,
                                               const v1::RedriveDeadLettersRequest* request,
                                               v1::RedriveDeadLettersResponse* response) override;
  grpc::ServerUnaryReactor* PurgeDeadLetters(grpc::CallbackServerContext* context,
                                             const v1::PurgeDeadLettersRequest* request,
                                             v1::PurgeDeadLettersResponse* response) override;
  grpc::ServerUnaryReactor* GetShardMap(grpc::CallbackServerContext* context, const v1::GetShardMapRequest* request,
                                        v1::ShardMapResponse* response) override;
  grpc::ServerUnaryReactor* ApplyShardMap(grpc::CallbackServerContext* context,
                                          const v1::ApplyShardMapRequest* request,
                                          v1::ShardMapResponse* response) override;

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
