// TLS for both ports from the server config's tls block, reloaded without a
// restart when its files change.
//
// ServerTls reads tls.cert_file (PEM chain, leaf first), tls.key_file and, for
// mTLS, tls.client_ca_file, checks that they parse and that the key belongs to
// the certificate, and keeps the result as the material in force. A
// FileReloader polls the three files as one set: a set that fails the checks
// (or a file that disappears) is logged and the previous material stays in
// force on both ports, so a half-done rotation never breaks handshakes.
//
//   * HTTPS (httplib's SSLServer): ConfigureSslContext installs an OpenSSL
//     certificate callback that gives every new handshake the material in
//     force: certificate, chain, key and, for mTLS, the client CA store.
//   * gRPC: GrpcCredentials uses gRPC's FileWatcherCertificateProvider, which
//     re-reads files every refresh interval. gRPC 1.51 installs whatever it
//     reads, and a bad or mismatched pair makes it drop its handshaker, so
//     it is pointed at an in-memory copy of the material in force (a memfd,
//     through /proc/self/fd) that is rewritten only after the checks pass.
//     gRPC counts the interval in whole seconds with a minimum of 1 s: the poll
//     interval is rounded up to that.
//
// Connections already open keep the certificate they started with.
//
// Threading: the certificate callback and gRPC's provider run on library
// threads; they only read the material in force. Start/Stop/PollOnce follow
// FileReloader. Lifetime: a ServerTls must outlive the SSL_CTX configured with
// it and every gRPC server built with its credentials.
#pragma once

#include <grpcpp/security/server_credentials.h>
#include <openssl/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/file_system.h"
#include "common/status.h"
#include "config/config.h"
#include "server/file_reloader.h"
#include "server/swappable.h"

namespace wal::server {

class ServerTls {
 public:
  // Reads and checks the files now; any problem is an error (start-up stops).
  // `tls.cert_file` must be set. `poll_interval` <= 0: no reloading.
  static Result<std::unique_ptr<ServerTls>> Load(FileSystem* file_system, const config::TlsConfig& tls,
                                                 std::chrono::milliseconds poll_interval);
  ~ServerTls();
  ServerTls(const ServerTls&) = delete;
  ServerTls& operator=(const ServerTls&) = delete;

  bool mutual() const { return !tls_.client_ca_file.empty(); }

  // Credentials for grpc::ServerBuilder that follow reloads; with mTLS they
  // require and verify a client certificate from the client CA in force.
  std::shared_ptr<grpc::ServerCredentials> GrpcCredentials() const;

  // For httplib's SSLServer setup callback: TLS >= 1.2, the certificate callback
  // and, with mTLS, a required and verified client certificate. False if the
  // context refuses the material.
  bool ConfigureSslContext(SSL_CTX& context) const;

  void Start() { reloader_->Start(); }
  void Stop() { reloader_->Stop(); }
  ReloadOutcome PollOnce() { return reloader_->PollOnce(); }

  // Lowercase hex SHA-256 of the certificate in force (its DER), as
  // `openssl x509 -fingerprint -sha256` prints it without the colons.
  std::string CertificateFingerprint() const;
  // Where gRPC reads the key and certificate chain (one PEM file); the
  // operator's key_file when no in-memory copy could be made.
  const std::string& grpc_identity_path() const { return grpc_identity_path_; }

 private:
  struct Material;
  class MemoryFile;

  ServerTls(FileSystem* file_system, config::TlsConfig tls, std::chrono::milliseconds poll_interval);
  static Result<std::shared_ptr<Material>> ParseMaterial(const config::TlsConfig& tls,
                                                         const std::vector<std::string>& contents);
  Result<std::string> Apply(const std::vector<std::string>& contents);
  static int CertificateCallback(SSL* ssl, void* self);

  const config::TlsConfig tls_;
  const unsigned int grpc_refresh_seconds_;
  Swappable<Material> material_;
  std::unique_ptr<MemoryFile> grpc_identity_;  // null: gRPC reads the operator's files
  std::unique_ptr<MemoryFile> grpc_roots_;
  std::string grpc_identity_path_;
  std::string grpc_certificate_path_;
  std::string grpc_roots_path_;
  std::unique_ptr<FileReloader> reloader_;
};

}  // namespace wal::server
