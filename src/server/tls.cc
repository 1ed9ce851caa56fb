#include "server/tls.h"

#include <grpcpp/security/server_credentials.h>

namespace wal::server {

Result<std::shared_ptr<grpc::ServerCredentials>> GrpcServerCredentials(FileSystem* file_system,
                                                                      const config::TlsConfig& tls) {
  if (tls.cert_file.empty()) return grpc::InsecureServerCredentials();
  auto read = [&](const std::string& path, const char* field) -> Result<std::string> {
    auto text = file_system->ReadFile(path);
    if (!text.ok()) return text.status().WithContext(std::string("tls.") + field);
    if (text->find("-----BEGIN") == std::string::npos) {
      return InvalidArgument(std::string("tls.") + field + ": " + path + " is not a PEM file");
    }
    return text;
  };
  WAL_ASSIGN_OR_RETURN(std::string certificate, read(tls.cert_file, "cert_file"));
  WAL_ASSIGN_OR_RETURN(std::string key, read(tls.key_file, "key_file"));
  grpc::SslServerCredentialsOptions options;
  options.pem_key_cert_pairs.push_back({key, certificate});
  if (!tls.client_ca_file.empty()) {
    WAL_ASSIGN_OR_RETURN(options.pem_root_certs, read(tls.client_ca_file, "client_ca_file"));
    options.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(options);
}

}  // namespace wal::server
