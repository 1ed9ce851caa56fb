#include "cql/session.h"

#include <future>
#include <optional>
#include <utility>

namespace wal::cql {

using Clock = std::chrono::steady_clock;

struct Session::Host {
  std::string host;
  uint16_t port = 0;
  std::string name;  // host:port, for messages
  std::mutex mu;     // held while connecting, so one caller connects and the rest wait
  std::shared_ptr<Connection> connection;
  Status last_error;
  std::chrono::milliseconds backoff{0};
  Clock::time_point next_attempt{};
};

struct Session::Request {
  Opcode opcode = Opcode::kQuery;
  std::string body;
  Clock::time_point deadline;
  ResultCallback callback;
  std::string statement_query;  // EXECUTE: what to re-prepare on UNPREPARED
  bool reprepared = false;      // re-prepare at most once per request
};

namespace {

Result<std::pair<std::string, uint16_t>> ParseContactPoint(std::string_view point, uint16_t default_port) {
  auto bad = [&](std::string_view why) { return InvalidArgument("contact point '" + std::string(point) + "': " + std::string(why)); };
  std::string_view host = point;
  std::optional<std::string_view> port_text;
  if (!point.empty() && point.front() == '[') {  // [IPv6]:port
    const size_t close = point.find(']');
    if (close == std::string_view::npos) return bad("no ']' after the IPv6 address");
    host = point.substr(1, close - 1);
    std::string_view rest = point.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return bad("expected ':port' after ']'");
      port_text = rest.substr(1);
    }
  } else if (const size_t colon = point.find(':'); colon != std::string_view::npos && colon == point.rfind(':')) {
    host = point.substr(0, colon);
    port_text = point.substr(colon + 1);
  }  // several colons without brackets: a bare IPv6 address
  if (host.empty()) return bad("no host");
  uint16_t port = default_port;
  if (port_text) {
    unsigned value = 0;
    if (port_text->empty() || port_text->size() > 5) return bad("port must be 1..65535");
    for (char c : *port_text) {
      if (c < '0' || c > '9') return bad("port must be 1..65535");
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535) return bad("port must be 1..65535");
    port = static_cast<uint16_t>(value);
  }
  return std::make_pair(std::string(host), port);
}

std::chrono::milliseconds Remaining(Clock::time_point deadline) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
}

}  // namespace

Result<ResultMessage> Await(const std::function<void(ResultCallback)>& start) {
  auto promise = std::make_shared<std::promise<Result<ResultMessage>>>();
  std::future<Result<ResultMessage>> future = promise->get_future();
  start([promise](Result<ResultMessage> result) { promise->set_value(std::move(result)); });
  return future.get();
}

Result<std::unique_ptr<Session>> Session::Create(SessionOptions options) {
  if (options.contact_points.empty()) return InvalidArgument("a CQL session needs at least one contact point");
  if (options.reconnect_delay_min.count() <= 0 || options.reconnect_delay_max < options.reconnect_delay_min) {
    return InvalidArgument("reconnect delays must satisfy 0 < min <= max");
  }
  std::vector<std::unique_ptr<Host>> hosts;
  for (const std::string& point : options.contact_points) {
    WAL_ASSIGN_OR_RETURN(auto parsed, ParseContactPoint(point, options.default_port));
    auto host = std::make_unique<Host>();
    host->host = parsed.first;
    host->port = parsed.second;
    host->name = point;
    hosts.push_back(std::move(host));
  }
  return std::unique_ptr<Session>(new Session(std::move(options), std::move(hosts)));
}

Session::Session(SessionOptions options, std::vector<std::unique_ptr<Host>> hosts)
    : options_(std::move(options)), hosts_(std::move(hosts)) {}

Session::~Session() {
  for (auto& host : hosts_) {
    std::shared_ptr<Connection> connection;
    {
      std::lock_guard lock(host->mu);
      connection = std::move(host->connection);
    }
    if (connection) connection->Close();
  }
}

Result<std::shared_ptr<Connection>> Session::ConnectHost(Host& host) {
  ConnectionOptions options = options_.connection;
  options.host = host.host;
  options.port = host.port;
  Result<std::shared_ptr<Connection>> connection = Connection::Open(options);
  if (connection.ok()) {
    host.connection = *connection;
    host.last_error = Status::Ok();
    host.backoff = std::chrono::milliseconds(0);
    return connection;
  }
  host.connection.reset();
  host.last_error = connection.status();
  host.backoff = host.backoff.count() == 0 ? options_.reconnect_delay_min
                                           : std::min(options_.reconnect_delay_max, host.backoff * 2);
  host.next_attempt = Clock::now() + host.backoff;
  return connection.status();
}

