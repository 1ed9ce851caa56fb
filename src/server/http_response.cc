#include "server/http_response.h"

#include <google/protobuf/util/json_util.h>

#include <exception>
#include <nlohmann/json.hpp>

#include "server/status_mapping.h"

namespace wal::server {
namespace {

constexpr const char* kFallbackBody = R"({"code":"INTERNAL","message":"the error could not be encoded"})";

// replace: invalid UTF-8 becomes U+FFFD instead of a type_error thrown at the
// caller (with the default, one bad byte in a path took the process down).
std::string Dump(const nlohmann::json& body) {
  try {
    return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } catch (const std::exception&) {
    return kFallbackBody;
  }
}

}  // namespace

HttpResponse ErrorResponse(const Status& status, int http_status) {
  HttpResponse response;
  response.status = http_status != 0 ? http_status : ToHttpStatus(status);
  try {
    response.body = Dump({{"code", std::string(StatusCodeName(status.code()))}, {"message", status.message()}});
  } catch (const std::exception&) {  // std::bad_alloc building the tree
    response.body = kFallbackBody;
  }
  return response;
}

HttpResponse MessageResponse(const google::protobuf::Message& message, int http_status) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  HttpResponse response;
  auto printed = google::protobuf::util::MessageToJsonString(message, &response.body, options);
  if (!printed.ok()) return ErrorResponse(Internal("the response cannot be printed as JSON: " + std::string(printed.message())));
  response.status = http_status;
  return response;
}

HttpResponse RefusalResponse(const Admission& admission) {
  if (!admission.misdirected()) return ErrorResponse(admission.status);
  HttpResponse response;
  response.status = 421;
  try {
    response.body = Dump({{"code", std::string(StatusCodeName(admission.status.code()))},
                          {"message", admission.status.message()},
                          {"shard", admission.shard},
                          {"address", admission.address},
                          {"http_address", admission.http_address}});
  } catch (const std::exception&) {
    response.body = kFallbackBody;
  }
  response.headers.emplace_back("Wal-Shard-Address", admission.address);
  return response;
}

std::string TransportErrorBody(int http_status) {
  StatusCode code = StatusCode::kInvalidArgument;
  std::string message = "the request could not be served (HTTP " + std::to_string(http_status) + ")";
  if (http_status == 404) {
    code = StatusCode::kNotFound;
    message = "no route for this request";
  } else if (http_status == 413) {
    code = StatusCode::kResourceExhausted;
    message = "the request is larger than max_request_bytes (HTTP 413)";
  } else if (http_status >= 500) {
    code = StatusCode::kInternal;
  }
  return ErrorResponse(Status(code, std::move(message)), http_status).body;
}

}  // namespace wal::server
