#include "target/http/http_target.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "target/mutation_util.h"
#include "target/target_settings.h"

namespace wal::target {
namespace {

// How much of a response body is kept for the failure reason.
constexpr size_t kBodyExcerptBytes = 200;
// Probe only checks that the server accepts connections; it should not hang
// config validation for the full request timeout.
constexpr std::chrono::milliseconds kMaxProbeTimeout{2000};

constexpr std::string_view kNamespaceHeader = HttpTargetConfig::kNamespaceHeader;
constexpr std::string_view kEntryIdHeader = HttpTargetConfig::kEntryIdHeader;
constexpr std::string_view kAttemptHeader = HttpTargetConfig::kAttemptHeader;
constexpr std::string_view kIdempotencyKeyHeader = HttpTargetConfig::kIdempotencyKeyHeader;

std::string PercentEncodeUnprintable(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    unsigned char byte = static_cast<unsigned char>(c);
    if (byte > 0x20 && byte < 0x7f && c != '%') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xf]);
    }
  }
  return out;
}


size_t KeepBodyExcerpt(char* data, size_t size, size_t count, void* user_data) {
  auto* excerpt = static_cast<std::string*>(user_data);
  size_t bytes = size * count;
  if (excerpt->size() < kBodyExcerptBytes) {
    excerpt->append(data, std::min(bytes, kBodyExcerptBytes + 1 - excerpt->size()));
  }
  return bytes;  // the rest is read and dropped, so the connection stays reusable
}

void InitializeCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

}  // namespace

// Reused easy handles: each keeps its own connection cache, so a worker's
// next request to the same host skips the TCP and TLS handshakes.
class HttpTarget::HandlePool {
 public:
  explicit HandlePool(size_t max_idle) : max_idle_(max_idle) {}
  ~HandlePool() {
    for (CURL* handle : idle_) curl_easy_cleanup(handle);
  }

  CURL* Acquire() {
    {
      std::lock_guard lock(mutex_);
      if (!idle_.empty()) {
        CURL* handle = idle_.back();
        idle_.pop_back();
        return handle;
      }
    }
    return curl_easy_init();
  }

  void Release(CURL* handle) {
    curl_easy_reset(handle);  // drops options, keeps live connections
    {
      std::lock_guard lock(mutex_);
      if (idle_.size() < max_idle_) {
        idle_.push_back(handle);
        return;
      }
    }
    curl_easy_cleanup(handle);
  }

 private:
  std::mutex mutex_;
  const size_t max_idle_;
  std::vector<CURL*> idle_;
};

Result<std::unique_ptr<HttpTarget>> HttpTarget::Create(Options options) {
  InitializeCurlOnce();
  WAL_ASSIGN_OR_RETURN(std::string loggable_url, LoggableUrl(options.url, "target.url"));
  std::transform(options.method.begin(), options.method.end(), options.method.begin(),
                 [](char c) { return static_cast<char>(std::toupper(static_cast<unsigned char>(c))); });
  if (options.max_idle_handles == 0) options.max_idle_handles = 1;
  return std::unique_ptr<HttpTarget>(new HttpTarget(std::move(options), std::move(loggable_url)));
}

Result<std::unique_ptr<HttpTarget>> HttpTarget::FromSettings(std::string_view settings_json) {
  return CreateFromSettingsJson<HttpTarget, HttpTargetConfig>(settings_json);
}

TargetModule HttpTarget::Module() {
  return TargetModuleOf<HttpTargetConfig>([](const HttpTargetConfig& settings, const TargetEnvironment&) {
    return Create(OptionsWith<Options>(settings));
  });
}

HttpTarget::HttpTarget(Options options, std::string loggable_url)
    : options_(std::move(options)),
      loggable_url_(std::move(loggable_url)),
      handles_(std::make_unique<HandlePool>(options_.max_idle_handles)) {
  for (const auto& [name, value] : options_.headers) {
    if (config::EqualsIgnoringCase(name, "Content-Type")) has_content_type_header_ = true;
  }
}

HttpTarget::~HttpTarget() = default;

