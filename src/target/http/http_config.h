// The HTTP webhook target's settings: `target: {type: http, url, ...}`
// (docs/configuration.md#target). The shape is module_config.h's.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>

#include "config/module_config.h"
#include "config/object_reader.h"

namespace wal::target {

struct HttpTargetConfig {
  static constexpr std::string_view kType = "http";
  // Headers the target sets on every request itself; `headers` may not set them.
  static constexpr std::string_view kNamespaceHeader = "X-Wal-Namespace";
  static constexpr std::string_view kEntryIdHeader = "X-Wal-Entry-Id";
  static constexpr std::string_view kAttemptHeader = "X-Wal-Attempt";
  static constexpr std::string_view kIdempotencyKeyHeader = "Idempotency-Key";

  std::string url;                             // required, http:// or https://
  std::map<std::string, std::string> headers;  // extra request headers; values are secrets
  std::chrono::milliseconds timeout{5000};     // the whole request
  std::string method = "POST";                 // POST or PUT, any case

  Status Read(config::ObjectReader& reader, const config::DecodeContext& context);
  Status Validate(const std::string& path) const;
  void Write(config::Json& object) const;
  bool operator==(const HttpTargetConfig&) const = default;
};

// `url` without user info, query or fragment (which may hold credentials),
// for logs and reasons; an error naming `path` when it is not an http(s) URL
// with a host.
Result<std::string> LoggableUrl(const std::string& url, const std::string& path);

}  // namespace wal::target
