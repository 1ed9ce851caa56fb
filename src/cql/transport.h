// The byte stream under a CQL connection: a non-blocking TCP socket, optionally
// wrapped in TLS (OpenSSL, driven through memory BIOs so that every socket
// write is a send() with MSG_NOSIGNAL: a peer that went away never raises
// SIGPIPE in the host process).
//
// Failure: Connect returns kUnavailable (refused, unreachable, reset, TLS
// handshake or certificate verification failed: the message says which),
// kDeadlineExceeded when the TCP connect or TLS handshake outlasts the timeout,
// kInvalidArgument for unusable TLS settings (unreadable CA/cert/key files).
// ReadAvailable/Flush return kUnavailable once the stream is broken.
//
// Threading: a Transport is used by one thread at a time (the connection's I/O
// thread after Connect returns).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace wal::cql {

struct TlsOptions {
  bool enabled = false;
  std::string ca_file;       // PEM bundle to trust; empty: OpenSSL's default paths
  bool verify_peer = true;   // check the chain and that the certificate names the host
  std::string server_name;   // the name to check (and send as SNI); empty: the host connected to
  std::string cert_file;     // optional client certificate (PEM) ...
  std::string key_file;      // ... and its key
};

class Transport {
 public:
  virtual ~Transport() = default;
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  virtual int fd() const = 0;
  // Appends what can be read now (decrypted) to `out`, without blocking. Sets
  // *closed when the peer closed the stream.
  virtual Status ReadAvailable(std::string* out, bool* closed) = 0;
  // Queues `data` and sends what the socket takes now.
  virtual Status Write(std::string_view data) = 0;
  // Sends queued bytes until the socket would block.
  virtual Status Flush() = 0;
  virtual bool HasPendingOutput() const = 0;

 protected:
  Transport() = default;
};

// Connects to host:port (TCP_NODELAY), then does the TLS handshake if enabled,
// all within `timeout`.
Result<std::unique_ptr<Transport>> Connect(const std::string& host, uint16_t port, const TlsOptions& tls,
                                           std::chrono::milliseconds timeout);

namespace internal {

// A connected, non-blocking socket as a plain transport (owns fd).
std::unique_ptr<Transport> MakePlainTransport(int fd, std::string peer);
// Wraps a connected socket in TLS and completes the handshake by `deadline`.
Result<std::unique_ptr<Transport>> MakeTlsTransport(int fd, std::string peer, const std::string& host,
                                                    const TlsOptions& tls,
                                                    std::chrono::steady_clock::time_point deadline);
// Sends (*pending)[*sent..] with MSG_NOSIGNAL until the socket would block;
// empties *pending once all of it is sent.
Status SendQueued(int fd, const std::string& peer, std::string* pending, size_t* sent);
// Appends what the socket has now (up to 1 MiB per call, so one busy connection
// cannot starve its own writes) to *out; sets *closed at end of stream.
Status ReceiveAvailable(int fd, const std::string& peer, std::string* out, bool* closed);
// Waits until fd is ready for `events` (POLLIN/POLLOUT) or the deadline passes.
Status WaitFor(int fd, short events, std::chrono::steady_clock::time_point deadline, std::string_view what);

}  // namespace internal

}  // namespace wal::cql
