// TLS over a non-blocking socket with OpenSSL memory BIOs: OpenSSL never touches
// the socket; this file moves ciphertext between the socket and the BIOs, so it
// alone decides when to block and every write is send(MSG_NOSIGNAL).
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>


#include "cql/transport.h"

namespace wal::cql::internal {

namespace {

// The queued OpenSSL errors as one line (and clears the queue).
std::string OpenSslErrors() {
  std::string out;
  while (unsigned long code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof(buffer));
    if (!out.empty()) out += "; ";
    out += buffer;
  }
  return out.empty() ? "unknown TLS error" : out;
}

bool IsIpAddress(const std::string& name) {
  in6_addr v6;
  in_addr v4;
  return ::inet_pton(AF_INET, name.c_str(), &v4) == 1 || ::inet_pton(AF_INET6, name.c_str(), &v6) == 1;
}

class TlsTransport final : public Transport {
 public:
  TlsTransport(int fd, std::string peer, SSL_CTX* ctx, SSL* ssl)
      : fd_(fd), peer_(std::move(peer)), ctx_(ctx), ssl_(ssl) {}
  ~TlsTransport() override {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
    ::close(fd_);
  }

  int fd() const override { return fd_; }

  Status Handshake(std::chrono::steady_clock::time_point deadline) {
    while (true) {
      ERR_clear_error();
      int rc = SSL_connect(ssl_);
      int error = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl_, rc);
      DrainCiphertext();
      // Push our flight out before waiting for the peer's.
      while (HasPendingOutput()) {
        WAL_RETURN_IF_ERROR(Flush());
        if (HasPendingOutput()) WAL_RETURN_IF_ERROR(WaitFor(fd_, POLLOUT, deadline, "TLS handshake with " + peer_));
      }
      if (rc == 1) return Status::Ok();
      if (error != SSL_ERROR_WANT_READ) return HandshakeError();
      WAL_RETURN_IF_ERROR(WaitFor(fd_, POLLIN, deadline, "TLS handshake with " + peer_));
      bool closed = false;
      WAL_RETURN_IF_ERROR(ReceiveCiphertext(&closed));
      if (closed) return Unavailable("TLS handshake with " + peer_ + ": the peer closed the connection");
    }
  }

  Status ReadAvailable(std::string* out, bool* closed) override {
    WAL_RETURN_IF_ERROR(ReceiveCiphertext(closed));
    char buffer[16 * 1024];
    while (true) {
      ERR_clear_error();
      int n = SSL_read(ssl_, buffer, sizeof(buffer));
      if (n > 0) {
        out->append(buffer, static_cast<size_t>(n));
        continue;
      }
      int error = SSL_get_error(ssl_, n);
      if (error == SSL_ERROR_WANT_READ) break;
      if (error == SSL_ERROR_ZERO_RETURN) {
        *closed = true;
        break;
      }
      return Unavailable("TLS read from " + peer_ + ": " + OpenSslErrors());
    }
    // Reading can produce records to send (TLS 1.3 key updates, alerts).
    DrainCiphertext();
    return Flush();
  }

  Status Write(std::string_view data) override {
    while (!data.empty()) {
      ERR_clear_error();
      int n = SSL_write(ssl_, data.data(), static_cast<int>(std::min<size_t>(data.size(), 1u << 30)));
      if (n <= 0) return Unavailable("TLS write to " + peer_ + ": " + OpenSslErrors());
      data.remove_prefix(static_cast<size_t>(n));
    }
    DrainCiphertext();
    return Flush();
  }

  Status Flush() override { return SendQueued(fd_, peer_, &pending_, &sent_); }

  bool HasPendingOutput() const override { return sent_ < pending_.size(); }

 private:
  // Moves what OpenSSL wrote into its output BIO to pending_.
  void DrainCiphertext() {
    BIO* wbio = SSL_get_wbio(ssl_);
    char buffer[16 * 1024];
    int n;
    while ((n = BIO_read(wbio, buffer, sizeof(buffer))) > 0) pending_.append(buffer, static_cast<size_t>(n));
  }

  // Moves what the socket has into OpenSSL's input BIO.
  Status ReceiveCiphertext(bool* closed) {
    std::string ciphertext;
    WAL_RETURN_IF_ERROR(ReceiveAvailable(fd_, peer_, &ciphertext, closed));
    if (!ciphertext.empty()) BIO_write(SSL_get_rbio(ssl_), ciphertext.data(), static_cast<int>(ciphertext.size()));
    return Status::Ok();
  }

  Status HandshakeError() {
    long verify = SSL_get_verify_result(ssl_);
    if (verify != X509_V_OK) {
      return Unavailable("TLS handshake with " + peer_ + ": certificate verification failed: " +
                         X509_verify_cert_error_string(verify));
    }
    return Unavailable("TLS handshake with " + peer_ + ": " + OpenSslErrors());
  }

  int fd_;
  std::string peer_;
  SSL_CTX* ctx_;
  SSL* ssl_;
  std::string pending_;
  size_t sent_ = 0;
};

}  // namespace

Result<std::unique_ptr<Transport>> MakeTlsTransport(int fd, std::string peer, const std::string& host,
                                                    const TlsOptions& tls,
                                                    std::chrono::steady_clock::time_point deadline) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) {
    ::close(fd);
    return Internal("SSL_CTX_new: " + OpenSslErrors());
  }
  auto fail = [&](Status status) -> Result<std::unique_ptr<Transport>> {
    SSL_CTX_free(ctx);
    ::close(fd);
    return status;
  };
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (tls.verify_peer) {
    int loaded = tls.ca_file.empty() ? SSL_CTX_set_default_verify_paths(ctx)
                                     : SSL_CTX_load_verify_locations(ctx, tls.ca_file.c_str(), nullptr);
    if (loaded != 1) return fail(InvalidArgument("TLS CA file '" + tls.ca_file + "': " + OpenSslErrors()));
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  if (!tls.cert_file.empty() || !tls.key_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx, tls.cert_file.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, tls.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
      return fail(InvalidArgument("TLS client certificate '" + tls.cert_file + "' / key '" + tls.key_file +
                                  "': " + OpenSslErrors()));
    }
  }
  SSL* ssl = SSL_new(ctx);
  if (ssl == nullptr) return fail(Internal("SSL_new: " + OpenSslErrors()));
  const std::string name = tls.server_name.empty() ? host : tls.server_name;
  const bool ip = IsIpAddress(name);
  if (tls.verify_peer) {
    int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str()) : SSL_set1_host(ssl, name.c_str());
    if (ok != 1) {
      SSL_free(ssl);
      return fail(InvalidArgument("TLS server name '" + name + "' cannot be checked: " + OpenSslErrors()));
    }
  }
  if (!ip) SSL_set_tlsext_host_name(ssl, name.c_str());
  SSL_set_bio(ssl, BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
  SSL_set_connect_state(ssl);
  auto transport = std::make_unique<TlsTransport>(fd, std::move(peer), ctx, ssl);
  WAL_RETURN_IF_ERROR(transport->Handshake(deadline));
  return std::unique_ptr<Transport>(std::move(transport));
}

}  // namespace wal::cql::internal
