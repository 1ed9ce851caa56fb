#include "server/auth.h"

#include <gtest/gtest.h>

#include "server/server_test_support.h"

namespace wal::server {
namespace {

class AuthTest : public testing::EngineFixture {};

TEST_F(AuthTest, Sha256OfAKnownVector) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(AuthTest, TokensFileParsesAndRejectsPlainSecrets) {
  auto tokens = ParseTokensFile(
      "tokens:\n  - {name: ops, sha256: " + Sha256Hex("s3cret") + ", scopes: [admin], namespaces: ['*']}\n",
      config::Format::kYaml, "tokens.yaml");
  ASSERT_TRUE(tokens.ok()) << tokens.status().message();
  ASSERT_EQ(tokens->size(), 1u);
  EXPECT_EQ(tokens->front().namespaces.front(), "*");
  auto plain = ParseTokensFile("tokens: [{name: a, sha256: s3cret, scopes: [write], namespaces: [x]}]",
                               config::Format::kYaml, "tokens.yaml");
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(plain.status().message().find("s3cret"), std::string::npos) << plain.status().message();
}

TEST_F(AuthTest, AllowDenyMatrix) {
  const std::string hash_ns_writer = Sha256Hex("orders-writer");
  Open({{"orders", "name: orders\naccess: {tokens: [{name: w, sha256: " + hash_ns_writer + ", scopes: [write]}]}\n"},
        {"open", "name: open\n"},
        {"other", "name: other\naccess: {tokens: [{name: o, sha256: " + Sha256Hex("other-admin") +
                      ", scopes: [admin]}]}\n"}});
  // Server-wide auth off: only namespaces with tokens need one.
  Authenticator per_namespace;
  EXPECT_TRUE(per_namespace.Check("", "open", Scope::kWrite, *engine_).ok());
  EXPECT_EQ(per_namespace.Check("", "orders", Scope::kWrite, *engine_).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(per_namespace.Check("Basic abc", "orders", Scope::kWrite, *engine_).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(per_namespace.Check("Bearer nope", "orders", Scope::kWrite, *engine_).code(), StatusCode::kUnauthenticated);
  EXPECT_TRUE(per_namespace.Check("Bearer orders-writer", "orders", Scope::kWrite, *engine_).ok());
  EXPECT_EQ(per_namespace.Check("Bearer orders-writer", "orders", Scope::kAdmin, *engine_).code(),
            StatusCode::kPermissionDenied);
  // Known elsewhere, not here: permission, not identity.
  EXPECT_EQ(per_namespace.Check("Bearer other-admin", "orders", Scope::kWrite, *engine_).code(),
            StatusCode::kPermissionDenied);
  EXPECT_TRUE(per_namespace.Check("Bearer other-admin", "other", Scope::kRead, *engine_).ok());

  // Server-wide auth on.
  Authenticator server({{"ops", Sha256Hex("ops"), {"admin", "write"}, {"*"}},
                        {"open-writer", Sha256Hex("open-writer"), {"write"}, {"open"}}});
  EXPECT_EQ(server.Check("", "open", Scope::kWrite, *engine_).code(), StatusCode::kUnauthenticated);
  EXPECT_TRUE(server.Check("Bearer open-writer", "open", Scope::kWrite, *engine_).ok());
  EXPECT_EQ(server.Check("Bearer open-writer", "orders", Scope::kWrite, *engine_).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(server.Check("Bearer open-writer", "", Scope::kRead, *engine_).code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(server.Check("Bearer ops", "", Scope::kRead, *engine_).ok());
  EXPECT_TRUE(server.Check("Bearer ops", "orders", Scope::kAdmin, *engine_).ok());
  EXPECT_TRUE(server.Check("Bearer orders-writer", "orders", Scope::kWrite, *engine_).ok());
  // Messages never carry the token.
  Status refused = server.Check("Bearer open-writer", "orders", Scope::kWrite, *engine_);
  EXPECT_EQ(refused.message().find("open-writer"), std::string::npos) << refused.message();
}

}  // namespace
}  // namespace wal::server
