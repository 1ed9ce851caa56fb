#include "cql/connection.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <future>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "cql/responses.h"

namespace wal::cql {

using Clock = std::chrono::steady_clock;

class Connection::Impl : public std::enable_shared_from_this<Connection::Impl> {
 public:
  Impl(std::unique_ptr<Transport> transport, const ConnectionOptions& options)
      : peer_(options.host + ":" + std::to_string(options.port)),
        default_timeout_(options.request_timeout),
        max_in_flight_(options.max_in_flight),
        transport_(std::move(transport)),
        parser_(Direction::kResponse, options.max_frame_bytes),
        wake_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
        slots_(static_cast<size_t>(options.max_in_flight)) {
    // Lowest ids first: a lightly loaded connection reuses a few ids.
    for (int id = max_in_flight_ - 1; id >= 0; --id) free_ids_.push_back(static_cast<int16_t>(id));
  }

  ~Impl() {
    if (wake_fd_ >= 0) ::close(wake_fd_);
  }

  Status Start() {
    if (wake_fd_ < 0) return Internal(std::string("eventfd: ") + std::strerror(errno));
    thread_ = std::thread([self = shared_from_this()] { self->Run(); });
    return Status::Ok();
  }

  void Send(Opcode opcode, std::string body, std::chrono::milliseconds timeout, ResponseCallback callback) {
    if (timeout.count() <= 0) timeout = default_timeout_;
    if (body.size() > kMaxFrameBodyBytes) {
      callback(InvalidArgument("a CQL request body of " + std::to_string(body.size()) + " bytes exceeds the " +
                               std::to_string(kMaxFrameBodyBytes) + "-byte frame limit"));
      return;
    }
    std::unique_lock lock(mu_);
    if (!broken_.ok()) {
      Status status = broken_;
      lock.unlock();
      callback(std::move(status));
      return;
    }
    if (free_ids_.empty()) {
      lock.unlock();
      callback(ResourceExhausted("all " + std::to_string(max_in_flight_) + " stream ids of the connection to " +
                                 peer_ + " are in use"));
      return;
    }
    const int16_t id = free_ids_.back();
    free_ids_.pop_back();
    Slot& slot = slots_[static_cast<size_t>(id)];
    slot.callback = std::move(callback);
    slot.deadline = Clock::now() + timeout;
    slot.timeout = timeout;
    slot.state = SlotState::kActive;
    ++active_;
    deadlines_.emplace(slot.deadline, id);
    FrameHeader header;
    header.stream = id;
    header.opcode = opcode;
    header.length = static_cast<uint32_t>(body.size());
    const bool wake = outbox_.empty();
    outbox_ += EncodeHeader(header);
    outbox_ += body;
    lock.unlock();
    if (wake) Wake();
  }

  void RequestClose() {
    {
      std::lock_guard lock(mu_);
      closing_ = true;
    }
    Wake();
  }

  void JoinOrDetach() {
    std::lock_guard lock(join_mu_);
    if (!thread_.joinable()) return;
    if (thread_.get_id() == std::this_thread::get_id()) {
      thread_.detach();  // closed from a callback: the thread ends on its own and holds *this till then
    } else {
      thread_.join();
    }
  }

  bool alive() const {
    std::lock_guard lock(mu_);
    return broken_.ok() && !closing_;
  }
  Status broken_reason() const {
    std::lock_guard lock(mu_);
    if (broken_.ok() && closing_) return Unavailable("connection to " + peer_ + " is closing");
    return broken_;
  }
  size_t in_flight() const {
    std::lock_guard lock(mu_);
    return active_;
  }
  const std::string& peer() const { return peer_; }

 private:
  enum class SlotState { kFree, kActive, kOrphaned };
  struct Slot {
    ResponseCallback callback;
    Clock::time_point deadline;
    std::chrono::milliseconds timeout{0};
    SlotState state = SlotState::kFree;
  };

  void Wake() {
    uint64_t one = 1;
    ssize_t ignored = ::write(wake_fd_, &one, sizeof(one));
    (void)ignored;  // EAGAIN means a wake-up is already pending
  }

