#include "target/http/http_config.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include "config/duration.h"

namespace wal::target {
namespace {

// RFC 9110 token characters, the only ones allowed in a header name.
bool IsHeaderName(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

// No CR, LF or other control bytes: they would split the header (injection).
bool IsHeaderValue(std::string_view value) {
  return std::none_of(value.begin(), value.end(), [](char c) {
    unsigned char byte = static_cast<unsigned char>(c);
    return (byte < 0x20 && byte != '\t') || byte == 0x7f;
  });
}

}  // namespace

Result<std::string> LoggableUrl(const std::string& url, const std::string& path) {
  if (!config::IsHttpUrl(url)) {
    return config::FieldError(path, "must start with http:// or https://, got " + config::Quoted(url));
  }
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> parsed(curl_url(), &curl_url_cleanup);
  if (parsed == nullptr) return Internal("curl_url: out of memory");
  if (curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    return config::FieldError(path, "is not a valid URL");
  }
  auto part = [&](CURLUPart which) -> std::string {
    char* text = nullptr;
    if (curl_url_get(parsed.get(), which, &text, 0) != CURLUE_OK || text == nullptr) return "";
    std::string value(text);
    curl_free(text);
    return value;
  };
  std::string scheme = part(CURLUPART_SCHEME);
  if (scheme != "http" && scheme != "https") return config::FieldError(path, "must start with http:// or https://");
  std::string host = part(CURLUPART_HOST);
  if (host.empty()) return config::FieldError(path, "has no host");
  std::string port = part(CURLUPART_PORT);
  return scheme + "://" + host + (port.empty() ? "" : ":" + port) + part(CURLUPART_PATH);
}

Status HttpTargetConfig::Read(config::ObjectReader& reader, const config::DecodeContext& /*context*/) {
  WAL_RETURN_IF_ERROR(reader.NonEmptyField("url", &url));
  if (const config::Json* value = reader.Take("headers")) {
    // Strings only: a header value is protocol text (and often a secret), not a number.
    WAL_RETURN_IF_ERROR(config::ReadStringMap(*value, reader.PathOf("headers"), &headers, /*scalars_as_text=*/false));
  }
  WAL_RETURN_IF_ERROR(reader.Field("timeout", &timeout));
  return reader.Field("method", &method);
}

Status HttpTargetConfig::Validate(const std::string& path) const {
  WAL_RETURN_IF_ERROR(config::CheckRequired(path + ".url", url, "target type 'http'"));
  WAL_RETURN_IF_ERROR(LoggableUrl(url, path + ".url").status());
  for (const auto& [name, value] : headers) {
    // Only the name may appear in an error: the value may be a secret.
    const std::string header = path + ".headers." + name;
    if (!IsHeaderName(name)) return config::FieldError(header, "is not a valid header name");
    if (!IsHeaderValue(value)) return config::FieldError(header, "value must not contain control characters");
    for (std::string_view reserved : {kNamespaceHeader, kEntryIdHeader, kAttemptHeader, kIdempotencyKeyHeader}) {
      if (config::EqualsIgnoringCase(name, reserved)) return config::FieldError(header, "is set by the target itself");
    }
  }
  WAL_RETURN_IF_ERROR(config::CheckPositive(path + ".timeout", timeout));
  if (!config::EqualsIgnoringCase(method, "POST") && !config::EqualsIgnoringCase(method, "PUT")) {
    return config::FieldError(path + ".method", "must be POST or PUT, got " + config::Quoted(method));
  }
  return Status::Ok();
}

void HttpTargetConfig::Write(config::Json& object) const {
  object["url"] = url;
  object["headers"] = config::Json::object();
  for (const auto& [name, value] : headers) object["headers"][name] = value;
  object["timeout"] = config::FormatDuration(timeout);
  object["method"] = method;
}

}  // namespace wal::target
