// HTTP request decoding and the API behind it, without a socket. The input is
// a request in HTTP/1.1 text form (request line, headers, a blank line, the
// body); it is split the way the transport splits it (path and query
// percent-decoded) and then
//   * decoded (server/http_decode): an error is a 400, 404 or 405; a call's
//     message matches its route;
//   * served by HttpApi against a live engine (engine_fixture.h): every
//     response is well-formed: a status below 500 (503 only for a write that
//     was not stored), a JSON body in valid UTF-8 (error bodies with code and
//     message), and an X-Request-Id.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/utf8.h"
#include "engine_fixture.h"
#include "fuzz_check.h"
#include "server/http_decode.h"
#include "server/namespace_json.h"

namespace {

using namespace wal;
using namespace wal::server;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding as httplib does it ('+' is a space in query text only).
std::string Decode(std::string_view text, bool query) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 && HexValue(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2])));
      i += 2;
    } else if (query && text[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

std::string_view NextLine(std::string_view* text) {
  const size_t end = text->find('\n');
  std::string_view line = text->substr(0, end);
  text->remove_prefix(end == std::string_view::npos ? text->size() : end + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

HttpRequest Parse(std::string_view text) {
  HttpRequest request;
  std::string_view line = NextLine(&text);
  const size_t space = line.find(' ');
  request.method = std::string(line.substr(0, space));
  std::string_view target = space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
  if (const size_t version = target.rfind(" HTTP/"); version != std::string_view::npos) target = target.substr(0, version);
  const size_t question = target.find('?');
  request.path = Decode(target.substr(0, question), false);
  if (question != std::string_view::npos) {
    std::string_view query = target.substr(question + 1);
    while (!query.empty()) {
      const size_t amp = query.find('&');
      std::string_view pair = query.substr(0, amp);
      query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
      const size_t equals = pair.find('=');
      request.query.emplace_back(Decode(pair.substr(0, equals), true),
                                 equals == std::string_view::npos ? "" : Decode(pair.substr(equals + 1), true));
    }
  }
  while (!text.empty()) {
    line = NextLine(&text);
    if (line.empty()) break;
    const size_t colon = line.find(':');
    std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    request.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  }
  request.body = std::string(text);
  return request;
}

void CheckJsonBody(const HttpResponse& response) {
  FUZZ_CHECK(IsValidUtf8(response.body));
  const nlohmann::json body = nlohmann::json::parse(response.body, nullptr, false);
  FUZZ_CHECK(!body.is_discarded());
  if (response.status >= 400) {
    FUZZ_CHECK(body.is_object() && body.contains("error") && body["error"].is_object());
    const auto& error = body["error"];
    FUZZ_CHECK(error.contains("code") && error["code"] == response.status && error.contains("message") &&
               error["message"].is_string() && error.contains("status") && error["status"].is_string());
  }
}

// Applying a namespace runs only for configs that stay in the process.
bool SafeToServe(const HttpDecoded& decoded) {
  const auto* call = std::get_if<HttpCall>(&decoded);
  if (call == nullptr || call->route != HttpRoute::kApplyNamespace || !call->invalid.ok()) return true;
  auto config = NamespaceFromStruct(std::get<v1::ApplyNamespaceRequest>(call->message).config(),
                                    fuzz::EngineFixture::Get().engine().module_catalog());
  return !config.ok() || fuzz::SafeToApply(*config);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const HttpRequest request = Parse(std::string_view(reinterpret_cast<const char*>(data), size));
  const HttpDecoded decoded = DecodeHttpRequest(request);
  if (const auto* error = std::get_if<HttpError>(&decoded)) {
    FUZZ_CHECK(error->http_status == 400 || error->http_status == 404 || error->http_status == 405);
    FUZZ_CHECK(!error->status.ok());
  } else {
    const HttpCall& call = std::get<HttpCall>(decoded);
    const bool has_message = !std::holds_alternative<std::monostate>(call.message);
    const bool bare = call.route == HttpRoute::kHealth || call.route == HttpRoute::kReady ||
                      call.route == HttpRoute::kMetrics || call.route == HttpRoute::kListNamespaces ||
                      call.route == HttpRoute::kGetShardMap;
    FUZZ_CHECK(has_message != bare);
    if (!call.invalid.ok()) FUZZ_CHECK(call.invalid.code() == StatusCode::kInvalidArgument);
  }
  if (!SafeToServe(decoded)) return 0;

  fuzz::EngineFixture& fixture = fuzz::EngineFixture::Get();
  const HttpResponse response = fixture.http().Serve(request);
  FUZZ_CHECK(response.status >= 200);
  FUZZ_CHECK(response.status < 500 || response.status == 503);
  bool request_id = false;
  for (const auto& [name, value] : response.headers) request_id |= name == "X-Request-Id" && !value.empty();
  FUZZ_CHECK(request_id);
  if (response.content_type == "application/json") CheckJsonBody(response);
  fixture.Restore();
  return 0;
}
