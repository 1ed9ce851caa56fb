#include "cql/responses.h"

namespace wal::cql {

Result<ResponseEnvelope> SplitResponseBody(const FrameHeader& header, std::string_view body) {
  WireReader reader(body);
  ResponseEnvelope envelope;
  if (header.flags & kFlagTracing) envelope.tracing_id = reader.ReadUuid();
  if (header.flags & kFlagWarning) envelope.warnings = reader.StringList();
  if (header.flags & kFlagCustomPayload) envelope.custom_payload = reader.BytesMap();
  if (!reader.ok()) return reader.status().WithContext(std::string(OpcodeName(header.opcode)) + " envelope");
  envelope.message = body.substr(reader.offset());
  return envelope;
}

Result<std::string> DecodeAuthenticate(std::string_view message) {
  WireReader reader(message);
  std::string authenticator(reader.String());
  if (!reader.ok()) return reader.status().WithContext("AUTHENTICATE");
  return authenticator;
}

Result<std::map<std::string, std::vector<std::string>>> DecodeSupported(std::string_view message) {
  WireReader reader(message);
  auto options = reader.StringMultimap();
  if (!reader.ok()) return reader.status().WithContext("SUPPORTED");
  return options;
}

Result<std::optional<std::string>> DecodeAuthToken(std::string_view message) {
  WireReader reader(message);
  std::optional<std::string_view> token = reader.Bytes();
  if (!reader.ok()) return reader.status().WithContext("auth token");
  return token ? std::optional<std::string>(std::string(*token)) : std::nullopt;
}

Result<std::string> DecodeEventType(std::string_view message) {
  WireReader reader(message);
  std::string type(reader.String());
  if (!reader.ok()) return reader.status().WithContext("EVENT");
  return type;
}

}  // namespace wal::cql