std::string HttpTarget::MutationJson(const v1::Mutation& mutation) {
  nlohmann::ordered_json body;
  body["op"] = std::string(OperationName(mutation.op()));
  body["table"] = mutation.table();
  body["partition_key"] = mutation.partition_key();
  body["key"] = Base64Encode(mutation.key());
  if (mutation.op() == v1::Mutation::PUT) {
    body["value"] = Base64Encode(mutation.value());
    body["ttl_ms"] = std::max<int64_t>(TtlMillis(mutation), 0);
  }
  // `replace`: a non-UTF-8 table name must not make dump() throw.
  return body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

ApplyOutcome HttpTarget::OutcomeForStatus(long status) {
  if (status >= 200 && status < 300) return ApplyOutcome::kOk;
  if (status == 408 || status == 429 || (status >= 500 && status < 600)) return ApplyOutcome::kRetryable;
  return ApplyOutcome::kPermanent;
}

ApplyResult HttpTarget::ApplyMutation(const v1::Mutation& mutation, const DeliveryContext& context) {
  if (Status valid = ValidateMutationBasics(mutation, "mutation"); !valid.ok()) {
    return ApplyResult::Permanent(valid.message());
  }
  return Send(MutationJson(mutation), "application/json", context);
}

ApplyResult HttpTarget::DeliverOpaque(std::string_view payload, const DeliveryContext& context) {
  return Send(payload, "application/octet-stream", context);
}

Status HttpTarget::ValidatePayload(const v1::Payload& payload) const {
  return ForEachMutation(payload, [](const v1::Mutation& mutation, const std::string& field) {
    return ValidateMutationBasics(mutation, field);
  });
}

ApplyResult HttpTarget::Send(std::string_view body, std::string_view default_content_type,
                             const DeliveryContext& context) {
  CURL* handle = handles_->Acquire();
  if (handle == nullptr) return ApplyResult::Retryable("http: out of memory creating a curl handle");

  std::unique_ptr<curl_slist, SlistDeleter> headers;
  auto add_header = [&](std::string_view name, std::string_view value) {
    std::string line = std::string(name) + ": " + std::string(value);
    headers.reset(curl_slist_append(headers.release(), line.c_str()));
  };
  for (const auto& [name, value] : options_.headers) add_header(name, value);
  if (!has_content_type_header_) add_header("Content-Type", default_content_type);
  add_header(kNamespaceHeader, PercentEncodeUnprintable(context.namespace_name));
  add_header(kEntryIdHeader, std::to_string(context.entry_id));
  add_header(kAttemptHeader, std::to_string(context.attempt));
  if (!context.idempotency_key.empty()) add_header(kIdempotencyKeyHeader, PercentEncodeUnprintable(context.idempotency_key));
  // curl would send "Expect: 100-continue" for larger bodies and wait for a
  // server that may never answer it; send the body straight away.
  headers.reset(curl_slist_append(headers.release(), "Expect:"));

  std::string response_excerpt;
  curl_easy_setopt(handle, CURLOPT_URL, options_.url.c_str());
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(handle, CURLOPT_POST, 1L);
  if (options_.method == "PUT") curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, "PUT");
  curl_easy_setopt(handle, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);  // signals and threads do not mix
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, &KeepBodyExcerpt);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &response_excerpt);

  CURLcode code = curl_easy_perform(handle);
  long status = 0;
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
  handles_->Release(handle);

  const std::string request = "http " + options_.method + " " + loggable_url_;
  if (code != CURLE_OK) {
    // Connection refused or reset, DNS, TLS, timeouts: the endpoint may
    // recover. The URL was validated at creation, so none of these is the
    // payload's fault.
    return ApplyResult::Retryable(request + ": " + curl_easy_strerror(code));
  }
  switch (OutcomeForStatus(status)) {
    case ApplyOutcome::kOk:
      return ApplyResult::Ok();
    case ApplyOutcome::kRetryable:
      return ApplyResult::Retryable(request + ": status " + std::to_string(status) + ": " +
                                    Excerpt(response_excerpt, kBodyExcerptBytes));
    case ApplyOutcome::kPermanent:
      break;
  }
  return ApplyResult::Permanent(request + ": status " + std::to_string(status) +
                                (status >= 300 && status < 400 ? " (redirects are not followed)" : "") + ": " +
                                Excerpt(response_excerpt, kBodyExcerptBytes));
}

Status HttpTarget::Probe() {
  CURL* handle = handles_->Acquire();
  if (handle == nullptr) return Unavailable("http: out of memory creating a curl handle");
  // CONNECT_ONLY stops after the TCP (and TLS) handshake: a HEAD could be
  // refused by an endpoint that only takes POST, which says nothing about
  // whether deliveries can work.
  curl_easy_setopt(handle, CURLOPT_URL, options_.url.c_str());
  curl_easy_setopt(handle, CURLOPT_CONNECT_ONLY, 1L);
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min(options_.timeout, kMaxProbeTimeout).count()));
  CURLcode code = curl_easy_perform(handle);
  // A connect-only handle holds its connection outside the shared cache;
  // discard it rather than return it to the pool.
  curl_easy_cleanup(handle);
  if (code != CURLE_OK) {
    return Unavailable("http target " + loggable_url_ + " is unavailable: " + curl_easy_strerror(code));
  }
  return Status::Ok();
}

}  // namespace wal::target
