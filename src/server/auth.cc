#include "server/auth.h"

#include <openssl/evp.h>

#include <algorithm>

#include "config/yaml_json.h"
#include "engine/engine.h"

namespace wal::server {
namespace {

Status Unauthenticated(std::string message) { return Status(StatusCode::kUnauthenticated, std::move(message)); }
Status PermissionDenied(std::string message) { return Status(StatusCode::kPermissionDenied, std::move(message)); }

bool HasScope(const std::vector<std::string>& scopes, Scope scope) {
  for (const std::string& granted : scopes) {
    if (granted == ScopeName(scope)) return true;
    if (granted == "admin" && scope == Scope::kRead) return true;
  }
  return false;
}

// Compares two hex digests without an early exit, so timing says nothing about
// how much of a guess was right.
bool SameDigest(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char difference = 0;
  for (size_t i = 0; i < a.size(); ++i) difference |= static_cast<unsigned char>(a[i] ^ b[i]);
  return difference == 0;
}

bool Covers(const std::vector<std::string>& namespaces, const std::string& name) {
  for (const std::string& covered : namespaces) {
    if (covered == "*" || (!name.empty() && covered == name)) return true;
  }
  return false;
}

// The token of an "authorization: Bearer <token>" value, or "" when absent/malformed.
std::string_view BearerToken(std::string_view authorization) {
  constexpr std::string_view kPrefixes[] = {"Bearer ", "bearer "};
  for (std::string_view prefix : kPrefixes) {
    if (authorization.starts_with(prefix)) {
      std::string_view token = authorization.substr(prefix.size());
      while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
      while (!token.empty() && (token.back() == ' ' || token.back() == '\r')) token.remove_suffix(1);
      return token;
    }
  }
  return {};
}

Status CheckStrings(const config::Json& value, const std::string& path, std::vector<std::string>* out) {
  if (!value.is_array()) return InvalidArgument(path + ": must be a list of strings");
  for (const auto& item : value) {
    if (!item.is_string()) return InvalidArgument(path + ": must be a list of strings");
    out->push_back(item.get<std::string>());
  }
  return Status::Ok();
}

}  // namespace

std::string_view ScopeName(Scope scope) {
  switch (scope) {
    case Scope::kWrite: return "write";
    case Scope::kRead: return "read";
    case Scope::kAdmin: return "admin";
  }
  return "unknown";
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return hex;
}

Result<std::vector<ServerToken>> ParseTokensFile(std::string_view text, config::Format format, std::string_view source) {
  const std::string prefix = std::string(source) + ": ";
  auto tree = format == config::Format::kJson ? config::JsonTextToJson(text) : config::YamlTextToJson(text, {});
  if (!tree.ok()) return tree.status().WithContext(source);
  const config::Json& root = *tree;
  if (!root.is_object() || !root.contains("tokens") || !root["tokens"].is_array()) {
    return InvalidArgument(prefix + "tokens: required, a list of {name, sha256, scopes, namespaces}");
  }
  std::vector<ServerToken> tokens;
  for (size_t i = 0; i < root["tokens"].size(); ++i) {
    const config::Json& item = root["tokens"][i];
    const std::string path = "tokens[" + std::to_string(i) + "]";
    if (!item.is_object()) return InvalidArgument(prefix + path + ": must be a mapping");
    ServerToken token;
    for (const auto& [key, value] : item.items()) {
      if (key == "name" && value.is_string()) {
        token.name = value.get<std::string>();
      } else if (key == "sha256" && value.is_string()) {
        token.sha256 = value.get<std::string>();
      } else if (key == "scopes") {
        WAL_RETURN_IF_ERROR(CheckStrings(value, prefix + path + ".scopes", &token.scopes));
      } else if (key == "namespaces") {
        WAL_RETURN_IF_ERROR(CheckStrings(value, prefix + path + ".namespaces", &token.namespaces));
      } else {
        return InvalidArgument(prefix + path + "." + key + ": unknown field or wrong type");
      }
    }
    if (token.name.empty()) return InvalidArgument(prefix + path + ".name: required");
    const bool hex = token.sha256.size() == 64 && std::all_of(token.sha256.begin(), token.sha256.end(), [](char c) {
                       return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                     });
    if (!hex) {
      return InvalidArgument(prefix + path + ".sha256: must be 64 lowercase hex digits (the SHA-256 of the token, not the token)");
    }
    if (token.scopes.empty()) return InvalidArgument(prefix + path + ".scopes: must list at least one of write, read, admin");
    for (const std::string& scope : token.scopes) {
      if (scope != "write" && scope != "read" && scope != "admin") {
        return InvalidArgument(prefix + path + ".scopes: unknown scope '" + scope + "' (write, read or admin)");
      }
    }
    if (token.namespaces.empty()) return InvalidArgument(prefix + path + ".namespaces: must list namespaces or \"*\"");
    tokens.push_back(std::move(token));
  }
  return tokens;
}

Authenticator::Authenticator(std::vector<ServerToken> server_tokens) : server_tokens_(std::move(server_tokens)) {}

Result<std::unique_ptr<Authenticator>> Authenticator::Load(FileSystem* file_system, const std::string& tokens_file) {
  if (tokens_file.empty()) return std::make_unique<Authenticator>();
  WAL_ASSIGN_OR_RETURN(std::string text, file_system->ReadFile(tokens_file));
  return Parse(text, tokens_file);
}

Result<std::unique_ptr<Authenticator>> Authenticator::Parse(std::string_view text, const std::string& tokens_file) {
  WAL_ASSIGN_OR_RETURN(config::Format format, config::FormatFromPath(tokens_file));
  WAL_ASSIGN_OR_RETURN(auto tokens, ParseTokensFile(text, format, tokens_file));
  if (tokens.empty()) return InvalidArgument(tokens_file + ": tokens: lists no tokens; remove auth.tokens_file to turn auth off");
  return std::make_unique<Authenticator>(std::move(tokens));
}

Status Authenticator::Check(std::string_view authorization, const std::string& name, Scope scope,
                            const engine::Engine& engine) const {
  const engine::NamespaceView view = name.empty() ? engine::NamespaceView{} : engine.View(name);
  return Check(authorization, name, scope, view.config(), engine);
}

Status Authenticator::Check(std::string_view authorization, const std::string& name, Scope scope,
                            const config::NamespaceConfig* namespace_config, const engine::Engine& engine) const {
  const bool namespace_auth = namespace_config && !namespace_config->access.tokens.empty();
  if (!server_auth() && !namespace_auth) return Status::Ok();

  const std::string what = name.empty() ? std::string("this server") : "namespace " + name;
  if (authorization.empty()) {
    return Unauthenticated(what + " needs a bearer token: send 'authorization: Bearer <token>'");
  }
  const std::string_view token = BearerToken(authorization);
  if (token.empty()) return Unauthenticated("the authorization header must be 'Bearer <token>'");
  const std::string digest = Sha256Hex(token);

  bool known = false;
  for (const ServerToken& candidate : server_tokens_) {
    if (!SameDigest(candidate.sha256, digest)) continue;
    known = true;
    if (Covers(candidate.namespaces, name.empty() ? std::string("*") : name) && HasScope(candidate.scopes, scope)) {
      return Status::Ok();
    }
    if (name.empty() && !Covers(candidate.namespaces, "*")) continue;
  }
  if (namespace_config) {
    for (const config::AccessToken& candidate : namespace_config->access.tokens) {
      if (!SameDigest(candidate.sha256, digest)) continue;
      known = true;
      if (HasScope(candidate.scopes, scope)) return Status::Ok();
    }
  }
  if (!known) {
    // A token another namespace knows is a permission problem, not an identity one.
    for (const std::string& other : engine.ListNamespaces()) {
      if (other == name) continue;
      auto runtime = engine.Runtime(other);
      if (!runtime.ok()) continue;
      for (const config::AccessToken& candidate : (*runtime)->policy().config->access.tokens) {
        if (SameDigest(candidate.sha256, digest)) known = true;
      }
    }
  }
  if (!known) return Unauthenticated("the bearer token is not valid");
  return PermissionDenied("the token does not grant '" + std::string(ScopeName(scope)) + "' on " + what);
}

std::unique_ptr<FileReloader> NewTokensFileReloader(FileSystem* file_system, const std::string& tokens_file,
                                                    std::chrono::milliseconds interval,
                                                    std::shared_ptr<Swappable<Authenticator>> authenticator) {
  return std::make_unique<FileReloader>(
      "auth.tokens_file", file_system, std::vector<std::string>{tokens_file}, interval,
      [tokens_file, authenticator](const std::vector<std::string>& contents) -> Result<std::string> {
        WAL_ASSIGN_OR_RETURN(std::unique_ptr<Authenticator> parsed,
                             Authenticator::Parse(contents.front(), tokens_file));
        std::string summary = std::to_string(parsed->server_token_count()) + " tokens";
        authenticator->Set(std::move(parsed));
        return summary;
      });
}

}  // namespace wal::server
