// A small pool of CQL connections over several contact points, the API the
// rest of wal uses.
//
// Hosts: every contact point is one node ("host" or "host:port"); the session
// keeps one multiplexed Connection per node and sends each request to the next
// node in turn (round-robin). A node without a live connection is connected by
// the request whose turn it is (lazily, or all at once by Connect()), no sooner
// than its backoff (reconnect_delay_min doubling to reconnect_delay_max)
// allows; meanwhile requests go on to the next node. When no node can take a
// request it fails at once with kUnavailable naming each node's last error. The session does not discover other nodes of the cluster
// and does not retry requests itself: a failed request is the caller's to
// retry (IsRetryable in error.h says whether it is worth it).
//
// Prepared statements: Prepare() returns a PreparedStatement that is valid on
// every node. When a node answers UNPREPARED (it restarted, or the statement
// was prepared on another node), the session prepares the statement on that
// connection and sends the request again, once, within the same deadline. Batches
// re-prepare the statements they name by id from the session's cache of
// everything it prepared.
//
// Timeouts: each call takes a timeout (0: options.connection.request_timeout);
// a request that gets no answer by then fails with kDeadlineExceeded.
//
// Threading: all methods are thread-safe and may be called concurrently; the
// synchronous calls block the caller for at most their timeout plus, when a
// node must be connected first, connect_timeout. Async callbacks run on a
// connection's I/O thread (or on the calling thread when the request fails
// before it is sent); they must not block and must not call the synchronous
// methods. The Session must outlive its outstanding async requests: the
// destructor closes every connection, failing them with kUnavailable.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "cql/connection.h"

namespace wal::cql {

struct SessionOptions {
  std::vector<std::string> contact_points;  // "host" or "host:port"; at least one
  uint16_t default_port = 9042;
  ConnectionOptions connection;  // applied to every node (its host/port are replaced)
  std::chrono::milliseconds reconnect_delay_min{100};
  std::chrono::milliseconds reconnect_delay_max{5000};
};

struct PreparedStatement {
  std::string query;
  std::string id;
  PreparedMetadata metadata;      // the bind markers
  RowsMetadata result_metadata;   // the columns a SELECT returns
};

using ResultCallback = std::function<void(Result<ResultMessage>)>;

class Session {
 public:
  // Checks the options (contact points parse, ports are valid); connects nothing.
  static Result<std::unique_ptr<Session>> Create(SessionOptions options);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Connects every node not connected yet; OK when at least one is up.
  Status Connect();

  Result<ResultMessage> Query(std::string_view query, const QueryParameters& parameters = {},
                              std::chrono::milliseconds timeout = {});
  Result<PreparedStatement> Prepare(std::string_view query, std::chrono::milliseconds timeout = {});
  Result<ResultMessage> Execute(const PreparedStatement& statement, const QueryParameters& parameters,
                                std::chrono::milliseconds timeout = {});
  Result<ResultMessage> Batch(const BatchRequest& batch, std::chrono::milliseconds timeout = {});

  void QueryAsync(std::string_view query, const QueryParameters& parameters, std::chrono::milliseconds timeout,
                  ResultCallback callback);
  void ExecuteAsync(const PreparedStatement& statement, const QueryParameters& parameters,
                    std::chrono::milliseconds timeout, ResultCallback callback);
  void BatchAsync(const BatchRequest& batch, std::chrono::milliseconds timeout, ResultCallback callback);

  // Nodes with a live connection now.
  size_t live_hosts() const;

 private:
  struct Host;
  struct Request;

  explicit Session(SessionOptions options, std::vector<std::unique_ptr<Host>> hosts);
  Result<std::shared_ptr<Connection>> Acquire();
  Result<std::shared_ptr<Connection>> ConnectHost(Host& host);
  // Sends an encoded request (or reports why it could not be encoded) on a node's connection.
  void Submit(Opcode opcode, Result<std::string> body, std::string statement_query, std::chrono::milliseconds timeout,
              ResultCallback callback);
  void SendOn(std::shared_ptr<Connection> connection, std::shared_ptr<Request> request);
  void Reprepare(std::shared_ptr<Connection> connection, std::shared_ptr<Request> request, std::string query);
  std::string QueryForId(const std::string& id) const;
  void Remember(const std::string& id, std::string query);

  const SessionOptions options_;
  std::vector<std::unique_ptr<Host>> hosts_;
  mutable std::mutex mu_;
  size_t next_host_ = 0;
  std::map<std::string, std::string> prepared_queries_;  // id -> query, for re-preparing batches
};

// Waits for an async call: the synchronous methods are these over the async ones.
Result<ResultMessage> Await(const std::function<void(ResultCallback)>& start);

}  // namespace wal::cql
