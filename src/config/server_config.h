// The server config (wald --config server.yaml): where data lives, where to
// listen, TLS, auth, sharding and the namespace config store.
//
// Failure: ParseServerConfig returns a Status naming the source, the field path
// and the reason; unknown fields are errors. Nothing throws.
//
// Threading: pure functions over values; call them from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "config/yaml_json.h"

namespace wal::config {

// TLS for both the gRPC and the HTTP endpoint. Empty cert_file: plaintext.
struct TlsConfig {
  std::string cert_file;                       // PEM certificate chain
  std::string key_file;                        // PEM private key
  std::string client_ca_file;                  // set: clients must present a certificate it signed (mTLS)
  bool operator==(const TlsConfig&) const = default;
};

struct AuthConfig {
  // A YAML/JSON file {tokens: [{name, sha256, scopes, namespaces: [name|"*"]}]}.
  // Set: every API call needs a bearer token. Unset: only namespaces with
  // access.tokens need one.
  std::string tokens_file;
  bool operator==(const AuthConfig&) const = default;
};

// Where namespace configs live and how changes made by other instances are seen.
struct ConfigStoreConfig {
  std::string type = "directory";              // directory (namespaces_dir) | postgres (shared by instances)
  std::chrono::milliseconds poll_interval{1000};  // how often the store is checked for changes; 0 = never
  // postgres: a libpq connection string or URI. Keep the password out of it
  // (PGPASSWORD or ~/.pgpass); it is redacted from every message regardless.
  std::string dsn;
  std::string table = "wal_namespaces";        // postgres: the table (created if missing); [A-Za-z_][A-Za-z0-9_]{0,47}
  bool operator==(const ConfigStoreConfig&) const = default;
};

struct ServerConfig {
  std::string data_dir = "./data";
  std::string namespaces_dir = "./config/namespaces";
  std::string grpc_listen = "127.0.0.1:7400";
  std::string http_listen = "127.0.0.1:7401";
  std::string role = "both";                   // producer | consumer | both
  uint64_t max_request_bytes = 72ull << 20;   // room for a 64 MiB mutation set
  // HTTP connections served at once; an idle keep-alive connection holds one
  // of them until the client closes it or it idles out (5 s).
  uint64_t http_max_connections = 256;
  std::string log_level = "info";
  // The region this instance serves (cross-region replication: consumers of a
  // replication target apply to this region's endpoints). Empty: none.
  std::string region;
  std::string log_format = "text";             // text | json (one JSON object per line)
  std::string shard_map;                       // shard map file (docs/sharding.md); empty: no sharding
  std::string shard;                           // this instance's shard in the map
  TlsConfig tls;
  AuthConfig auth;
  ConfigStoreConfig config_store;
  bool operator==(const ServerConfig&) const = default;
};

Result<ServerConfig> ParseServerConfig(std::string_view text, Format format, std::string_view source);
Status ValidateServerConfig(const ServerConfig& config);
std::string SaveServerConfig(const ServerConfig& config, Format format);

}  // namespace wal::config
