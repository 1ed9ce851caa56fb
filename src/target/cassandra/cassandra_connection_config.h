// How wal reaches a Cassandra cluster: the settings the `cassandra` target and
// the `cassandra` set store share (contact points, keyspace, consistency,
// timeouts, credentials, TLS), and the CQL session options built from them.
//
// Settings (docs/cassandra.md#target-settings), flat beside the module's own:
//   contact_points   required; "host" or "host:port" (port 9042 by default)
//   keyspace         required; [A-Za-z0-9_]{1,48}, used exactly as written (quoted)
//   consistency      of every write and read; default LOCAL_QUORUM (SERIAL kinds refused)
//   connect_timeout  TCP + TLS + STARTUP/auth, each step; default 5s
//   request_timeout  each request; default 5s
//   username         PasswordAuthenticator; needs password_env or password_file
//   password_env     the environment variable holding the password
//   password_file    a file holding the password (one trailing newline dropped)
//   tls              {enabled, ca_file, cert_file, key_file, server_name, verify_peer}
//
// Secrets: the settings hold where the password is, never the password, so a
// saved or printed config carries none. SessionOptionsFor reads it when the
// session is built, and its errors name the variable or file, not the value.
//
// Threading: values and pure functions (SessionOptionsFor reads the
// environment and a file).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/status.h"
#include "config/module_config.h"
#include "config/object_reader.h"
#include "cql/protocol.h"
#include "cql/session.h"

namespace wal::cassandra {

struct CassandraTlsSettings {
  bool enabled = false;
  std::string ca_file;  // empty: the system's CAs
  std::string cert_file;
  std::string key_file;
  std::string server_name;  // empty: the contact point's host
  bool verify_peer = true;  // false only for tests
  bool operator==(const CassandraTlsSettings&) const = default;
};

struct CassandraConnectionSettings {
  std::vector<std::string> contact_points;
  std::string keyspace;
  cql::Consistency consistency = cql::Consistency::kLocalQuorum;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{5000};
  std::string username;
  std::string password_env;
  std::string password_file;
  CassandraTlsSettings tls;

  // The fields above from `reader` (types only); `whose` names the module in
  // errors, e.g. "target type 'cassandra'".
  Status Read(config::ObjectReader& reader);
  Status Validate(const std::string& path, std::string_view whose) const;
  void Write(config::Json& object) const;
  bool operator==(const CassandraConnectionSettings&) const = default;
};

// Cassandra's own limit on keyspace and table names, and what may be quoted
// into CQL without escaping.
bool IsCqlName(std::string_view name);

// `name` double-quoted for CQL (IsCqlName names need no escaping).
std::string QuoteCql(std::string_view name);

// The session options for `settings`, with the password read from its
// variable or file. kInvalidArgument "<path>.password_env: ..." when it is
// unset or unreadable.
Result<cql::SessionOptions> SessionOptionsFor(const CassandraConnectionSettings& settings, const std::string& path);

}  // namespace wal::cassandra
