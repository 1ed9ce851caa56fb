#include "cql/error.h"

#include <gtest/gtest.h>

#include "cql/testing/hex.h"

namespace wal::cql {
namespace {

using testing::Hex;
using testing::Str;

ServerError Decode(const std::string& body) {
  Result<ServerError> error = DecodeError(body);
  EXPECT_TRUE(error.ok()) << error.status().ToString();
  return error.ok() ? *error : ServerError{};
}

TEST(CqlErrorTest, UnavailableCarriesConsistencyRequiredAndAlive) {
  ServerError e = Decode(Hex("00001000") + Str("Cannot achieve consistency") + Hex("0006 00000002 00000001"));
  EXPECT_EQ(e.code, ErrorCode::kUnavailable);
  EXPECT_EQ(e.message, "Cannot achieve consistency");
  EXPECT_EQ(e.consistency, Consistency::kLocalQuorum);
  EXPECT_EQ(e.required, 2);
  EXPECT_EQ(e.alive, 1);
  Status status = ToStatus(e);
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_TRUE(IsRetryable(status));
  EXPECT_NE(status.message().find("Unavailable (0x1000): Cannot achieve consistency"), std::string::npos);
  EXPECT_NE(status.message().find("LOCAL_QUORUM needs 2 replicas, 1 alive"), std::string::npos);
}

TEST(CqlErrorTest, WriteTimeoutCarriesTheWriteType) {
  ServerError e = Decode(Hex("00001100") + Str("timed out") + Hex("0001 00000000 00000001") + Str("UNLOGGED_BATCH"));
  EXPECT_EQ(e.code, ErrorCode::kWriteTimeout);
  EXPECT_EQ(e.block_for, 1);
  EXPECT_EQ(e.write_type, "UNLOGGED_BATCH");
  EXPECT_EQ(ToStatus(e).code(), StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(IsRetryable(e));
}

TEST(CqlErrorTest, ReadTimeoutAndReadFailure) {
  ServerError timeout = Decode(Hex("00001200") + Str("rt") + Hex("0004 00000001 00000002 00"));
  EXPECT_EQ(timeout.received, 1);
  EXPECT_FALSE(timeout.data_present);
  EXPECT_EQ(ToStatus(timeout).code(), StatusCode::kDeadlineExceeded);
  ServerError failure = Decode(Hex("00001300") + Str("rf") + Hex("0004 00000001 00000002 00000001 01"));
  EXPECT_EQ(failure.failures, 1);
  EXPECT_TRUE(failure.data_present);
  EXPECT_TRUE(IsRetryable(ToStatus(failure)));
}

TEST(CqlErrorTest, WriteFailureAndFunctionFailure) {
  ServerError write = Decode(Hex("00001500") + Str("wf") + Hex("0001 00000000 00000001 00000001") + Str("SIMPLE"));
  EXPECT_EQ(write.write_type, "SIMPLE");
  EXPECT_TRUE(IsRetryable(write));
  ServerError function = Decode(Hex("00001400") + Str("boom") + Str("ks") + Str("f") + Hex("0002") + Str("int") +
                                Str("text"));
  EXPECT_EQ(function.function_keyspace, "ks");
  EXPECT_EQ(function.function_name, "f");
  EXPECT_EQ(function.argument_types, (std::vector<std::string>{"int", "text"}));
  EXPECT_FALSE(IsRetryable(function));
}

TEST(CqlErrorTest, AlreadyExistsAndUnprepared) {
  ServerError exists = Decode(Hex("00002400") + Str("exists") + Str("ks") + Str(""));
  EXPECT_EQ(exists.keyspace, "ks");
  EXPECT_EQ(ToStatus(exists).code(), StatusCode::kAlreadyExists);
  ServerError unprepared = Decode(Hex("00002500") + Str("unknown id") + Hex("0002 beef"));
  EXPECT_EQ(unprepared.unprepared_id, Hex("beef"));
  EXPECT_TRUE(IsRetryable(unprepared));
}

TEST(CqlErrorTest, CodesWithoutDetailsAndTheirClassification) {
  struct Case {
    const char* code_hex;
    ErrorCode code;
    StatusCode status;
    bool retryable;
  };
  const Case cases[] = {
      {"00000000", ErrorCode::kServerError, StatusCode::kUnavailable, true},
      {"0000000a", ErrorCode::kProtocolError, StatusCode::kFailedPrecondition, false},
      {"00000100", ErrorCode::kBadCredentials, StatusCode::kUnauthenticated, false},
      {"00001001", ErrorCode::kOverloaded, StatusCode::kResourceExhausted, true},
      {"00001002", ErrorCode::kIsBootstrapping, StatusCode::kUnavailable, true},
      {"00001003", ErrorCode::kTruncateError, StatusCode::kUnavailable, true},
      {"00002000", ErrorCode::kSyntaxError, StatusCode::kInvalidArgument, false},
      {"00002100", ErrorCode::kUnauthorized, StatusCode::kPermissionDenied, false},
      {"00002200", ErrorCode::kInvalid, StatusCode::kInvalidArgument, false},
      {"00002300", ErrorCode::kConfigError, StatusCode::kInvalidArgument, false},
  };
  for (const Case& c : cases) {
    ServerError e = Decode(Hex(c.code_hex) + Str("why"));
    EXPECT_EQ(e.code, c.code) << c.code_hex;
    EXPECT_EQ(e.message, "why");
    Status status = ToStatus(e);
    EXPECT_EQ(status.code(), c.status) << c.code_hex << " " << status.ToString();
    EXPECT_EQ(IsRetryable(e), c.retryable) << c.code_hex;
    EXPECT_EQ(IsRetryable(status), c.retryable) << c.code_hex;
  }
}

TEST(CqlErrorTest, AnUnknownKeyspaceOrTableIsNotFoundAndPermanent) {
  Status keyspace = ToStatus(Decode(Hex("00002200") + Str("Keyspace 'nope' does not exist")));
  EXPECT_EQ(keyspace.code(), StatusCode::kNotFound);
  EXPECT_FALSE(IsRetryable(keyspace));
  EXPECT_NE(keyspace.message().find("Keyspace 'nope' does not exist"), std::string::npos);
  EXPECT_EQ(ToStatus(Decode(Hex("00002200") + Str("unconfigured table t"))).code(), StatusCode::kNotFound);
  EXPECT_EQ(ToStatus(Decode(Hex("00002200") + Str("Type 'ks.address' doesn't exist"))).code(), StatusCode::kNotFound);
}

TEST(CqlErrorTest, UnknownCodeKeepsCodeAndMessage) {
  ServerError e = Decode(Hex("00007777") + Str("future"));
  EXPECT_EQ(static_cast<int32_t>(e.code), 0x7777);
  EXPECT_EQ(ToStatus(e).code(), StatusCode::kInvalidArgument);
  EXPECT_NE(ToStatus(e).message().find("Error 0x7777"), std::string::npos);
}

TEST(CqlErrorTest, TruncatedErrorBodiesAreErrors) {
  EXPECT_FALSE(DecodeError(Hex("0000")).ok());
  EXPECT_FALSE(DecodeError(Hex("00001000") + Str("m") + Hex("0006 00000002")).ok());  // no <alive>
  EXPECT_FALSE(DecodeError(Hex("00002500") + Str("m") + Hex("0004 be")).ok());
  EXPECT_FALSE(DecodeError(Hex("00001100") + Str("m") + Hex("0001 00000000 00000001 0005") + "SIM").ok());
}

TEST(CqlErrorTest, ConnectionLevelStatusesAreRetryable) {
  EXPECT_TRUE(IsRetryable(Unavailable("connection reset")));
  EXPECT_TRUE(IsRetryable(DeadlineExceeded("no response")));
  EXPECT_FALSE(IsRetryable(InvalidArgument("bad")));
  EXPECT_FALSE(IsRetryable(Corruption("garbage")));
}

}  // namespace
}  // namespace wal::cql