  void Run() {
    std::string inbound;
    while (true) {
      std::string out;
      std::optional<Clock::time_point> next_deadline;
      {
        std::lock_guard lock(mu_);
        if (closing_) break;
        out.swap(outbox_);
        if (!deadlines_.empty()) next_deadline = deadlines_.begin()->first;
      }
      if (!out.empty()) {
        if (Status s = transport_->Write(out); !s.ok()) return Finish(s);
      }
      int timeout_ms = -1;
      if (next_deadline) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*next_deadline - Clock::now()).count();
        timeout_ms = left < 0 ? 0 : static_cast<int>(std::min<int64_t>(left + 1, 60'000));
      }
      pollfd fds[2] = {
          {transport_->fd(), static_cast<short>(POLLIN | (transport_->HasPendingOutput() ? POLLOUT : 0)), 0},
          {wake_fd_, POLLIN, 0}};
      if (::poll(fds, 2, timeout_ms) < 0 && errno != EINTR) {
        return Finish(Unavailable("poll on the connection to " + peer_ + ": " + std::strerror(errno)));
      }
      if (fds[1].revents & POLLIN) {
        uint64_t count;
        ssize_t ignored = ::read(wake_fd_, &count, sizeof(count));
        (void)ignored;
      }
      if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
        bool closed = false;
        inbound.clear();
        if (Status s = transport_->ReadAvailable(&inbound, &closed); !s.ok()) return Finish(s);
        parser_.Append(inbound);
        while (true) {
          Result<std::optional<Frame>> frame = parser_.Next();
          if (!frame.ok()) return Finish(Unavailable("from " + peer_ + ": " + frame.status().message()));
          if (!frame->has_value()) break;
          if (Status s = Dispatch(std::move(**frame)); !s.ok()) return Finish(s);
        }
        if (closed) return Finish(Unavailable("connection to " + peer_ + " closed by the peer"));
      }
      if (fds[0].revents & POLLOUT) {
        if (Status s = transport_->Flush(); !s.ok()) return Finish(s);
      }
      if (Status s = ExpireDue(Clock::now()); !s.ok()) return Finish(s);
    }
    Finish(Unavailable("connection to " + peer_ + " closed"));
  }

  // Marks the connection broken, fails every outstanding request, closes the socket.
  void Finish(Status status) {
    std::vector<ResponseCallback> callbacks;
    {
      std::lock_guard lock(mu_);
      if (broken_.ok()) broken_ = std::move(status);
      for (size_t id = 0; id < slots_.size(); ++id) {
        if (slots_[id].state == SlotState::kActive) callbacks.push_back(std::move(slots_[id].callback));
        slots_[id] = Slot{};
      }
      deadlines_.clear();
      outbox_.clear();
      active_ = 0;
      orphaned_ = 0;
    }
    transport_.reset();
    const Status reason = broken_reason();
    for (ResponseCallback& callback : callbacks) callback(reason);
  }

  Status Dispatch(Frame frame) {
    const int16_t id = frame.header.stream;
    if (id < 0) return Status::Ok();  // a server event; this client registers for none
    ResponseCallback callback;
    {
      std::lock_guard lock(mu_);
      if (static_cast<size_t>(id) >= slots_.size() || slots_[id].state == SlotState::kFree) {
        return Unavailable("protocol violation by " + peer_ + ": a response on stream " + std::to_string(id) +
                           ", which has no request");
      }
      Slot& slot = slots_[id];
      if (slot.state == SlotState::kActive) {
        callback = std::move(slot.callback);
        deadlines_.erase({slot.deadline, id});
        --active_;
      } else {
        --orphaned_;  // the late answer to a timed-out request: the id is free again
      }
      slot = Slot{};
      free_ids_.push_back(id);
    }
    if (callback) callback(std::move(frame));
    return Status::Ok();
  }

