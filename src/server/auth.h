// Bearer-token authentication and per-namespace authorization.
//
// Tokens are never stored: the server keeps the SHA-256 of each (hex), from the
// server's tokens file (auth.tokens_file) and from namespaces' `access.tokens`.
// A request's token is hashed and compared with those.
//
//   * Auth is off for a namespace unless the server has a tokens file or the
//     namespace lists access tokens.
//   * No token, a malformed header or a token nobody knows -> UNAUTHENTICATED.
//   * A known token that does not cover the namespace or the scope -> PERMISSION_DENIED.
//
// Scopes: write (WriteToLog), read (get, status, log read, DLQ list), admin
// (apply, delete, redrive, purge; admin implies read).
//
// Threading: Check() is thread-safe; the object is immutable once built. A
// changed tokens file gives a new Authenticator that replaces the old one
// whole (RequestGate reads it through a Swappable), never an edit in place.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/file_system.h"
#include "common/status.h"
#include "config/config.h"
#include "server/file_reloader.h"
#include "server/swappable.h"

namespace wal::engine {
class Engine;
}

namespace wal::server {

enum class Scope { kWrite, kRead, kAdmin };
std::string_view ScopeName(Scope scope);

// Lowercase hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

// A token from the server's tokens file.
struct ServerToken {
  std::string name;
  std::string sha256;
  std::vector<std::string> scopes;
  std::vector<std::string> namespaces;  // names, or "*" for all
};

// Parses a tokens file: {tokens: [{name, sha256, scopes: [..], namespaces: [..]}]}.
Result<std::vector<ServerToken>> ParseTokensFile(std::string_view text, config::Format format, std::string_view source);

class Authenticator {
 public:
  // No tokens: server-wide auth is off (namespaces' own tokens still apply).
  explicit Authenticator(std::vector<ServerToken> server_tokens = {});
  static Result<std::unique_ptr<Authenticator>> Load(FileSystem* file_system, const std::string& tokens_file);
  // The text of `tokens_file` (which names it in errors and picks YAML or JSON by
  // its extension). A file listing no tokens is refused: an emptied file must not
  // turn server-wide auth off.
  static Result<std::unique_ptr<Authenticator>> Parse(std::string_view text, const std::string& tokens_file);

  bool server_auth() const { return !server_tokens_.empty(); }
  size_t server_token_count() const { return server_tokens_.size(); }

  // `authorization` is the raw header/metadata value ("Bearer <token>", may be
  // empty). `name` is the namespace ("" for cluster-wide calls such as
  // ListNamespaces). Messages never include the token.
  Status Check(std::string_view authorization, const std::string& name, Scope scope,
               const engine::Engine& engine) const;
  // The same with the namespace's config already looked up (null: not served
  // here). `engine` is read only to tell a token another namespace knows
  // (PERMISSION_DENIED) from an unknown one (UNAUTHENTICATED).
  Status Check(std::string_view authorization, const std::string& name, Scope scope,
               const config::NamespaceConfig* namespace_config, const engine::Engine& engine) const;

 private:
  std::vector<ServerToken> server_tokens_;
};

// Keeps `authenticator` holding the tokens of `tokens_file` as the file changes,
// polling every `interval` once started. Call Load() before serving: it fails on
// a bad file. Later a bad, emptied or deleted file is logged and the tokens in
// force stay (failing open would turn auth off).
std::unique_ptr<FileReloader> NewTokensFileReloader(FileSystem* file_system, const std::string& tokens_file,
                                                    std::chrono::milliseconds interval,
                                                    std::shared_ptr<Swappable<Authenticator>> authenticator);

}  // namespace wal::server