namespace {

// What to report when no node could take a request: a permanent failure (bad
// credentials, TLS settings) when every node failed so, else kUnavailable with
// each node's reason.
Status NoHostStatus(const std::vector<std::pair<std::string, Status>>& failures) {
  bool all_permanent = !failures.empty();
  std::string text;
  for (const auto& [name, status] : failures) {
    if (IsRetryable(status) || status.ok()) all_permanent = false;
    if (!text.empty()) text += "; ";
    text += name + ": " + (status.ok() ? std::string("not connected") : status.message());
  }
  if (all_permanent) return failures.front().second.WithContext(failures.front().first);
  return Unavailable("no Cassandra node available (" + text + ")");
}

}  // namespace

Result<std::shared_ptr<Connection>> Session::Acquire() {
  const size_t n = hosts_.size();
  size_t start;
  {
    std::lock_guard lock(mu_);
    start = next_host_++;
  }
  std::vector<std::pair<std::string, Status>> failures;
  std::vector<Host*> busy;  // being connected by another caller right now
  for (size_t i = 0; i < n; ++i) {
    Host& host = *hosts_[(start + i) % n];
    std::unique_lock lock(host.mu, std::try_to_lock);
    if (!lock.owns_lock()) {
      busy.push_back(&host);
      continue;
    }
    if (host.connection && host.connection->alive()) return host.connection;
    if (host.connection) {
      host.last_error = host.connection->broken_reason();
      host.connection.reset();
    }
    if (Clock::now() < host.next_attempt) {
      failures.emplace_back(host.name, host.last_error.WithContext(
                                           "down, next attempt in " +
                                           std::to_string(Remaining(host.next_attempt).count()) + " ms"));
      continue;
    }
    Result<std::shared_ptr<Connection>> connection = ConnectHost(host);
    if (connection.ok()) return connection;
    failures.emplace_back(host.name, connection.status());
  }
  // Nothing else took the request: wait for the connects in progress.
  for (Host* host : busy) {
    std::lock_guard lock(host->mu);
    if (host->connection && host->connection->alive()) return host->connection;
    failures.emplace_back(host->name, host->last_error);
  }
  return NoHostStatus(failures);
}

Status Session::Connect() {
  std::vector<std::pair<std::string, Status>> failures;
  bool any = false;
  for (auto& host : hosts_) {
    std::lock_guard lock(host->mu);
    if (host->connection && host->connection->alive()) {
      any = true;
      continue;
    }
    Result<std::shared_ptr<Connection>> connection = ConnectHost(*host);
    if (connection.ok()) {
      any = true;
    } else {
      failures.emplace_back(host->name, connection.status());
    }
  }
  return any ? Status::Ok() : NoHostStatus(failures);
}

size_t Session::live_hosts() const {
  size_t live = 0;
  for (const auto& host : hosts_) {
    std::lock_guard lock(host->mu);
    if (host->connection && host->connection->alive()) ++live;
  }
  return live;
}

void Session::Remember(const std::string& id, std::string query) {
  std::lock_guard lock(mu_);
  prepared_queries_[id] = std::move(query);
}

std::string Session::QueryForId(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = prepared_queries_.find(id);
  return it == prepared_queries_.end() ? std::string() : it->second;
}

void Session::SendOn(std::shared_ptr<Connection> connection, std::shared_ptr<Request> request) {
  const std::chrono::milliseconds left = Remaining(request->deadline);
  if (left.count() <= 0) {
    request->callback(DeadlineExceeded("CQL request timed out before it could be sent to " + connection->peer()));
    return;
  }
  Connection* raw = connection.get();
  raw->Send(request->opcode, request->body, left,
            [this, connection = std::move(connection), request](Result<Frame> frame) mutable {
              ServerError error;
              Result<ResultMessage> result = DecodeResultFrame(frame, &error);
              if (!result.ok() && frame.ok() && error.code == ErrorCode::kUnprepared && !request->reprepared) {
                std::string query =
                    request->statement_query.empty() ? QueryForId(error.unprepared_id) : request->statement_query;
                if (!query.empty()) {
                  request->reprepared = true;
                  Reprepare(std::move(connection), std::move(request), std::move(query));
                  return;
                }
              }
              request->callback(std::move(result));
            });
}