  Status ExpireDue(Clock::time_point now) {
    std::vector<std::pair<ResponseCallback, std::chrono::milliseconds>> expired;
    bool reset = false;
    {
      std::lock_guard lock(mu_);
      while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
        Slot& slot = slots_[static_cast<size_t>(deadlines_.begin()->second)];
        deadlines_.erase(deadlines_.begin());
        expired.emplace_back(std::move(slot.callback), slot.timeout);
        slot.callback = nullptr;
        slot.state = SlotState::kOrphaned;
        --active_;
        ++orphaned_;
      }
      reset = orphaned_ > 0 && orphaned_ * 2 >= static_cast<size_t>(max_in_flight_);
    }
    for (auto& [callback, timeout] : expired) {
      callback(DeadlineExceeded("CQL request to " + peer_ + " got no response within " +
                                std::to_string(timeout.count()) + " ms"));
    }
    if (reset) {
      return Unavailable("connection to " + peer_ + " reset: timed-out requests hold half of its stream ids");
    }
    return Status::Ok();
  }

  const std::string peer_;
  const std::chrono::milliseconds default_timeout_;
  const int max_in_flight_;
  std::unique_ptr<Transport> transport_;  // the I/O thread's, once started
  FrameParser parser_;                    // the I/O thread's
  const int wake_fd_;
  std::mutex join_mu_;
  std::thread thread_;

  mutable std::mutex mu_;
  std::vector<Slot> slots_;
  std::vector<int16_t> free_ids_;
  std::set<std::pair<Clock::time_point, int16_t>> deadlines_;
  std::string outbox_;
  Status broken_;
  bool closing_ = false;
  size_t active_ = 0;
  size_t orphaned_ = 0;
};

