#include "cql/requests.h"

#include <gtest/gtest.h>

#include "cql/testing/hex.h"

namespace wal::cql {
namespace {

using testing::Hex;

TEST(CqlRequestsTest, StartupIsAStringMapWithTheCqlVersion) {
  // [string map] n=1: [string] "CQL_VERSION" [string] "3.0.0"
  Result<std::string> body = EncodeDefaultStartup();
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(*body, Hex("0001 000b") + "CQL_VERSION" + Hex("0005") + "3.0.0");
}

TEST(CqlRequestsTest, AuthResponseCarriesTheSaslPlainToken) {
  // [bytes] "\0cassandra\0secret"
  Result<std::string> body = EncodeAuthResponse(PlainSaslToken("cassandra", "secret"));
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(*body, Hex("00000011 00") + "cassandra" + Hex("00") + "secret");
  // A null token is length -1.
  EXPECT_EQ(EncodeAuthResponse(std::nullopt).value(), Hex("ffffffff"));
}

TEST(CqlRequestsTest, QueryWithoutValuesIsConsistencyAndZeroFlags) {
  QueryParameters parameters;
  parameters.consistency = Consistency::kOne;
  // [long string] query, [consistency] ONE, [byte] flags 0
  Result<std::string> body = EncodeQuery("SELECT 1", parameters);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(*body, Hex("00000008") + "SELECT 1" + Hex("0001 00"));
}

TEST(CqlRequestsTest, QueryWithEveryFlagLaysThemOutInSpecOrder) {
  QueryParameters p;
  p.consistency = Consistency::kLocalQuorum;
  p.values = {Value::Int(7), Value::Null(), Value::Unset()};
  p.page_size = 100;
  p.paging_state = std::string("ps");
  p.serial_consistency = Consistency::kLocalSerial;
  p.default_timestamp = 0x0102030405060708;
  Result<std::string> body = EncodeQuery("Q", p);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  // flags: values 0x01 | page size 0x04 | paging state 0x08 | serial 0x10 | timestamp 0x20 = 0x3d
  EXPECT_EQ(*body, Hex("00000001") + "Q" +
                       Hex("0006 3d") +                                  // LOCAL_QUORUM, flags
                       Hex("0003 00000004 00000007 ffffffff fffffffe") +  // 3 values: int 7, null, not set
                       Hex("00000064") +                                 // page size 100
                       Hex("00000002") + "ps" +                          // paging state [bytes]
                       Hex("0009") +                                     // LOCAL_SERIAL
                       Hex("0102030405060708"));                         // timestamp micros
}

TEST(CqlRequestsTest, PrepareIsALongString) {
  EXPECT_EQ(EncodePrepare("INSERT").value(), Hex("00000006") + "INSERT");
}

TEST(CqlRequestsTest, ExecuteIsShortBytesIdThenQueryParameters) {
  QueryParameters p;
  p.consistency = Consistency::kQuorum;
  p.values = {Value::Text("k"), Value::BigInt(-1)};
  p.skip_metadata = true;
  Result<std::string> body = EncodeExecute(Hex("cafe"), p);
  ASSERT_TRUE(body.ok());
  // [short bytes] id, QUORUM, flags values|skip_metadata = 0x03, 2 values
  EXPECT_EQ(*body, Hex("0002 cafe 0004 03 0002 00000001") + "k" + Hex("00000008 ffffffffffffffff"));
}

TEST(CqlRequestsTest, BatchMixesQueryStringsAndPreparedIds) {
  BatchRequest batch;
  batch.type = BatchType::kUnlogged;
  batch.statements.push_back({false, "INSERT a", {Value::Boolean(true)}});
  batch.statements.push_back({true, Hex("beef"), {}});
  batch.consistency = Consistency::kLocalQuorum;
  batch.default_timestamp = 5;
  Result<std::string> body = EncodeBatch(batch);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(*body, Hex("01 0002") +                                          // unlogged, 2 statements
                       Hex("00 00000008") + "INSERT a" + Hex("0001 00000001 01") +  // kind 0, query, 1 value
                       Hex("01 0002 beef 0000") +                            // kind 1, id, 0 values
                       Hex("0006 20 0000000000000005"));                     // LOCAL_QUORUM, timestamp flag, micros
}

TEST(CqlRequestsTest, LoggedBatchWithSerialConsistency) {
  BatchRequest batch;
  batch.statements.push_back({false, "U", {}});
  batch.serial_consistency = Consistency::kSerial;
  EXPECT_EQ(EncodeBatch(batch).value(), Hex("00 0001 00 00000001") + "U" + Hex("0000 0006 10 0008"));
}

TEST(CqlRequestsTest, RegisterIsAStringList) {
  EXPECT_EQ(EncodeRegister({"SCHEMA_CHANGE"}).value(), Hex("0001 000d") + "SCHEMA_CHANGE");
}

TEST(CqlRequestsTest, RefusesWhatTheProtocolCannotCarry) {
  QueryParameters negative;
  negative.default_timestamp = -1;
  EXPECT_EQ(EncodeQuery("Q", negative).status().code(), StatusCode::kInvalidArgument);
  QueryParameters zero_page;
  zero_page.page_size = 0;
  EXPECT_EQ(EncodeQuery("Q", zero_page).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(EncodeBatch(BatchRequest{}).status().code(), StatusCode::kInvalidArgument);
  QueryParameters many;
  many.values.assign(65536, Value::Null());
  EXPECT_EQ(EncodeQuery("Q", many).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(EncodeExecute(std::string(65536, 'x'), {}).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace wal::cql
