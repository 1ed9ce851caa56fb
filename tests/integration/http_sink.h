// An HTTP server on loopback that plays a delivery target: it records every
// request (time, headers, body) and answers with a status the test chooses,
// per entry or for everyone.
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace wal::testing {

struct ReceivedRequest {
  std::chrono::system_clock::time_point at;
  std::string body;
  uint64_t entry_id = 0;
  uint32_t attempt = 0;
  std::string idempotency_key;
};

class HttpSink {
 public:
  HttpSink() {
    // Without it the status line and the body leave in two segments and Nagle
    // holds the second for the client's delayed ACK: 40 ms per delivery.
    server_.set_tcp_nodelay(true);
    server_.Post("/deliver", [this](const httplib::Request& request, httplib::Response& response) {
      ReceivedRequest received;
      received.at = std::chrono::system_clock::now();
      received.body = request.body;
      auto header_number = [&request](const char* name) -> uint64_t {
        return request.has_header(name) ? std::stoull(request.get_header_value(name)) : 0;
      };
      received.entry_id = header_number("X-Wal-Entry-Id");
      received.attempt = static_cast<uint32_t>(header_number("X-Wal-Attempt"));
      received.idempotency_key = request.get_header_value("Idempotency-Key");
      int status = 200;
      {
        std::lock_guard lock(mutex_);
        status = responder_ ? responder_(received) : default_status_;
        received_.push_back(received);
      }
      changed_.notify_all();
      response.status = status;
      response.set_content(status < 300 ? "ok" : "refused by the test", "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() does nothing until the listener runs: wait for it.
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~HttpSink() {
    server_.stop();
    thread_.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/deliver"; }

  // Every later request is answered with `status`.
  void AnswerAll(int status) {
    std::lock_guard lock(mutex_);
    responder_ = nullptr;
    default_status_ = status;
  }
  // Each later request is answered by `responder` (called under the sink's lock).
  void AnswerWith(std::function<int(const ReceivedRequest&)> responder) {
    std::lock_guard lock(mutex_);
    responder_ = std::move(responder);
  }

  std::vector<ReceivedRequest> received() const {
    std::lock_guard lock(mutex_);
    return received_;
  }

  // Waits until `predicate(received)` holds or `timeout` passes; returns whether it held.
  bool WaitFor(const std::function<bool(const std::vector<ReceivedRequest>&)>& predicate,
               std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return predicate(received_); });
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<ReceivedRequest> received_;
  std::function<int(const ReceivedRequest&)> responder_;
  int default_status_ = 200;
};

}  // namespace wal::testing
