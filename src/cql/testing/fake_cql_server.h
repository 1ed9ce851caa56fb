// Test-only: an in-process CQL "server" on a loopback port that hands every
// request frame to the test's handler, which answers when and how it likes
// (out of order, late, never, garbage, or by closing the connection). Lets the
// connection and session tests check multiplexing, timeouts, re-preparing and
// reconnecting deterministically, without Cassandra.
//
// Threading: one thread per accepted connection runs the handler; Reply/Close
// are thread-safe. Stop() (or the destructor) closes everything and joins.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cql/frame.h"

namespace wal::cql::testing {

class FakeCqlServer {
 public:
  class Peer {
   public:
    explicit Peer(int fd) : fd_(fd) {}
    // Sends a v4 response frame.
    void Reply(int16_t stream, Opcode opcode, std::string_view body, uint8_t flags = 0);
    void SendRaw(std::string_view bytes);
    void Close();
    int fd() const { return fd_; }

   private:
    std::mutex mu_;
    int fd_;
  };

  // Called for each request frame on the connection's thread.
  using Handler = std::function<void(Peer& peer, const Frame& request)>;

  explicit FakeCqlServer(Handler handler);
  ~FakeCqlServer();

  int port() const { return port_; }
  int connections_accepted() const { return accepted_.load(); }
  // Closes the listener and every connection (the client sees them reset).
  void Stop();
  // Closes every open connection but keeps listening.
  void DropConnections();

  // The usual answer to STARTUP (READY) and OPTIONS (SUPPORTED); false for others.
  static bool AnswerHandshake(Peer& peer, const Frame& request);

 private:
  void AcceptLoop();
  void Serve(std::shared_ptr<Peer> peer);

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<int> accepted_{0};
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::shared_ptr<Peer>> peers_;
  std::vector<std::thread> threads_;
};

// Response bodies, built byte by byte from the spec's layouts.
std::string VoidResultBody();                                   // [int] 0x0001
std::string ErrorBody(int32_t code, std::string_view message);  // [int] code [string] message
std::string PreparedResultBody(std::string_view id);            // no bind markers, no result columns

}  // namespace wal::cql::testing