namespace {

bool IsPlainIdentifier(std::string_view name) {
  if (name.empty() || name.size() > 48) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

Status ExpectOpcode(const Frame& frame, Opcode expected, std::string_view step) {
  if (frame.header.opcode == expected) return Status::Ok();
  return Corruption(std::string(step) + ": expected " + std::string(OpcodeName(expected)) + ", got " +
                    std::string(OpcodeName(frame.header.opcode)));
}

// The Status of an ERROR frame.
Status ErrorFrameStatus(const Frame& frame) {
  Result<ResponseEnvelope> envelope = SplitResponseBody(frame.header, frame.body);
  if (!envelope.ok()) return envelope.status();
  Result<ServerError> error = DecodeError(envelope->message);
  if (!error.ok()) return error.status();
  return ToStatus(*error);
}

}  // namespace

Result<std::shared_ptr<Connection>> Connection::Open(const ConnectionOptions& options) {
  if (options.max_in_flight < 1 || options.max_in_flight > kMaxStreams) {
    return InvalidArgument("max_in_flight must be 1.." + std::to_string(kMaxStreams) + ", got " +
                           std::to_string(options.max_in_flight));
  }
  if (!options.keyspace.empty() && !IsPlainIdentifier(options.keyspace)) {
    return InvalidArgument("keyspace '" + options.keyspace +
                           "' must be 1-48 letters, digits or underscores");
  }
  WAL_ASSIGN_OR_RETURN(std::unique_ptr<Transport> transport,
                       Connect(options.host, options.port, options.tls, options.connect_timeout));
  auto impl = std::make_shared<Impl>(std::move(transport), options);
  WAL_RETURN_IF_ERROR(impl->Start());
  std::shared_ptr<Connection> connection(new Connection(std::move(impl)));
  WAL_RETURN_IF_ERROR(connection->Handshake(options));
  return connection;
}

Status Connection::Handshake(const ConnectionOptions& options) {
  const auto timeout = options.connect_timeout;
  WAL_ASSIGN_OR_RETURN(std::string startup, EncodeDefaultStartup());
  WAL_ASSIGN_OR_RETURN(Frame reply, Call(Opcode::kStartup, std::move(startup), timeout));
  if (reply.header.opcode == Opcode::kError) return ErrorFrameStatus(reply).WithContext("STARTUP");
  if (reply.header.opcode == Opcode::kAuthenticate) {
    WAL_ASSIGN_OR_RETURN(ResponseEnvelope envelope, SplitResponseBody(reply.header, reply.body));
    WAL_ASSIGN_OR_RETURN(std::string authenticator, DecodeAuthenticate(envelope.message));
    if (!options.credentials) {
      return {StatusCode::kUnauthenticated,
              peer() + " requires authentication (" + authenticator + ") and no credentials are configured"};
    }
    WAL_ASSIGN_OR_RETURN(std::string token, EncodeAuthResponse(PlainSaslToken(options.credentials->username,
                                                                               options.credentials->password)));
    WAL_ASSIGN_OR_RETURN(reply, Call(Opcode::kAuthResponse, std::move(token), timeout));
    if (reply.header.opcode == Opcode::kError) return ErrorFrameStatus(reply).WithContext("authentication");
    // SASL PLAIN is one message; a challenge means an authenticator this client does not speak.
    if (reply.header.opcode == Opcode::kAuthChallenge) {
      return {StatusCode::kUnauthenticated,
              peer() + "'s authenticator " + authenticator + " sent a SASL challenge; only PLAIN is supported"};
    }
    WAL_RETURN_IF_ERROR(ExpectOpcode(reply, Opcode::kAuthSuccess, "authentication"));
  } else {
    WAL_RETURN_IF_ERROR(ExpectOpcode(reply, Opcode::kReady, "STARTUP"));
  }
  if (!options.keyspace.empty()) {
    WAL_ASSIGN_OR_RETURN(ResultMessage used, Query("USE \"" + options.keyspace + "\"", {}, timeout));
    (void)used;
  }
  return Status::Ok();
}

Connection::~Connection() { Close(); }

void Connection::Close() {
  impl_->RequestClose();
  impl_->JoinOrDetach();
}

void Connection::Send(Opcode opcode, std::string body, std::chrono::milliseconds timeout,
                      ResponseCallback callback) {
  impl_->Send(opcode, std::move(body), timeout, std::move(callback));
}

Result<Frame> Connection::Call(Opcode opcode, std::string body, std::chrono::milliseconds timeout) {
  auto promise = std::make_shared<std::promise<Result<Frame>>>();
  std::future<Result<Frame>> future = promise->get_future();
  Send(opcode, std::move(body), timeout, [promise](Result<Frame> frame) { promise->set_value(std::move(frame)); });
  return future.get();
}

Result<ResultMessage> Connection::Query(std::string_view query, const QueryParameters& parameters,
                                        std::chrono::milliseconds timeout) {
  WAL_ASSIGN_OR_RETURN(std::string body, EncodeQuery(query, parameters));
  return DecodeResultFrame(Call(Opcode::kQuery, std::move(body), timeout));
}

Result<ResultMessage> Connection::Prepare(std::string_view query, std::chrono::milliseconds timeout) {
  WAL_ASSIGN_OR_RETURN(std::string body, EncodePrepare(query));
  return DecodeResultFrame(Call(Opcode::kPrepare, std::move(body), timeout));
}

Result<ResultMessage> Connection::Execute(std::string_view prepared_id, const QueryParameters& parameters,
                                          std::chrono::milliseconds timeout) {
  WAL_ASSIGN_OR_RETURN(std::string body, EncodeExecute(prepared_id, parameters));
  return DecodeResultFrame(Call(Opcode::kExecute, std::move(body), timeout));
}

Result<ResultMessage> Connection::Batch(const BatchRequest& batch, std::chrono::milliseconds timeout) {
  WAL_ASSIGN_OR_RETURN(std::string body, EncodeBatch(batch));
  return DecodeResultFrame(Call(Opcode::kBatch, std::move(body), timeout));
}

Result<std::map<std::string, std::vector<std::string>>> Connection::Options(std::chrono::milliseconds timeout) {
  WAL_ASSIGN_OR_RETURN(Frame reply, Call(Opcode::kOptions, std::string(), timeout));
  if (reply.header.opcode == Opcode::kError) return ErrorFrameStatus(reply);
  WAL_RETURN_IF_ERROR(ExpectOpcode(reply, Opcode::kSupported, "OPTIONS"));
  WAL_ASSIGN_OR_RETURN(ResponseEnvelope envelope, SplitResponseBody(reply.header, reply.body));
  return DecodeSupported(envelope.message);
}

bool Connection::alive() const { return impl_->alive(); }
Status Connection::broken_reason() const { return impl_->broken_reason(); }
size_t Connection::in_flight() const { return impl_->in_flight(); }
const std::string& Connection::peer() const { return impl_->peer(); }

Result<ResultMessage> DecodeResultFrame(const Result<Frame>& frame, ServerError* server_error) {
  if (!frame.ok()) return frame.status();
  WAL_ASSIGN_OR_RETURN(ResponseEnvelope envelope, SplitResponseBody(frame->header, frame->body));
  if (frame->header.opcode == Opcode::kError) {
    WAL_ASSIGN_OR_RETURN(ServerError error, DecodeError(envelope.message));
    if (server_error != nullptr) *server_error = error;
    return ToStatus(error);
  }
  if (frame->header.opcode != Opcode::kResult) {
    return Corruption("expected RESULT or ERROR, got " + std::string(OpcodeName(frame->header.opcode)));
  }
  return DecodeResult(envelope.message);
}

}  // namespace wal::cql
