#include "cql/value.h"

#include <gtest/gtest.h>

#include "cql/testing/hex.h"

namespace wal::cql {
namespace {

using testing::Hex;

TEST(CqlValueTest, SerializesTheCommonTypesPerSpecSectionSix) {
  EXPECT_EQ(Value::BigInt(-2).bytes(), Hex("fffffffffffffffe"));    // 6.2 eight-byte two's complement
  EXPECT_EQ(Value::Int(258).bytes(), Hex("00000102"));              // 6.10
  EXPECT_EQ(Value::Boolean(true).bytes(), Hex("01"));               // 6.4
  EXPECT_EQ(Value::Boolean(false).bytes(), Hex("00"));
  EXPECT_EQ(Value::Timestamp(1000).bytes(), Hex("00000000000003e8"));  // 6.17 millis
  EXPECT_EQ(Value::Text("é").bytes(), "\xc3\xa9");                 // 6.15 UTF-8 as is
  Uuid uuid = ParseUuid("00112233-4455-6677-8899-AABBCCDDEEFF").value();
  EXPECT_EQ(Value::FromUuid(uuid).bytes(), Hex("00112233445566778899aabbccddeeff"));  // 6.21
}

TEST(CqlValueTest, WritesNullAndNotSetAsNegativeLengths) {
  WireWriter writer;
  WriteValue(writer, Value::Null());
  WriteValue(writer, Value::Unset());
  WriteValue(writer, Value::Blob(""));
  EXPECT_EQ(writer.data(), Hex("ffffffff fffffffe 00000000"));
}

TEST(CqlValueTest, DecodersCheckSizes) {
  EXPECT_EQ(DecodeBigInt(Hex("8000000000000000")).value(), INT64_MIN);
  EXPECT_EQ(DecodeInt(Hex("ffffffff")).value(), -1);
  EXPECT_TRUE(DecodeBoolean(Hex("02")).value());  // any non-zero byte is true
  EXPECT_EQ(DecodeBigInt(Hex("00")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeInt("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeBoolean(Hex("0000")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeUuid(Hex("00")).status().code(), StatusCode::kInvalidArgument);
}

TEST(CqlValueTest, UuidTextRoundTripsAndRejectsMalformedText) {
  const std::string text = "550e8400-e29b-41d4-a716-446655440000";
  EXPECT_EQ(UuidToString(ParseUuid(text).value()), text);
  EXPECT_FALSE(ParseUuid("550e8400e29b41d4a716446655440000").ok());
  EXPECT_FALSE(ParseUuid("550e8400-e29b-41d4-a716-44665544000g").ok());
  EXPECT_FALSE(ParseUuid("550e8400-e29b-41d4-a716+446655440000").ok());
}

}  // namespace
}  // namespace wal::cql
