#include "server/http_decode.h"

#include <google/protobuf/util/json_util.h>

#include <charconv>
#include <optional>

#include "common/utf8.h"
#include "server/write_limits.h"

namespace wal::server {
namespace {

constexpr uint64_t kMaxListLimit = 10000;

// What a path names, before the method is looked at.
enum class Resource {
  kUnknown,
  kHealth,
  kReady,
  kMetrics,
  kNamespaces,
  kNamespace,
  kWrite,
  kWriteBatch,
  kLog,
  kDeadLetters,
  kRedrive,
  kPurge,
  kStatus,
  kShardMap,
};

struct Target {
  Resource resource = Resource::kUnknown;
  std::string_view name;  // the {name} segment of namespaced paths
};

// Plain string comparisons rather than std::regex: libstdc++'s regex recurses
// once per input character, so a long enough path would overflow the stack.
Target TargetOf(std::string_view path) {
  if (path == "/healthz") return {Resource::kHealth, {}};
  if (path == "/readyz") return {Resource::kReady, {}};
  if (path == "/metrics") return {Resource::kMetrics, {}};
  if (path == "/v1/namespaces") return {Resource::kNamespaces, {}};
  if (path == "/v1/status") return {Resource::kStatus, {}};
  if (path == "/v1/shard-map") return {Resource::kShardMap, {}};
  if (path == "/v1/log:writeBatch") return {Resource::kWriteBatch, {}};
  constexpr std::string_view kPrefix = "/v1/namespaces/";
  if (!path.starts_with(kPrefix)) return {};
  std::string_view rest = path.substr(kPrefix.size());
  const size_t slash = rest.find('/');
  const std::string_view name = rest.substr(0, slash);
  // Namespace names never hold ':' (config: [a-z0-9][a-z0-9_.-]*); in a path
  // it would be a custom verb on a resource that has none.
  if (name.empty() || name.find(':') != std::string_view::npos) return {};
  if (slash == std::string_view::npos) return {Resource::kNamespace, name};
  const std::string_view tail = rest.substr(slash);
  if (tail == "/log:write") return {Resource::kWrite, name};
  if (tail == "/log") return {Resource::kLog, name};
  if (tail == "/dlq") return {Resource::kDeadLetters, name};
  if (tail == "/dlq:redrive") return {Resource::kRedrive, name};
  if (tail == "/dlq:purge") return {Resource::kPurge, name};
  return {};
}

HttpError Error(int http_status, Status status) { return HttpError{http_status, std::move(status), {}}; }

// The methods Decode serves on `resource`, for a 405's Allow header.
std::string_view AllowedMethods(Resource resource) {
  switch (resource) {
    case Resource::kUnknown: return "";
    case Resource::kNamespace: return "GET, HEAD, PUT, DELETE";
    case Resource::kShardMap: return "GET, HEAD, PUT";
    case Resource::kWrite:
    case Resource::kWriteBatch:
    case Resource::kRedrive:
    case Resource::kPurge: return "POST";
    case Resource::kHealth:
    case Resource::kReady:
    case Resource::kMetrics:
    case Resource::kNamespaces:
    case Resource::kStatus:
    case Resource::kLog:
    case Resource::kDeadLetters: return "GET, HEAD";
  }
  return "";
}

// The one value of query parameter `name`; nullopt when absent. Given twice it
// is ambiguous, so it is refused rather than one of the two silently winning.
Result<std::optional<std::string_view>> QueryValue(const HttpRequest& request, std::string_view name) {
  std::optional<std::string_view> found;
  for (const auto& [key, value] : request.query) {
    if (key != name) continue;
    if (found) return InvalidArgument("query parameter " + std::string(name) + ": given more than once");
    if (!IsValidUtf8(value)) return InvalidArgument("query parameter " + std::string(name) + ": not valid UTF-8");
    found = value;
  }
  return found;
}

Result<uint64_t> UnsignedQueryValue(const HttpRequest& request, std::string_view name, uint64_t fallback) {
  WAL_ASSIGN_OR_RETURN(std::optional<std::string_view> text, QueryValue(request, name));
  if (!text) return fallback;
  uint64_t value = 0;
  const char* end = text->data() + text->size();
  auto [ptr, error] = std::from_chars(text->data(), end, value);
  if (text->empty() || error != std::errc() || ptr != end) {
    return InvalidArgument("query parameter " + std::string(name) + ": not an unsigned 64-bit integer: '" +
                           std::string(*text) + "'");
  }
  return value;
}

Status ParseJsonBody(const std::string& body, google::protobuf::Message* message) {
  if (body.empty()) return InvalidArgument("request body: a JSON object is required");
  if (!IsValidUtf8(body)) return InvalidArgument("request body: not valid UTF-8 (JSON text must be UTF-8)");
  auto parsed = google::protobuf::util::JsonStringToMessage(body, message);
  if (!parsed.ok()) return InvalidArgument("request body: " + std::string(parsed.message()));
  return Status::Ok();
}

// The from/limit pair of the list routes; limit 0 means the default.
template <typename ListRequest>
Status FillRange(const HttpRequest& request, ListRequest* list) {
  // `from_id` is the field's name, which the protos' HTTP annotations (and so
  // a transcoding proxy) use; `from` is the short form.
  WAL_ASSIGN_OR_RETURN(std::optional<std::string_view> short_from, QueryValue(request, "from"));
  WAL_ASSIGN_OR_RETURN(std::optional<std::string_view> long_from, QueryValue(request, "from_id"));
  if (short_from && long_from) return InvalidArgument("query parameters from and from_id: give one, not both");
  WAL_ASSIGN_OR_RETURN(uint64_t from, UnsignedQueryValue(request, long_from ? "from_id" : "from", 0));
  WAL_ASSIGN_OR_RETURN(uint64_t limit, UnsignedQueryValue(request, "limit", 0));
  if (limit > kMaxListLimit) return InvalidArgument("query parameter limit: at most " + std::to_string(kMaxListLimit));
  list->set_from_id(from);
  list->set_limit(static_cast<uint32_t>(limit));
  return Status::Ok();
}

// The optional {"ids": [...]} body of redrive and purge; a namespace in it must be the path's.
template <typename IdsRequest>
Status FillIds(const HttpRequest& request, const std::string& name, IdsRequest* ids) {
  if (!request.body.empty()) WAL_RETURN_IF_ERROR(ParseJsonBody(request.body, ids));
  if (!ids->namespace_().empty() && ids->namespace_() != name) {
    return InvalidArgument("namespace: body says '" + ids->namespace_() + "' but the path says '" + name + "'");
  }
  ids->set_namespace_(name);
  return Status::Ok();
}

HttpDecoded DecodeWrite(const HttpRequest& request, HttpCall call) {
  v1::WriteToLogRequest write;
  Status status = ParseJsonBody(request.body, &write);
  if (status.ok() && !write.namespace_().empty() && write.namespace_() != call.name) {
    status = InvalidArgument("namespace: body says '" + write.namespace_() + "' but the path says '" + call.name + "'");
  }
  write.set_namespace_(call.name);
  call.message = std::move(write);
  call.invalid = std::move(status);
  return call;
}

bool IsNdjson(const HttpRequest& request) {
  std::string_view type = HeaderValue(request, "Content-Type");
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  return type == "application/x-ndjson" || type == "application/jsonl" || type == "application/json-seq";
}

// A batch: {"writes": [...]} as JSON, or one WriteToLogRequest per line as
// NDJSON (blank lines skipped; a bad line is named by its number).
Status FillBatch(const HttpRequest& request, bool ndjson, v1::WriteToLogBatchRequest* batch) {
  if (!ndjson) return ParseJsonBody(request.body, batch);
  if (!IsValidUtf8(request.body)) return InvalidArgument("request body: not valid UTF-8 (JSON text must be UTF-8)");
  std::string_view rest = request.body;
  size_t line_number = 0;
  while (!rest.empty()) {
    const size_t end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    if (static_cast<size_t>(batch->writes_size()) >= kMaxBatchWrites) {
      return InvalidArgument("request body: more than " + std::to_string(kMaxBatchWrites) + " writes in one batch");
    }
    auto parsed = google::protobuf::util::JsonStringToMessage(std::string(line), batch->add_writes());
    if (!parsed.ok()) {
      return InvalidArgument("request body, line " + std::to_string(line_number) + ": " + std::string(parsed.message()));
    }
  }
  return Status::Ok();
}

// A true/false query parameter; absent is false.
Result<bool> BoolQueryValue(const HttpRequest& request, const char* parameter) {
  WAL_ASSIGN_OR_RETURN(std::optional<std::string_view> text, QueryValue(request, parameter));
  if (!text || *text == "false") return false;
  if (*text == "true") return true;
  return InvalidArgument(std::string("query parameter ") + parameter + ": must be true or false, got '" +
                         std::string(*text) + "'");
}

Status FillApplyNamespace(const HttpRequest& request, const std::string& name, v1::ApplyNamespaceRequest* apply) {
  apply->set_name(name);
  WAL_ASSIGN_OR_RETURN(bool validate_only, BoolQueryValue(request, "validate_only"));
  apply->set_validate_only(validate_only);
  WAL_RETURN_IF_ERROR(ParseJsonBody(request.body, apply->mutable_config()));
  auto& fields = *apply->mutable_config()->mutable_fields();
  auto found = fields.find("name");
  if (found == fields.end()) {
    fields["name"].set_string_value(name);
    return Status::Ok();
  }
  if (found->second.kind_case() != google::protobuf::Value::kStringValue) return InvalidArgument("name: must be a string");
  if (found->second.string_value() != name) {
    return InvalidArgument("name: body says '" + found->second.string_value() + "' but the path says '" + name + "'");
  }
  return Status::Ok();
}

// The body is the shard map document itself. A JSON string is taken as the
// document it holds: that is how the HTTP annotation (body: "map") sends it
// through a transcoding proxy, and no shard map is a bare string.
Status FillShardMap(const HttpRequest& request, v1::ApplyShardMapRequest* apply) {
  if (!IsValidUtf8(request.body)) return InvalidArgument("request body: the shard map is not valid UTF-8");
  const size_t start = request.body.find_first_not_of(" \t\r\n");
  if (start != std::string::npos && request.body[start] == '"') {
    google::protobuf::Value value;
    auto parsed = google::protobuf::util::JsonStringToMessage(request.body, &value);
    if (!parsed.ok() || value.kind_case() != google::protobuf::Value::kStringValue) {
      return InvalidArgument("request body: a quoted shard map must be one JSON string");
    }
    apply->set_map(value.string_value());
    return Status::Ok();
  }
  apply->set_map(request.body);
  return Status::Ok();
}


// The call with its message, which `fill` fills in from the request; what it
// returns is the call's `invalid`.
template <typename Message, typename Fill>
HttpDecoded WithMessage(HttpCall call, Fill&& fill) {
  Message message;
  call.invalid = fill(&message);
  call.message = std::move(message);
  return call;
}

HttpDecoded Decode(const HttpRequest& request, const Target& target, std::string_view method) {
  const bool get = method == "GET" || method == "HEAD";
  HttpCall call;
  call.authorization = std::string(HeaderValue(request, "Authorization"));
  // The lambdas below read `name`, not `call.name`: `call` is moved into WithMessage.
  std::string name(target.name);
  call.name = name;
  auto route = [&](HttpRoute chosen, bool gated, Scope scope) {
    call.route = chosen;
    call.gated = gated;
    call.scope = scope;
  };
  switch (target.resource) {
    case Resource::kUnknown:
      break;
    case Resource::kHealth:
      if (!get) break;
      route(HttpRoute::kHealth, false, Scope::kRead);
      return call;
    case Resource::kReady:
      if (!get) break;
      route(HttpRoute::kReady, false, Scope::kRead);
      return call;
    case Resource::kMetrics:
      if (!get) break;
      route(HttpRoute::kMetrics, false, Scope::kRead);
      return call;
    case Resource::kNamespaces:
      if (!get) break;
      route(HttpRoute::kListNamespaces, true, Scope::kRead);
      return call;
    case Resource::kStatus: {
      if (!get) break;
      auto named = QueryValue(request, "namespace");
      if (named.ok()) name = std::string(named->value_or(""));
      call.name = name;
      route(HttpRoute::kGetStatus, true, Scope::kRead);
      return WithMessage<v1::GetStatusRequest>(std::move(call), [&](v1::GetStatusRequest* get_status) {
        get_status->set_namespace_(name);
        return named.ok() ? Status::Ok() : named.status();
      });
    }
    case Resource::kShardMap:
      if (get) {
        route(HttpRoute::kGetShardMap, true, Scope::kRead);
        return call;
      }
      if (method != "PUT") break;
      route(HttpRoute::kApplyShardMap, true, Scope::kAdmin);
      return WithMessage<v1::ApplyShardMapRequest>(std::move(call), [&](v1::ApplyShardMapRequest* apply) {
        return FillShardMap(request, apply);
      });
    case Resource::kNamespace:
      if (get) {
        route(HttpRoute::kGetNamespace, true, Scope::kRead);
        return WithMessage<v1::GetNamespaceRequest>(std::move(call), [&](v1::GetNamespaceRequest* get_namespace) {
          get_namespace->set_name(name);
          return Status::Ok();
        });
      }
      if (method == "PUT") {
        route(HttpRoute::kApplyNamespace, true, Scope::kAdmin);
        return WithMessage<v1::ApplyNamespaceRequest>(std::move(call), [&](v1::ApplyNamespaceRequest* apply) {
          return FillApplyNamespace(request, name, apply);
        });
      }
      if (method == "DELETE") {
        route(HttpRoute::kDeleteNamespace, true, Scope::kAdmin);
        return WithMessage<v1::DeleteNamespaceRequest>(std::move(call), [&](v1::DeleteNamespaceRequest* remove) {
          WAL_ASSIGN_OR_RETURN(bool purge, BoolQueryValue(request, "purge_data"));
          remove->set_name(name);
          remove->set_purge_data(purge);
          return Status::Ok();
        });
      }
      break;
    case Resource::kWrite:
      if (method != "POST") break;
      route(HttpRoute::kWrite, false, Scope::kWrite);
      return DecodeWrite(request, std::move(call));
    case Resource::kWriteBatch: {
      if (method != "POST") break;
      route(HttpRoute::kWriteBatch, false, Scope::kWrite);
      call.ndjson = IsNdjson(request);
      const bool ndjson = call.ndjson;
      return WithMessage<v1::WriteToLogBatchRequest>(std::move(call), [&](v1::WriteToLogBatchRequest* batch) {
        return FillBatch(request, ndjson, batch);
      });
    }
    case Resource::kLog:
      if (!get) break;
      route(HttpRoute::kReadLog, true, Scope::kRead);
      return WithMessage<v1::ReadLogRequest>(std::move(call), [&](v1::ReadLogRequest* read) {
        read->set_namespace_(name);
        return FillRange(request, read);
      });
    case Resource::kDeadLetters:
      if (!get) break;
      route(HttpRoute::kListDeadLetters, true, Scope::kRead);
      return WithMessage<v1::ListDeadLettersRequest>(std::move(call), [&](v1::ListDeadLettersRequest* list) {
        list->set_namespace_(name);
        return FillRange(request, list);
      });
    case Resource::kRedrive:
      if (method != "POST") break;
      route(HttpRoute::kRedriveDeadLetters, true, Scope::kAdmin);
      return WithMessage<v1::RedriveDeadLettersRequest>(std::move(call), [&](v1::RedriveDeadLettersRequest* redrive) {
        return FillIds(request, name, redrive);
      });
    case Resource::kPurge:
      if (method != "POST") break;
      route(HttpRoute::kPurgeDeadLetters, true, Scope::kAdmin);
      return WithMessage<v1::PurgeDeadLettersRequest>(std::move(call), [&](v1::PurgeDeadLettersRequest* purge) {
        return FillIds(request, name, purge);
      });
  }
  if (target.resource == Resource::kUnknown) {
    return Error(404, NotFound("no route for " + std::string(method) + " " + request.path));
  }
  const std::string allow(AllowedMethods(target.resource));
  HttpError refused = Error(405, InvalidArgument("method " + std::string(method) + " is not allowed on " +
                                                 request.path + "; it accepts " + allow));
  refused.allow = allow;
  return refused;
}

}  // namespace

std::string_view HeaderValue(const HttpRequest& request, std::string_view name) {
  auto same = [](std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
      if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
  };
  for (const auto& [key, value] : request.headers) {
    if (same(key, name)) return value;
  }
  return {};
}

HttpDecoded DecodeHttpRequest(const HttpRequest& request) {
  // HTTP/1.1 methods are case-sensitive tokens; httplib passes others through.
  const std::string_view method = request.method;
  const Target target = TargetOf(request.path);
  if (!IsValidUtf8(request.path)) {
    // The path (percent-decoded) is echoed in errors and its name segment
    // becomes a proto string field; both must be UTF-8.
    return Error(400, InvalidArgument("the request path is not valid UTF-8"));
  }
  return Decode(request, target, method);
}

}  // namespace wal::server
