// How the HTTP gateway treats connections, through a real wald over loopback:
// a keep-alive connection carries any number of requests, and idle keep-alive
// connections do not starve a new client (docs/configuration.md,
// http_max_connections).
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "wald_process.h"

namespace wal::testing {
namespace {

using Clock = std::chrono::steady_clock;

// One connection that sends requests and reads their answers one at a time.
class RawConnection {
 public:
  explicit RawConnection(int port) : fd_(ConnectLoopback(port)) {
    timeval timeout{10, 0};
    if (fd_ >= 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  }
  ~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return fd_ >= 0; }

  // Sends a GET and returns the answer's head and body ("" if none came).
  std::string Get(const std::string& path) {
    const std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) return "";
    std::string answer;
    char buffer[4096];
    size_t head_end = std::string::npos;
    size_t length = 0;
    while (true) {
      if (head_end == std::string::npos) {
        head_end = answer.find("\r\n\r\n");
        if (head_end != std::string::npos) {
          const auto at = answer.find("Content-Length: ");
          if (at != std::string::npos && at < head_end) length = std::stoul(answer.substr(at + 16));
        }
      }
      if (head_end != std::string::npos && answer.size() >= head_end + 4 + length) break;
      ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
      if (n <= 0) return "";
      answer.append(buffer, static_cast<size_t>(n));
    }
    return answer;
  }

 private:
  int fd_;
};

class HttpConnections : public ::testing::Test {
 protected:
  void SetUp() override {
    wald_ = std::make_unique<WaldProcess>(dir_.path());
    wald_->WriteNamespaceFile("orders", "name: orders\nbackend: {type: local}\ndelay: {default: 1h}\n");
  }

  TempDir dir_;
  std::unique_ptr<WaldProcess> wald_;
};

TEST_F(HttpConnections, AKeepAliveConnectionCarriesManyRequests) {
  wald_->Start();
  RawConnection connection(wald_->http_port());
  ASSERT_TRUE(connection.connected());
  // httplib's default closes the connection after its fifth request.
  for (int i = 0; i < 50; ++i) {
    SCOPED_TRACE(i);
    const std::string answer = connection.Get("/v1/namespaces/orders");
    ASSERT_NE(answer.find("HTTP/1.1 200"), std::string::npos) << answer;
    ASSERT_EQ(answer.find("Connection: close"), std::string::npos) << answer;
  }
}

TEST_F(HttpConnections, IdleKeepAliveConnectionsDoNotStarveANewClient) {
  wald_->Start();
  // Each of these holds a gateway thread while it idles; 16 used to be all
  // there were, and the next client waited for one to idle out (5 s).
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 40; ++i) {
    idle.push_back(std::make_unique<RawConnection>(wald_->http_port()));
    ASSERT_TRUE(idle.back()->connected());
    ASSERT_NE(idle.back()->Get("/healthz").find("HTTP/1.1 200"), std::string::npos);
  }
  httplib::Client client("127.0.0.1", wald_->http_port());
  client.set_read_timeout(10, 0);
  const auto start = Clock::now();
  auto answer = client.Get("/v1/namespaces/orders");
  const auto waited = Clock::now() - start;
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 200);
  // Far below the keep-alive timeout a starved client would wait out.
  EXPECT_LT(waited, std::chrono::seconds(3));
}

TEST_F(HttpConnections, AConnectionLimitOutOfRangeIsRefusedAtStart) {
  const std::string config = dir_.path() + "/server.yaml";
  std::ofstream(config) << "http_max_connections: 0\n";
  CommandResult started = RunCommand({WaldBinary(), "--config", config, "--data-dir", wald_->data_dir(),
                                      "--namespaces", wald_->namespaces_dir(), "--grpc-listen", "127.0.0.1:0",
                                      "--http-listen", "127.0.0.1:0"});
  EXPECT_NE(started.exit_code, 0);
  EXPECT_NE(started.output.find("http_max_connections"), std::string::npos) << started.output;
}

}  // namespace
}  // namespace wal::testing
