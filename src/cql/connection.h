// One CQL connection (protocol v4) to one node, multiplexing many requests on
// one socket by stream id.
//
// Open() connects (TCP, TLS if configured), sends STARTUP, answers AUTHENTICATE
// with SASL PLAIN when credentials are set (what PasswordAuthenticator takes),
// and issues USE <keyspace> if one is configured; it returns a ready connection.
//
// Requests: Send() queues a frame under a free stream id and returns at once;
// the connection's own I/O thread writes queued frames, reads responses in
// whatever order the server sends them, matches them to their requests by
// stream id and runs the request's callback. Up to max_in_flight requests are
// outstanding at once; beyond that Send fails with kResourceExhausted.
//
// Callback contract: every Send's callback runs exactly once, with the response
// frame (an ERROR frame is a response too; see DecodeResultFrame) or a Status:
//   * kDeadlineExceeded: no response within the request's timeout. Its stream id
//     stays reserved until the late response arrives, so it is never matched to
//     another request; when half the ids are held so, the connection is reset.
//   * kUnavailable: the connection broke (reset, closed by the peer, malformed
//     frame) or was closed; the request may or may not have reached the server.
//   * kResourceExhausted: no free stream id (nothing was sent).
// Callbacks run on the I/O thread, except when Send fails before queuing (a
// broken connection, no free stream id, a frame too large), when the callback
// runs on the calling thread before Send returns. Callbacks must not block; they
// may call Send (it never blocks) and may drop the last reference to the
// Connection.
//
// Once broken, a connection stays broken (alive() is false); the Session makes
// a new one. Threading: all methods are thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "cql/error.h"
#include "cql/frame.h"
#include "cql/requests.h"
#include "cql/result.h"
#include "cql/transport.h"

namespace wal::cql {

// Credentials for PasswordAuthenticator (SASL PLAIN). Never logged.
struct Credentials {
  std::string username;
  std::string password;
};

struct ConnectionOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 9042;
  std::chrono::milliseconds connect_timeout{5000};   // TCP + TLS + STARTUP/auth, each step
  std::chrono::milliseconds request_timeout{12000};  // when a call passes no timeout
  std::optional<Credentials> credentials;
  TlsOptions tls;
  std::string keyspace;     // letters, digits, '_'; used exactly as written (quoted)
  int max_in_flight = 1024;  // stream ids this connection uses, 1..32768
  uint32_t max_frame_bytes = kMaxFrameBodyBytes;
};

using ResponseCallback = std::function<void(Result<Frame>)>;

class Connection {
 public:
  static Result<std::shared_ptr<Connection>> Open(const ConnectionOptions& options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Queues a request; see the callback contract above. timeout 0: the default.
  void Send(Opcode opcode, std::string body, std::chrono::milliseconds timeout, ResponseCallback callback);
  // Send and wait for the callback. Not from a callback (it would wait on itself).
  Result<Frame> Call(Opcode opcode, std::string body, std::chrono::milliseconds timeout = {});

  // QUERY/PREPARE/EXECUTE/BATCH, waited for; an ERROR response becomes its Status.
  Result<ResultMessage> Query(std::string_view query, const QueryParameters& parameters,
                              std::chrono::milliseconds timeout = {});
  Result<ResultMessage> Prepare(std::string_view query, std::chrono::milliseconds timeout = {});
  Result<ResultMessage> Execute(std::string_view prepared_id, const QueryParameters& parameters,
                                std::chrono::milliseconds timeout = {});
  Result<ResultMessage> Batch(const BatchRequest& batch, std::chrono::milliseconds timeout = {});
  // OPTIONS: the server's SUPPORTED map (CQL_VERSION, PROTOCOL_VERSIONS, COMPRESSION, ...).
  Result<std::map<std::string, std::vector<std::string>>> Options(std::chrono::milliseconds timeout = {});

  bool alive() const;
  // Why the connection is no longer alive (OK while it is).
  Status broken_reason() const;
  size_t in_flight() const;
  const std::string& peer() const;
  // Fails outstanding requests with kUnavailable and stops the I/O thread.
  // Idempotent; safe from a callback.
  void Close();

  class Impl;

 private:
  explicit Connection(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  Status Handshake(const ConnectionOptions& options);

  std::shared_ptr<Impl> impl_;
};

// Interprets a response that should be a RESULT: its decoded message; an ERROR
// frame becomes ToStatus of its ServerError (copied to *server_error when
// given); any other opcode is kCorruption; a failed request keeps its Status.
Result<ResultMessage> DecodeResultFrame(const Result<Frame>& frame, ServerError* server_error = nullptr);

}  // namespace wal::cql
