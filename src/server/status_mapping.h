// How wal's Status codes surface on the two transports.
#pragma once

#include <grpcpp/grpcpp.h>

#include <string_view>

#include "common/status.h"

namespace wal::server {

grpc::Status ToGrpcStatus(const Status& status);
int ToHttpStatus(const Status& status);
// The canonical gRPC name of the code ToGrpcStatus gives `code` ("DATA_LOSS"
// for kCorruption), as HTTP error bodies carry it in "status".
std::string_view GrpcCodeName(StatusCode code);

}  // namespace wal::server
