#include "cql/transport.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace wal::cql {

namespace internal {

Status WaitFor(int fd, short events, std::chrono::steady_clock::time_point deadline, std::string_view what) {
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return DeadlineExceeded(std::string(what) + " timed out");
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()) + 1);
    if (n > 0) return Status::Ok();
    if (n < 0 && errno != EINTR) return Unavailable(std::string(what) + ": poll: " + std::strerror(errno));
  }
}

Status SendQueued(int fd, const std::string& peer, std::string* pending, size_t* sent) {
  while (*sent < pending->size()) {
    ssize_t n = ::send(fd, pending->data() + *sent, pending->size() - *sent, MSG_NOSIGNAL);
    if (n > 0) {
      *sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    return Unavailable("write to " + peer + ": " + std::strerror(errno));
  }
  if (*sent == pending->size()) {
    pending->clear();
    *sent = 0;
  }
  return Status::Ok();
}

Status ReceiveAvailable(int fd, const std::string& peer, std::string* out, bool* closed) {
  char buffer[64 * 1024];
  for (int i = 0; i < 16; ++i) {
    ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n > 0) {
      out->append(buffer, static_cast<size_t>(n));
      if (static_cast<size_t>(n) < sizeof(buffer)) return Status::Ok();
      continue;
    }
    if (n == 0) {
      *closed = true;
      return Status::Ok();
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Status::Ok();
    return Unavailable("read from " + peer + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

namespace {

class PlainTransport final : public Transport {
 public:
  PlainTransport(int fd, std::string peer) : fd_(fd), peer_(std::move(peer)) {}
  ~PlainTransport() override { ::close(fd_); }

  int fd() const override { return fd_; }
  Status ReadAvailable(std::string* out, bool* closed) override { return ReceiveAvailable(fd_, peer_, out, closed); }
  Status Write(std::string_view data) override {
    pending_.append(data);
    return Flush();
  }
  Status Flush() override { return SendQueued(fd_, peer_, &pending_, &sent_); }
  bool HasPendingOutput() const override { return sent_ < pending_.size(); }

 private:
  int fd_;
  std::string peer_;
  std::string pending_;
  size_t sent_ = 0;
};

}  // namespace

std::unique_ptr<Transport> MakePlainTransport(int fd, std::string peer) {
  return std::make_unique<PlainTransport>(fd, std::move(peer));
}

}  // namespace internal

Result<std::unique_ptr<Transport>> Connect(const std::string& host, uint16_t port, const TlsOptions& tls,
                                           std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const std::string peer = host + ":" + std::to_string(port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addresses = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &addresses); rc != 0) {
    return Unavailable("resolve " + host + ": " + ::gai_strerror(rc));
  }
  Status last = Unavailable("no address for " + host);
  int fd = -1;
  for (addrinfo* a = addresses; a != nullptr && fd < 0; a = a->ai_next) {
    int s = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (s < 0) {
      last = Unavailable("socket: " + std::string(std::strerror(errno)));
      continue;
    }
    int one = 1;
    ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (::connect(s, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
      last = Unavailable("connect to " + peer + ": " + std::strerror(errno));
      ::close(s);
      continue;
    }
    Status waited = internal::WaitFor(s, POLLOUT, deadline, "connect to " + peer);
    int error = 0;
    socklen_t length = sizeof(error);
    if (waited.ok() && ::getsockopt(s, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error != 0) {
      waited = Unavailable("connect to " + peer + ": " + std::strerror(error));
    }
    if (!waited.ok()) {
      last = waited;
      ::close(s);
      continue;
    }
    fd = s;
  }
  ::freeaddrinfo(addresses);
  if (fd < 0) return last;
  if (!tls.enabled) return internal::MakePlainTransport(fd, peer);
  return internal::MakeTlsTransport(fd, peer, host, tls, deadline);
}

}  // namespace wal::cql
