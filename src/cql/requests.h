// Bodies of the request messages (spec 4.1). Each encoder returns the body only;
// frame.h adds the header. Layouts:
//
//   STARTUP        [string map] of options; CQL_VERSION is mandatory ("3.0.0")
//   AUTH_RESPONSE  [bytes] token; SASL PLAIN's token is "\0" user "\0" password
//   OPTIONS        empty
//   QUERY          [long string] query, <query_parameters>
//   PREPARE        [long string] query
//   EXECUTE        [short bytes] prepared id, <query_parameters>
//   BATCH          [byte] type, [short] n, n x (<kind><string_or_id>[short] n [value]...),
//                  [consistency], [byte] flags, [<serial_consistency>][<timestamp>]
//   <query_parameters> = [consistency] [byte] flags [[short] n [value]...] [[int] page size]
//                  [[bytes] paging state] [[consistency] serial] [[long] timestamp micros]
//
// Failure: kInvalidArgument when something does not fit the protocol (a string
// over 65535 bytes, more than 65535 values, a negative default timestamp, a
// batch without statements).
// Threading: pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "cql/protocol.h"
#include "cql/value.h"

namespace wal::cql {

struct QueryParameters {
  Consistency consistency = Consistency::kLocalQuorum;
  std::vector<Value> values;           // positional, in bind-marker order
  bool skip_metadata = false;          // EXECUTE only: rows come without column specs
  std::optional<int32_t> page_size;    // rows per page (> 0)
  std::optional<std::string> paging_state;
  std::optional<Consistency> serial_consistency;  // SERIAL or LOCAL_SERIAL
  std::optional<int64_t> default_timestamp;       // microseconds; USING TIMESTAMP overrides it
};

struct BatchStatement {
  bool prepared = false;  // true: `query_or_id` is a prepared id, else a query string
  std::string query_or_id;
  std::vector<Value> values;
};

struct BatchRequest {
  BatchType type = BatchType::kLogged;
  std::vector<BatchStatement> statements;
  Consistency consistency = Consistency::kLocalQuorum;
  std::optional<Consistency> serial_consistency;
  std::optional<int64_t> default_timestamp;  // microseconds
};

Result<std::string> EncodeStartup(const std::map<std::string, std::string>& options);
// STARTUP with CQL_VERSION 3.0.0 and no compression.
Result<std::string> EncodeDefaultStartup();
Result<std::string> EncodeAuthResponse(std::optional<std::string_view> token);
// The SASL PLAIN initial response (RFC 4616) with an empty authorization id.
std::string PlainSaslToken(std::string_view username, std::string_view password);
Result<std::string> EncodeQuery(std::string_view query, const QueryParameters& parameters);
Result<std::string> EncodePrepare(std::string_view query);
Result<std::string> EncodeExecute(std::string_view prepared_id, const QueryParameters& parameters);
Result<std::string> EncodeBatch(const BatchRequest& batch);
// REGISTER for event types ("TOPOLOGY_CHANGE", "STATUS_CHANGE", "SCHEMA_CHANGE").
Result<std::string> EncodeRegister(const std::vector<std::string>& event_types);

}  // namespace wal::cql
