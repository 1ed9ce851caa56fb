// TLS credentials for the gRPC endpoint from the server config's tls block
// (the HTTP gateway reads the same files itself).
#pragma once

#include <grpcpp/security/server_credentials.h>

#include <memory>

#include "common/file_system.h"
#include "common/status.h"
#include "config/config.h"

namespace wal::server {

// Insecure credentials when tls.cert_file is empty; TLS otherwise; and when
// tls.client_ca_file is set, clients must present a certificate that CA signed.
Result<std::shared_ptr<grpc::ServerCredentials>> GrpcServerCredentials(FileSystem* file_system,
                                                                      const config::TlsConfig& tls);

}  // namespace wal::server
