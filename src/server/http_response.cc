#include "server/http_response.h"

#include <google/protobuf/util/json_util.h>

#include <exception>
#include <nlohmann/json.hpp>

#include "server/status_mapping.h"

namespace wal::server {
namespace {

constexpr const char* kFallbackBody =
    R"({"error":{"code":500,"message":"the error could not be encoded","status":"INTERNAL","details":[]}})";
constexpr const char* kTypePrefix = "type.googleapis.com/google.rpc.";

// Ordered: the fields read in the order Google's documentation shows them.
using Json = nlohmann::ordered_json;

// replace: invalid UTF-8 becomes U+FFFD instead of a type_error thrown at the
// caller (with the default, one bad byte in a path took the process down).
std::string Dump(const Json& body) {
  try {
    return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } catch (const std::exception&) {
    return kFallbackBody;
  }
}

bool AsksForRetryAfter(int http_status) { return http_status == 429 || http_status == 503; }

void AddRetryAfter(HttpResponse& response, int seconds) {
  response.headers.emplace_back("Retry-After", std::to_string(seconds));
}

std::string BuildErrorBody(const Status& status, int http_status, const ErrorExtras& extras, int retry_after) {
  Json info = {{"@type", std::string(kTypePrefix) + "ErrorInfo"},
                         {"reason", extras.reason.empty() ? std::string(StatusCodeName(status.code())) : extras.reason},
                         {"domain", "wal"}};
  if (!extras.metadata.empty()) {
    Json metadata = Json::object();
    for (const auto& [key, value] : extras.metadata) metadata[key] = value;
    info["metadata"] = std::move(metadata);
  }
  Json details = Json::array({std::move(info)});
  if (retry_after > 0) {
    details.push_back(
        {{"@type", std::string(kTypePrefix) + "RetryInfo"}, {"retryDelay", std::to_string(retry_after) + "s"}});
  }
  const std::string name = extras.status_name.empty() ? std::string(GrpcCodeName(status.code())) : extras.status_name;
  return Dump({{"error",
                {{"code", http_status},
                 {"message", status.message()},
                 {"status", name},
                 {"details", std::move(details)}}}});
}

}  // namespace

HttpResponse ErrorResponse(const Status& status, int http_status, const ErrorExtras& extras) {
  HttpResponse response;
  response.status = http_status != 0 ? http_status : ToHttpStatus(status);
  int retry_after = 0;
  if (AsksForRetryAfter(response.status)) {
    retry_after = extras.retry_after_seconds > 0 ? extras.retry_after_seconds : kDefaultRetryAfterSeconds;
  }
  try {
    response.body = BuildErrorBody(status, response.status, extras, retry_after);
    if (retry_after > 0) AddRetryAfter(response, retry_after);
    if (!extras.allow.empty()) response.headers.emplace_back("Allow", extras.allow);
  } catch (const std::exception&) {  // std::bad_alloc building the tree
    response.body = kFallbackBody;
  }
  return response;
}

HttpResponse MessageResponse(const google::protobuf::Message& message, int http_status) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  // Clients read fields with jq or a dict lookup; a field left out because it
  // holds its default (an id of 0, a count of 0) reads as null or KeyError.
  options.always_print_primitive_fields = true;
  HttpResponse response;
  auto printed = google::protobuf::util::MessageToJsonString(message, &response.body, options);
  if (!printed.ok()) {
    return ErrorResponse(Internal("the response cannot be printed as JSON: " + std::string(printed.message())));
  }
  response.status = http_status;
  if (AsksForRetryAfter(http_status)) AddRetryAfter(response, kDefaultRetryAfterSeconds);
  return response;
}

HttpResponse RefusalResponse(const Admission& admission) {
  if (!admission.misdirected()) {
    ErrorExtras extras;
    extras.retry_after_seconds = admission.retry_after_seconds;
    return ErrorResponse(admission.status, 0, extras);
  }
  ErrorExtras extras;
  extras.reason = "WRONG_SHARD";
  extras.metadata = {
      {"shard", admission.shard}, {"address", admission.address}, {"http_address", admission.http_address}};
  HttpResponse response = ErrorResponse(admission.status, 421, extras);
  response.headers.emplace_back("Wal-Shard-Address", admission.address);
  return response;
}

HttpResponse TransportErrorResponse(int http_status, size_t max_request_bytes) {
  StatusCode code = StatusCode::kInvalidArgument;
  std::string message = "the request could not be served (HTTP " + std::to_string(http_status) + ")";
  ErrorExtras extras;
  if (http_status == 404) {
    code = StatusCode::kNotFound;
    message = "no route for this request";
  } else if (http_status == 413) {
    const std::string limit = std::to_string(max_request_bytes);
    code = StatusCode::kResourceExhausted;
    message = "the request body is over max_request_bytes (" + limit +
              " bytes); send a smaller request, or raise max_request_bytes in the server config";
    extras.metadata = {{"limit", "max_request_bytes"}, {"max_request_bytes", limit}};
  } else if (http_status == 414) {
    message = "the request URI is over 8 KiB";
  } else if (http_status >= 500) {
    code = StatusCode::kInternal;
  }
  return ErrorResponse(Status(code, std::move(message)), http_status, extras);
}

}  // namespace wal::server
