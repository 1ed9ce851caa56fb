// Logging set-up and request ids.
//
// log_format "json" writes one JSON object per line:
//   {"time":"2026-…Z","level":"info","logger":"wald","msg":"…","namespace":"…","request_id":"…"}
// namespace appears when the line is logged while a LogNamespaceScope
// (common/log_context.h) is open on the thread, request_id while a
// RequestIdScope is. Requests carry their id in `x-request-id` (gRPC metadata or
// HTTP header); wald generates one when absent and echoes it back.
//
// Secrets: nothing here logs headers or metadata; tokens never reach a log line.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace wal::server {

// Sets the default logger's level and format ("text" or "json").
Status ConfigureLogging(const std::string& level, const std::string& format);

// A fresh random request id (16 hex digits).
std::string NewRequestId();
// `offered` if it is a sane id (1..128 printable characters, no quotes), else a new one.
std::string RequestIdFrom(std::string_view offered);

// Makes `id` the request id of log lines on this thread until destroyed.
class RequestIdScope {
 public:
  // Keeps its own copy of `id`, so a temporary is fine.
  explicit RequestIdScope(std::string id);
  ~RequestIdScope();
  RequestIdScope(const RequestIdScope&) = delete;
  RequestIdScope& operator=(const RequestIdScope&) = delete;

 private:
  std::string id_;
  const std::string* previous_;
};

// Sets (or with "" clears) this thread's request id until the next call; for
// front ends whose request spans callbacks (the HTTP gateway).
void SetThreadRequestId(const std::string& id);

// The request id active on this thread ("" when none).
const std::string& CurrentRequestId();

}  // namespace wal::server