void Session::Reprepare(std::shared_ptr<Connection> connection, std::shared_ptr<Request> request,
                        std::string query) {
  Result<std::string> body = EncodePrepare(query);
  const std::chrono::milliseconds left = Remaining(request->deadline);
  if (!body.ok() || left.count() <= 0) {
    request->callback(body.ok() ? DeadlineExceeded("CQL request timed out while re-preparing its statement")
                                : body.status());
    return;
  }
  Connection* raw = connection.get();
  raw->Send(Opcode::kPrepare, std::move(*body), left,
            [this, connection = std::move(connection), request, query = std::move(query)](Result<Frame> frame) mutable {
              Result<ResultMessage> prepared = DecodeResultFrame(frame);
              if (!prepared.ok()) {
                request->callback(prepared.status().WithContext("re-preparing after UNPREPARED"));
                return;
              }
              Remember(prepared->prepared.id, std::move(query));
              SendOn(std::move(connection), std::move(request));
            });
}

void Session::Submit(Opcode opcode, Result<std::string> body, std::string statement_query,
                     std::chrono::milliseconds timeout, ResultCallback callback) {
  if (!body.ok()) return callback(body.status());
  auto request = std::make_shared<Request>();
  request->opcode = opcode;
  request->body = std::move(*body);
  request->statement_query = std::move(statement_query);
  request->deadline = Clock::now() + (timeout.count() > 0 ? timeout : options_.connection.request_timeout);
  request->callback = std::move(callback);
  Result<std::shared_ptr<Connection>> connection = Acquire();
  if (!connection.ok()) return request->callback(connection.status());
  SendOn(std::move(*connection), std::move(request));
}

void Session::QueryAsync(std::string_view query, const QueryParameters& parameters,
                         std::chrono::milliseconds timeout, ResultCallback callback) {
  Submit(Opcode::kQuery, EncodeQuery(query, parameters), {}, timeout, std::move(callback));
}

void Session::ExecuteAsync(const PreparedStatement& statement, const QueryParameters& parameters,
                           std::chrono::milliseconds timeout, ResultCallback callback) {
  Submit(Opcode::kExecute, EncodeExecute(statement.id, parameters), statement.query, timeout, std::move(callback));
}

void Session::BatchAsync(const BatchRequest& batch, std::chrono::milliseconds timeout, ResultCallback callback) {
  Submit(Opcode::kBatch, EncodeBatch(batch), {}, timeout, std::move(callback));
}

Result<ResultMessage> Session::Query(std::string_view query, const QueryParameters& parameters,
                                     std::chrono::milliseconds timeout) {
  return Await([&](ResultCallback done) { QueryAsync(query, parameters, timeout, std::move(done)); });
}

Result<ResultMessage> Session::Execute(const PreparedStatement& statement, const QueryParameters& parameters,
                                       std::chrono::milliseconds timeout) {
  return Await([&](ResultCallback done) { ExecuteAsync(statement, parameters, timeout, std::move(done)); });
}

Result<ResultMessage> Session::Batch(const BatchRequest& batch, std::chrono::milliseconds timeout) {
  return Await([&](ResultCallback done) { BatchAsync(batch, timeout, std::move(done)); });
}

Result<PreparedStatement> Session::Prepare(std::string_view query, std::chrono::milliseconds timeout) {
  Result<ResultMessage> result = Await(
      [&](ResultCallback done) { Submit(Opcode::kPrepare, EncodePrepare(query), {}, timeout, std::move(done)); });
  if (!result.ok()) return result.status();
  if (result->kind != ResultKind::kPrepared) {
    return Corruption("PREPARE answered with RESULT kind " + std::to_string(static_cast<int32_t>(result->kind)));
  }
  PreparedStatement statement;
  statement.query = std::string(query);
  statement.id = result->prepared.id;
  statement.metadata = std::move(result->prepared.metadata);
  statement.result_metadata = std::move(result->prepared.result_metadata);
  Remember(statement.id, statement.query);
  return statement;
}

}  // namespace wal::cql
