// How wal's Status codes surface on the two transports.
#pragma once

#include <grpcpp/grpcpp.h>

#include "common/status.h"

namespace wal::server {

grpc::Status ToGrpcStatus(const Status& status);
int ToHttpStatus(const Status& status);

}  // namespace wal::server
