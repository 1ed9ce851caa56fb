#include "cql/testing/fake_cql_server.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace wal::cql::testing {

namespace {

std::string BigEndian(uint64_t value, int bytes) {
  std::string out;
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
  return out;
}

}  // namespace

void FakeCqlServer::Peer::SendRaw(std::string_view bytes) {
  std::lock_guard lock(mu_);
  while (!bytes.empty() && fd_ >= 0) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

void FakeCqlServer::Peer::Reply(int16_t stream, Opcode opcode, std::string_view body, uint8_t flags) {
  // version 0x84, flags, [short] stream, opcode, [int] length, body
  std::string frame;
  frame.push_back(static_cast<char>(0x84));
  frame.push_back(static_cast<char>(flags));
  frame += BigEndian(static_cast<uint16_t>(stream), 2);
  frame.push_back(static_cast<char>(opcode));
  frame += BigEndian(body.size(), 4);
  frame += body;
  SendRaw(frame);
}

void FakeCqlServer::Peer::Close() {
  std::lock_guard lock(mu_);
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
}

FakeCqlServer::FakeCqlServer(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  ::listen(listen_fd_, 16);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

FakeCqlServer::~FakeCqlServer() { Stop(); }

void FakeCqlServer::AcceptLoop() {
  while (!stopping_) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR) continue;
      return;  // the listener was shut down
    }
    ++accepted_;
    auto peer = std::make_shared<Peer>(fd);
    std::lock_guard lock(mu_);
    if (stopping_) {
      ::close(fd);
      return;
    }
    peers_.push_back(peer);
    threads_.emplace_back([this, peer] { Serve(peer); });
  }
}

void FakeCqlServer::Serve(std::shared_ptr<Peer> peer) {
  FrameParser parser(Direction::kRequest);
  char buffer[16 * 1024];
  while (true) {
    ssize_t n = ::recv(peer->fd(), buffer, sizeof(buffer), 0);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return;
    }
    parser.Append(std::string_view(buffer, static_cast<size_t>(n)));
    while (true) {
      Result<std::optional<Frame>> frame = parser.Next();
      if (!frame.ok()) {
        peer->Close();
        return;
      }
      if (!frame->has_value()) break;
      handler_(*peer, **frame);
    }
  }
}

void FakeCqlServer::DropConnections() {
  std::lock_guard lock(mu_);
  for (auto& peer : peers_) peer->Close();
}

void FakeCqlServer::Stop() {
  if (stopping_.exchange(true)) return;
  ::shutdown(listen_fd_, SHUT_RDWR);
  if (acceptor_.joinable()) acceptor_.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    for (auto& peer : peers_) peer->Close();
    threads.swap(threads_);
  }
  for (auto& thread : threads) thread.join();
  for (auto& peer : peers_) ::close(peer->fd());
  ::close(listen_fd_);
}

bool FakeCqlServer::AnswerHandshake(Peer& peer, const Frame& request) {
  if (request.header.opcode == Opcode::kStartup) {
    peer.Reply(request.header.stream, Opcode::kReady, "");
    return true;
  }
  if (request.header.opcode == Opcode::kOptions) {
    // [string multimap] {"CQL_VERSION": ["3.4.7"]}
    std::string body = BigEndian(1, 2) + BigEndian(11, 2) + "CQL_VERSION" + BigEndian(1, 2) + BigEndian(5, 2) + "3.4.7";
    peer.Reply(request.header.stream, Opcode::kSupported, body);
    return true;
  }
  return false;
}

std::string VoidResultBody() { return BigEndian(1, 4); }

std::string ErrorBody(int32_t code, std::string_view message) {
  return BigEndian(static_cast<uint32_t>(code), 4) + BigEndian(message.size(), 2) + std::string(message);
}

std::string PreparedResultBody(std::string_view id) {
  // kind 4, [short bytes] id, metadata: flags 0, 0 columns, 0 pk; result metadata: flags 4 (No_metadata), 0 columns
  return BigEndian(4, 4) + BigEndian(id.size(), 2) + std::string(id) + BigEndian(0, 4) + BigEndian(0, 4) +
         BigEndian(0, 4) + BigEndian(4, 4) + BigEndian(0, 4);
}

}  // namespace wal::cql::testing
