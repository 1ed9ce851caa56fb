// The tokens file over arbitrary YAML and JSON, and authentication with
// whatever file parses: every token kept is well-formed (a 64-hex SHA-256,
// known scopes, at least one namespace), an empty list is refused, and checking
// a request against the tokens never throws and never lets an unknown token in.
//
// Input: byte 0 picks the format (even: YAML, odd: JSON); the rest is the file.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine_fixture.h"
#include "fuzz_check.h"
#include "server/auth.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wal;
  using namespace wal::server;
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const bool json = data[0] % 2 == 1;
  const std::string file = json ? "tokens.json" : "tokens.yaml";
  auto tokens = ParseTokensFile(text, json ? config::Format::kJson : config::Format::kYaml, file);
  auto authenticator = Authenticator::Parse(text, file);
  FUZZ_CHECK(tokens.ok() || !authenticator.ok());
  if (!tokens.ok()) return 0;
  FUZZ_CHECK(authenticator.ok() == !tokens->empty());
  auto listed = [&](std::string_view token) {
    const std::string digest = Sha256Hex(token);
    for (const ServerToken& candidate : *tokens) {
      if (candidate.sha256 == digest) return true;
    }
    return false;
  };
  for (const ServerToken& token : *tokens) {
    FUZZ_CHECK(!token.name.empty());
    FUZZ_CHECK(token.sha256.size() == 64);
    FUZZ_CHECK(!token.scopes.empty());
    FUZZ_CHECK(!token.namespaces.empty());
    for (const std::string& scope : token.scopes) FUZZ_CHECK(scope == "write" || scope == "read" || scope == "admin");
  }
  if (!authenticator.ok()) return 0;
  const engine::Engine& engine = fuzz::EngineFixture::Get().engine();
  for (std::string_view header : {"", "Bearer", "Bearer unknown-token", "Basic abc", "Bearer fuzz-token"}) {
    const bool bearer = header.starts_with("Bearer ");
    const bool known = bearer && listed(header.substr(7));
    for (const char* name : {"", "orders", "elsewhere"}) {
      for (Scope scope : {Scope::kWrite, Scope::kRead, Scope::kAdmin}) {
        Status checked = (*authenticator)->Check(header, name, scope, engine);
        if (!known) {
          // Only a token the file lists gets in: "orders" and "elsewhere" list none of their own.
          FUZZ_CHECK(checked.code() == StatusCode::kUnauthenticated || checked.code() == StatusCode::kPermissionDenied);
        }
        if (bearer) FUZZ_CHECK(checked.message().find(header.substr(7)) == std::string::npos);  // never echoes the token
      }
    }
  }
  return 0;
}
