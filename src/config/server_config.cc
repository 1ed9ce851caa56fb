#include "config/server_config.h"

#include <algorithm>
#include <iterator>
#include <vector>

#include "common/host_port.h"
#include "common/sql_identifier.h"
#include "config/duration.h"
#include "config/object_reader.h"

namespace wal::config {
namespace {

constexpr uint64_t kMiB = 1ull << 20;
constexpr Milliseconds kHour{60 * 60 * 1000};

constexpr std::string_view kRoles[] = {"producer", "consumer", "both"};
constexpr std::string_view kLogLevels[] = {"trace", "debug", "info", "warn", "error"};
constexpr std::string_view kLogFormats[] = {"text", "json"};
constexpr std::string_view kConfigStores[] = {"directory", "postgres"};

template <size_t N>
Status CheckOneOf(std::string_view path, const std::string& value, const std::string_view (&allowed)[N]) {
  if (std::find(std::begin(allowed), std::end(allowed), value) != std::end(allowed)) return Status::Ok();
  return FieldError(path, "must be one of " + JoinAlternatives(std::vector<std::string_view>(std::begin(allowed), std::end(allowed))) +
                              ", got " + Quoted(value));
}

Status WithSource(const Status& status, std::string_view source) {
  return source.empty() ? status : status.WithContext(source);
}

bool IsListenAddress(std::string_view text) { return ParseHostPort(text).has_value(); }

Status DecodeServer(const Json& root, ServerConfig* out) {
  WAL_ASSIGN_OR_RETURN(ObjectReader document, ObjectReader::Open(root, ""));
  WAL_RETURN_IF_ERROR(document.Field("data_dir", &out->data_dir));
  WAL_RETURN_IF_ERROR(document.Field("namespaces_dir", &out->namespaces_dir));
  WAL_RETURN_IF_ERROR(document.Field("grpc_listen", &out->grpc_listen));
  WAL_RETURN_IF_ERROR(document.Field("http_listen", &out->http_listen));
  WAL_RETURN_IF_ERROR(document.Field("role", &out->role));
  WAL_RETURN_IF_ERROR(document.Field("max_request_bytes", &out->max_request_bytes));
  WAL_RETURN_IF_ERROR(document.Field("http_max_connections", &out->http_max_connections));
  WAL_RETURN_IF_ERROR(document.Field("log_level", &out->log_level));
  WAL_RETURN_IF_ERROR(document.Field("region", &out->region));
  WAL_RETURN_IF_ERROR(document.Field("log_format", &out->log_format));
  WAL_RETURN_IF_ERROR(document.Field("shard_map", &out->shard_map));
  WAL_RETURN_IF_ERROR(document.Field("shard", &out->shard));
  {
    WAL_ASSIGN_OR_RETURN(ObjectReader tls, OpenChild(document, "tls"));
    WAL_RETURN_IF_ERROR(tls.Field("cert_file", &out->tls.cert_file));
    WAL_RETURN_IF_ERROR(tls.Field("key_file", &out->tls.key_file));
    WAL_RETURN_IF_ERROR(tls.Field("client_ca_file", &out->tls.client_ca_file));
    WAL_RETURN_IF_ERROR(tls.RejectUnknownFields());
  }
  {
    WAL_ASSIGN_OR_RETURN(ObjectReader auth, OpenChild(document, "auth"));
    WAL_RETURN_IF_ERROR(auth.Field("tokens_file", &out->auth.tokens_file));
    WAL_RETURN_IF_ERROR(auth.RejectUnknownFields());
  }
  {
    WAL_ASSIGN_OR_RETURN(ObjectReader store, OpenChild(document, "config_store"));
    WAL_RETURN_IF_ERROR(store.Field("type", &out->config_store.type));
    WAL_RETURN_IF_ERROR(store.Field("poll_interval", &out->config_store.poll_interval));
    WAL_RETURN_IF_ERROR(store.Field("dsn", &out->config_store.dsn));
    WAL_RETURN_IF_ERROR(store.Field("table", &out->config_store.table));
    WAL_RETURN_IF_ERROR(store.RejectUnknownFields());
  }
  return document.RejectUnknownFields();
}

Json EncodeServer(const ServerConfig& config) {
  Json root = Json::object();
  root["data_dir"] = config.data_dir;
  root["namespaces_dir"] = config.namespaces_dir;
  root["grpc_listen"] = config.grpc_listen;
  root["http_listen"] = config.http_listen;
  root["role"] = config.role;
  root["max_request_bytes"] = config.max_request_bytes;
  root["http_max_connections"] = config.http_max_connections;
  root["log_level"] = config.log_level;
  if (!config.region.empty()) root["region"] = config.region;
  if (config.log_format != "text") root["log_format"] = config.log_format;
  if (!config.shard_map.empty()) root["shard_map"] = config.shard_map;
  if (!config.shard.empty()) root["shard"] = config.shard;
  if (config.tls != TlsConfig()) {
    root["tls"] = {{"cert_file", config.tls.cert_file}, {"key_file", config.tls.key_file},
                   {"client_ca_file", config.tls.client_ca_file}};
  }
  if (!config.auth.tokens_file.empty()) root["auth"] = {{"tokens_file", config.auth.tokens_file}};
  if (config.config_store != ConfigStoreConfig()) {
    root["config_store"] = {{"type", config.config_store.type},
                            {"poll_interval", FormatDuration(config.config_store.poll_interval)}};
    if (!config.config_store.dsn.empty()) root["config_store"]["dsn"] = config.config_store.dsn;
    if (config.config_store.table != ConfigStoreConfig().table) root["config_store"]["table"] = config.config_store.table;
  }
  return root;
}

}  // namespace

Status ValidateServerConfig(const ServerConfig& config) {
  if (config.data_dir.empty()) return FieldError("data_dir", "must not be empty");
  if (config.namespaces_dir.empty()) return FieldError("namespaces_dir", "must not be empty");
  if (!IsListenAddress(config.grpc_listen)) {
    return FieldError("grpc_listen", "must be host:port, got " + Quoted(config.grpc_listen));
  }
  // An empty http_listen turns the HTTP endpoint off.
  if (!config.http_listen.empty() && !IsListenAddress(config.http_listen)) {
    return FieldError("http_listen", "must be host:port or empty, got " + Quoted(config.http_listen));
  }
  WAL_RETURN_IF_ERROR(CheckOneOf("role", config.role, kRoles));
  WAL_RETURN_IF_ERROR(CheckRange<uint64_t>("max_request_bytes", config.max_request_bytes, 1024, 1024 * kMiB));
  // Each connection is a thread: past a few thousand the stacks alone cost GiBs.
  WAL_RETURN_IF_ERROR(CheckRange<uint64_t>("http_max_connections", config.http_max_connections, 1, 4096));
  WAL_RETURN_IF_ERROR(CheckOneOf("log_format", config.log_format, kLogFormats));
  if (!config.shard_map.empty() && config.shard.empty()) {
    return FieldError("shard", "is required with shard_map: it names this instance's shard in the map");
  }
  if (!config.shard.empty() && config.shard_map.empty() && config.config_store.type != "postgres") {
    return FieldError("shard_map", "is required with shard (a shard map file), unless config_store.type is postgres "
                                   "(the map is then kept in the config store)");
  }
  const TlsConfig& tls = config.tls;
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return FieldError(tls.cert_file.empty() ? "tls.cert_file" : "tls.key_file", "tls.cert_file and tls.key_file must be set together");
  }
  if (!tls.client_ca_file.empty() && tls.cert_file.empty()) {
    return FieldError("tls.client_ca_file", "needs tls.cert_file and tls.key_file (mTLS is TLS plus client certificates)");
  }
  WAL_RETURN_IF_ERROR(CheckOneOf("config_store.type", config.config_store.type, kConfigStores));
  WAL_RETURN_IF_ERROR(
      CheckDurationRange("config_store.poll_interval", config.config_store.poll_interval, Milliseconds(0), kHour));
  const ConfigStoreConfig& store = config.config_store;
  if (store.type == "postgres" && store.dsn.empty()) {
    return FieldError("config_store.dsn", "is required when config_store.type is postgres");
  }
  if (store.type != "postgres" && !store.dsn.empty()) {
    return FieldError("config_store.dsn", "is only used when config_store.type is postgres");
  }
  // Config tables get suffixes appended ("_shard_map_changed").
  if (!IsSqlIdentifier(store.table, 48)) {
    return FieldError("config_store.table", "must match [A-Za-z_][A-Za-z0-9_]{0,47}, got " + Quoted(store.table));
  }
  return CheckOneOf("log_level", config.log_level, kLogLevels);
}

Result<ServerConfig> ParseServerConfig(std::string_view text, Format format, std::string_view source) try {
  auto tree = ParseTree(text, format);
  if (!tree.ok()) return WithSource(tree.status(), source);
  ServerConfig config;
  Status status = DecodeServer(tree.value(), &config);
  if (status.ok()) status = ValidateServerConfig(config);
  if (!status.ok()) return WithSource(status, source);
  return config;
} catch (const std::exception& error) {
  return WithSource(Internal(std::string("unexpected error: ") + error.what()), source);
}

std::string SaveServerConfig(const ServerConfig& config, Format format) {
  return RenderTree(EncodeServer(config), format);
}

}  // namespace wal::config
