#include "cql/requests.h"

#include <limits>

#include "cql/wire.h"

namespace wal::cql {

namespace {

void WriteValues(WireWriter& writer, const std::vector<Value>& values) {
  if (values.size() > std::numeric_limits<uint16_t>::max()) {
    writer.Fail(std::to_string(values.size()) + " bound values exceed the protocol's 65535");
    return;
  }
  writer.Short(static_cast<uint16_t>(values.size()));
  for (const Value& value : values) WriteValue(writer, value);
}

bool CheckTimestamp(WireWriter& writer, const std::optional<int64_t>& timestamp) {
  if (timestamp && *timestamp < 0) {
    writer.Fail("a default timestamp must not be negative, got " + std::to_string(*timestamp));
    return false;
  }
  return true;
}

void WriteQueryParameters(WireWriter& writer, const QueryParameters& p) {
  if (!CheckTimestamp(writer, p.default_timestamp)) return;
  if (p.page_size && *p.page_size <= 0) {
    writer.Fail("a page size must be positive, got " + std::to_string(*p.page_size));
    return;
  }
  uint8_t flags = 0;
  if (!p.values.empty()) flags |= kQueryFlagValues;
  if (p.skip_metadata) flags |= kQueryFlagSkipMetadata;
  if (p.page_size) flags |= kQueryFlagPageSize;
  if (p.paging_state) flags |= kQueryFlagPagingState;
  if (p.serial_consistency) flags |= kQueryFlagSerialConsistency;
  if (p.default_timestamp) flags |= kQueryFlagDefaultTimestamp;
  writer.Short(static_cast<uint16_t>(p.consistency));
  writer.Byte(flags);
  if (!p.values.empty()) WriteValues(writer, p.values);
  if (p.page_size) writer.Int(*p.page_size);
  if (p.paging_state) writer.Bytes(*p.paging_state);
  if (p.serial_consistency) writer.Short(static_cast<uint16_t>(*p.serial_consistency));
  if (p.default_timestamp) writer.Long(*p.default_timestamp);
}

}  // namespace

Result<std::string> EncodeStartup(const std::map<std::string, std::string>& options) {
  WireWriter writer;
  writer.StringMap(options);
  return writer.Finish();
}

Result<std::string> EncodeDefaultStartup() { return EncodeStartup({{"CQL_VERSION", "3.0.0"}}); }

Result<std::string> EncodeAuthResponse(std::optional<std::string_view> token) {
  WireWriter writer;
  writer.Bytes(token);
  return writer.Finish();
}

std::string PlainSaslToken(std::string_view username, std::string_view password) {
  std::string token;
  token.reserve(username.size() + password.size() + 2);
  token.push_back('\0');
  token.append(username);
  token.push_back('\0');
  token.append(password);
  return token;
}

Result<std::string> EncodeQuery(std::string_view query, const QueryParameters& parameters) {
  WireWriter writer;
  writer.LongString(query);
  WriteQueryParameters(writer, parameters);
  return writer.Finish();
}

Result<std::string> EncodePrepare(std::string_view query) {
  WireWriter writer;
  writer.LongString(query);
  return writer.Finish();
}

Result<std::string> EncodeExecute(std::string_view prepared_id, const QueryParameters& parameters) {
  WireWriter writer;
  writer.ShortBytes(prepared_id);
  WriteQueryParameters(writer, parameters);
  return writer.Finish();
}

Result<std::string> EncodeBatch(const BatchRequest& batch) {
  WireWriter writer;
  if (batch.statements.empty()) return InvalidArgument("a CQL batch needs at least one statement");
  if (batch.statements.size() > std::numeric_limits<uint16_t>::max()) {
    return InvalidArgument(std::to_string(batch.statements.size()) + " batch statements exceed the protocol's 65535");
  }
  if (!CheckTimestamp(writer, batch.default_timestamp)) return writer.status();
  writer.Byte(static_cast<uint8_t>(batch.type));
  writer.Short(static_cast<uint16_t>(batch.statements.size()));
  for (const BatchStatement& statement : batch.statements) {
    writer.Byte(statement.prepared ? 1 : 0);
    if (statement.prepared) {
      writer.ShortBytes(statement.query_or_id);
    } else {
      writer.LongString(statement.query_or_id);
    }
    WriteValues(writer, statement.values);
  }
  uint8_t flags = 0;
  if (batch.serial_consistency) flags |= kQueryFlagSerialConsistency;
  if (batch.default_timestamp) flags |= kQueryFlagDefaultTimestamp;
  writer.Short(static_cast<uint16_t>(batch.consistency));
  writer.Byte(flags);
  if (batch.serial_consistency) writer.Short(static_cast<uint16_t>(*batch.serial_consistency));
  if (batch.default_timestamp) writer.Long(*batch.default_timestamp);
  return writer.Finish();
}

Result<std::string> EncodeRegister(const std::vector<std::string>& event_types) {
  WireWriter writer;
  writer.StringList(event_types);
  return writer.Finish();
}

}  // namespace wal::cql
