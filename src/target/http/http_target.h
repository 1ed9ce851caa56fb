// An HTTP(S) webhook target, via libcurl.
//
// Settings (http_config.h): `url` (required http:// or https://), `headers`
// (map of extra request headers, e.g. Authorization), `timeout` (duration for
// the whole request; default 5s), `method` (POST or PUT; default POST).
//
// Opaque payloads are sent as the body as-is (Content-Type
// application/octet-stream). Mutations are sent as JSON (application/json):
//   {"op":"PUT"|"DELETE","table":..,"partition_key":..,"key":<base64>,
//    "value":<base64, PUT only>,"ttl_ms":<PUT only, 0 = none>}
// A Content-Type in `headers` replaces either default. Every request carries
// X-Wal-Namespace, X-Wal-Entry-Id, X-Wal-Attempt and, when the write had one,
// Idempotency-Key (bytes outside printable ASCII, and '%', percent-encoded).
//
// Outcome: 2xx -> ok; 408, 429, 5xx, network errors and timeouts ->
// retryable; any other status -> permanent (redirects are not followed). The
// reason names the status and a short excerpt of the response body.
//
// Secrets: header values and the URL's query and user info are never logged
// or put in a reason.
//
// Threading: a pool of curl handles (each keeps its connections alive);
// every method is thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "target/http/http_config.h"
#include "target/target.h"

namespace wal::target {

class HttpTarget final : public Target {
 public:
  struct Options : HttpTargetConfig {
    size_t max_idle_handles = 8;
  };

  // The settings must have passed HttpTargetConfig::Validate (decoding does
  // that); nothing here checks them again.
  static Result<std::unique_ptr<HttpTarget>> Create(Options options);
  // Decodes and validates settings JSON (see the file comment), then Create.
  static Result<std::unique_ptr<HttpTarget>> FromSettings(std::string_view settings_json);
  // The module: type `http`, HttpTargetConfig, Create. Registered in src/modules/.
  static TargetModule Module();

  ~HttpTarget() override;

  ApplyResult ApplyMutation(const v1::Mutation& mutation, const DeliveryContext& context) override;
  ApplyResult DeliverOpaque(std::string_view payload, const DeliveryContext& context) override;
  Status ValidatePayload(const v1::Payload& payload) const override;
  Status Probe() override;

  // The JSON body sent for `mutation` (exposed for tests and docs).
  static std::string MutationJson(const v1::Mutation& mutation);
  // How an HTTP status is treated.
  static ApplyOutcome OutcomeForStatus(long status);

 private:
  class HandlePool;

  HttpTarget(Options options, std::string loggable_url);
  ApplyResult Send(std::string_view body, std::string_view default_content_type, const DeliveryContext& context);

  const Options options_;
  // The URL without user info or query, for reasons and logs.
  const std::string loggable_url_;
  bool has_content_type_header_ = false;
  std::unique_ptr<HandlePool> handles_;
};

}  // namespace wal::target
