#include "cql/responses.h"

#include <gtest/gtest.h>

#include "cql/testing/hex.h"

namespace wal::cql {
namespace {

using testing::Hex;

FrameHeader Header(Opcode opcode, uint8_t flags = 0) {
  FrameHeader header;
  header.version = 0x84;
  header.opcode = opcode;
  header.flags = flags;
  return header;
}

TEST(CqlResponsesTest, EnvelopeStripsTracingIdWarningsAndCustomPayloadInOrder) {
  const std::string body = Hex("00112233445566778899aabbccddeeff") +     // [uuid] tracing id
                           Hex("0001 0004") + "warn" +                   // [string list] warnings
                           Hex("0001 0001") + "k" + Hex("00000001") + "v" +  // [bytes map] payload
                           Hex("00000001");                              // the RESULT body: Void
  Result<ResponseEnvelope> envelope =
      SplitResponseBody(Header(Opcode::kResult, kFlagTracing | kFlagWarning | kFlagCustomPayload), body);
  ASSERT_TRUE(envelope.ok()) << envelope.status().ToString();
  ASSERT_TRUE(envelope->tracing_id.has_value());
  EXPECT_EQ((*envelope->tracing_id)[15], 0xff);
  EXPECT_EQ(envelope->warnings, std::vector<std::string>{"warn"});
  EXPECT_EQ(envelope->custom_payload.at("k"), std::optional<std::string>("v"));
  EXPECT_EQ(envelope->message, Hex("00000001"));
}

TEST(CqlResponsesTest, EnvelopeWithoutFlagsIsTheWholeBody) {
  Result<ResponseEnvelope> envelope = SplitResponseBody(Header(Opcode::kReady), "");
  ASSERT_TRUE(envelope.ok());
  EXPECT_TRUE(envelope->message.empty());
  EXPECT_FALSE(envelope->tracing_id.has_value());
}

TEST(CqlResponsesTest, TruncatedEnvelopeIsAnError) {
  EXPECT_EQ(SplitResponseBody(Header(Opcode::kResult, kFlagTracing), Hex("0011")).status().code(),
            StatusCode::kCorruption);
  EXPECT_EQ(SplitResponseBody(Header(Opcode::kResult, kFlagWarning), Hex("0002 0001") + "a").status().code(),
            StatusCode::kCorruption);
}

TEST(CqlResponsesTest, AuthenticateNamesTheAuthenticator) {
  const std::string name = "org.apache.cassandra.auth.PasswordAuthenticator";
  Result<std::string> decoded = DecodeAuthenticate(Hex("002f") + name);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, name);
  EXPECT_FALSE(DecodeAuthenticate(Hex("0030") + name).ok());
}

TEST(CqlResponsesTest, SupportedIsAStringMultimap) {
  const std::string body = Hex("0002") + Hex("000b") + "CQL_VERSION" + Hex("0001 0005") + "3.4.7" +
                           Hex("0011") + "PROTOCOL_VERSIONS" + Hex("0002 0004") + "4/v4" + Hex("0004") + "5/v5";
  auto supported = DecodeSupported(body);
  ASSERT_TRUE(supported.ok()) << supported.status().ToString();
  EXPECT_EQ(supported->at("CQL_VERSION"), std::vector<std::string>{"3.4.7"});
  EXPECT_EQ(supported->at("PROTOCOL_VERSIONS"), (std::vector<std::string>{"4/v4", "5/v5"}));
}

TEST(CqlResponsesTest, AuthChallengeAndSuccessCarryBytesTokens) {
  auto token = DecodeAuthToken(Hex("00000002 abcd"));
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(*token, std::optional<std::string>(Hex("abcd")));
  auto null_token = DecodeAuthToken(Hex("ffffffff"));  // PasswordAuthenticator's AUTH_SUCCESS
  ASSERT_TRUE(null_token.ok());
  EXPECT_FALSE(null_token->has_value());
  EXPECT_FALSE(DecodeAuthToken(Hex("000000")).ok());
}

TEST(CqlResponsesTest, EventStartsWithItsType) {
  auto type = DecodeEventType(Hex("000d") + "SCHEMA_CHANGE" + Hex("0007") + "CREATED");
  ASSERT_TRUE(type.ok());
  EXPECT_EQ(*type, "SCHEMA_CHANGE");
}

}  // namespace
}  // namespace wal::cql
