#include "target/cassandra/cassandra_connection_config.h"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/host_port.h"
#include "config/duration.h"

namespace wal::cassandra {
namespace {

// What a write may be sent with. SERIAL and LOCAL_SERIAL are for the Paxos
// phase of conditional statements only; the server refuses them for plain writes.
constexpr config::EnumName<cql::Consistency> kConsistencies[] = {
    {"LOCAL_QUORUM", cql::Consistency::kLocalQuorum}, {"QUORUM", cql::Consistency::kQuorum},
    {"EACH_QUORUM", cql::Consistency::kEachQuorum},   {"LOCAL_ONE", cql::Consistency::kLocalOne},
    {"ONE", cql::Consistency::kOne},                  {"TWO", cql::Consistency::kTwo},
    {"THREE", cql::Consistency::kThree},              {"ALL", cql::Consistency::kAll},
    {"ANY", cql::Consistency::kAny},
};

bool IsContactPoint(std::string_view text) {
  if (text.empty() || text.find_first_of(" \t/") != std::string_view::npos) return false;
  if (ParseHostPort(text)) return true;
  if (text.front() == '[') return text.back() == ']' && text.size() > 2;  // [v6] without a port
  return text.find(':') == std::string_view::npos;                       // a bare host
}

Status ReadTls(config::ObjectReader& parent, CassandraTlsSettings* tls) {
  if (parent.Take("tls") == nullptr) return Status::Ok();
  WAL_ASSIGN_OR_RETURN(config::ObjectReader reader, config::OpenChild(parent, "tls"));
  WAL_RETURN_IF_ERROR(reader.Field("enabled", &tls->enabled));
  WAL_RETURN_IF_ERROR(reader.Field("ca_file", &tls->ca_file));
  WAL_RETURN_IF_ERROR(reader.Field("cert_file", &tls->cert_file));
  WAL_RETURN_IF_ERROR(reader.Field("key_file", &tls->key_file));
  WAL_RETURN_IF_ERROR(reader.Field("server_name", &tls->server_name));
  WAL_RETURN_IF_ERROR(reader.Field("verify_peer", &tls->verify_peer));
  return reader.RejectUnknownFields();
}

}  // namespace

bool IsCqlName(std::string_view name) {
  if (name.empty() || name.size() > 48) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

std::string QuoteCql(std::string_view name) { return "\"" + std::string(name) + "\""; }

Status CassandraConnectionSettings::Read(config::ObjectReader& reader) {
  WAL_RETURN_IF_ERROR(reader.NonEmptyField("contact_points", &contact_points));
  WAL_RETURN_IF_ERROR(reader.Field("keyspace", &keyspace));
  if (const config::Json* value = reader.Take("consistency")) {
    WAL_RETURN_IF_ERROR(config::ReadEnum(*value, reader.PathOf("consistency"), kConsistencies, &consistency));
  }
  WAL_RETURN_IF_ERROR(reader.Field("connect_timeout", &connect_timeout));
  WAL_RETURN_IF_ERROR(reader.Field("request_timeout", &request_timeout));
  WAL_RETURN_IF_ERROR(reader.Field("username", &username));
  WAL_RETURN_IF_ERROR(reader.Field("password_env", &password_env));
  WAL_RETURN_IF_ERROR(reader.Field("password_file", &password_file));
  return ReadTls(reader, &tls);
}

Status CassandraConnectionSettings::Validate(const std::string& path, std::string_view whose) const {
  if (contact_points.empty()) return config::FieldError(path + ".contact_points", "required for " + std::string(whose));
  for (size_t i = 0; i < contact_points.size(); ++i) {
    if (!IsContactPoint(contact_points[i])) {
      return config::FieldError(path + ".contact_points[" + std::to_string(i) + "]",
                                "must be host or host:port, got " + config::Quoted(contact_points[i]));
    }
  }
  WAL_RETURN_IF_ERROR(config::CheckRequired(path + ".keyspace", keyspace, whose));
  if (!IsCqlName(keyspace)) {
    return config::FieldError(path + ".keyspace", "must match [A-Za-z0-9_]{1,48}, got " + config::Quoted(keyspace));
  }
  WAL_RETURN_IF_ERROR(config::CheckPositive(path + ".connect_timeout", connect_timeout));
  WAL_RETURN_IF_ERROR(config::CheckPositive(path + ".request_timeout", request_timeout));
  if (!password_env.empty() && !password_file.empty()) {
    return config::FieldError(path + ".password_file", "set password_env or password_file, not both");
  }
  const bool has_password = !password_env.empty() || !password_file.empty();
  if (!username.empty() && !has_password) {
    return config::FieldError(path + ".username", "needs password_env or password_file");
  }
  if (username.empty() && has_password) {
    return config::FieldError(path + (password_env.empty() ? ".password_file" : ".password_env"),
                              "is set but username is empty");
  }
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return config::FieldError(path + ".tls." + (tls.cert_file.empty() ? "cert_file" : "key_file"),
                              "cert_file and key_file go together");
  }
  const bool tls_fields = !tls.ca_file.empty() || !tls.cert_file.empty() || !tls.server_name.empty() ||
                          !tls.verify_peer;
  if (tls_fields && !tls.enabled) return config::FieldError(path + ".tls.enabled", "must be true when tls is configured");
  return Status::Ok();
}

void CassandraConnectionSettings::Write(config::Json& object) const {
  object["contact_points"] = contact_points;
  object["keyspace"] = keyspace;
  object["consistency"] = std::string(config::EnumNameOf(consistency, kConsistencies));
  object["connect_timeout"] = config::FormatDuration(connect_timeout);
  object["request_timeout"] = config::FormatDuration(request_timeout);
  object["username"] = username;
  object["password_env"] = password_env;
  object["password_file"] = password_file;
  config::Json tls_object = config::Json::object();
  tls_object["enabled"] = tls.enabled;
  tls_object["ca_file"] = tls.ca_file;
  tls_object["cert_file"] = tls.cert_file;
  tls_object["key_file"] = tls.key_file;
  tls_object["server_name"] = tls.server_name;
  tls_object["verify_peer"] = tls.verify_peer;
  object["tls"] = std::move(tls_object);
}

Result<cql::SessionOptions> SessionOptionsFor(const CassandraConnectionSettings& settings, const std::string& path) {
  cql::SessionOptions options;
  options.contact_points = settings.contact_points;
  options.connection.connect_timeout = settings.connect_timeout;
  options.connection.request_timeout = settings.request_timeout;
  options.connection.tls.enabled = settings.tls.enabled;
  options.connection.tls.ca_file = settings.tls.ca_file;
  options.connection.tls.cert_file = settings.tls.cert_file;
  options.connection.tls.key_file = settings.tls.key_file;
  options.connection.tls.server_name = settings.tls.server_name;
  options.connection.tls.verify_peer = settings.tls.verify_peer;
  if (settings.username.empty()) return options;
  std::string password;
  if (!settings.password_env.empty()) {
    const char* value = std::getenv(settings.password_env.c_str());
    if (value == nullptr) {
      return InvalidArgument(path + ".password_env: the environment variable " + settings.password_env +
                             " is not set in this process");
    }
    password = value;
  } else {
    std::ifstream file(settings.password_file, std::ios::binary);
    if (!file) return InvalidArgument(path + ".password_file: cannot read " + settings.password_file);
    std::ostringstream text;
    text << file.rdbuf();
    password = text.str();
    if (!password.empty() && password.back() == '\n') password.pop_back();
    if (!password.empty() && password.back() == '\r') password.pop_back();
  }
  options.connection.credentials = cql::Credentials{settings.username, std::move(password)};
  return options;
}

}  // namespace wal::cassandra
