#include "log/record_format.h"

#include <gtest/gtest.h>

#include <string>

namespace wal::log {
namespace {

TEST(RecordFormatTest, RecordRoundTrip) {
  std::string buffer;
  AppendRecord(7, "hello", &buffer);
  AppendRecord(8, "", &buffer);
  AppendRecord(9, std::string(1000, 'x'), &buffer);
  ASSERT_EQ(buffer.size(), EncodedRecordSize(5) + EncodedRecordSize(0) + EncodedRecordSize(1000));

  std::string_view rest(buffer);
  ParsedRecord record;
  ASSERT_EQ(ParseRecord(rest, 1 << 20, &record), RecordParse::kOk);
  EXPECT_EQ(record.id, 7u);
  EXPECT_EQ(record.payload, "hello");
  rest.remove_prefix(record.encoded_size);
  ASSERT_EQ(ParseRecord(rest, 1 << 20, &record), RecordParse::kOk);
  EXPECT_EQ(record.id, 8u);
  EXPECT_EQ(record.payload, "");
  rest.remove_prefix(record.encoded_size);
  ASSERT_EQ(ParseRecord(rest, 1 << 20, &record), RecordParse::kOk);
  EXPECT_EQ(record.id, 9u);
  EXPECT_EQ(record.payload, std::string(1000, 'x'));
  rest.remove_prefix(record.encoded_size);
  EXPECT_TRUE(rest.empty());
}

TEST(RecordFormatTest, EverySingleByteFlipIsDetected) {
  std::string record;
  AppendRecord(0x0102030405060708ull, "payload with some bytes", &record);
  for (size_t position = 0; position < record.size(); ++position) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = record;
      damaged[position] = static_cast<char>(damaged[position] ^ (1 << bit));
      ParsedRecord parsed;
      EXPECT_NE(ParseRecord(damaged, 1 << 20, &parsed), RecordParse::kOk)
          << "flip of bit " << bit << " at byte " << position << " went unnoticed";
    }
    // Replacing the byte with arbitrary values must be caught too.
    for (int value : {0x00, 0xFF, 0x5A}) {
      std::string damaged = record;
      if (static_cast<unsigned char>(damaged[position]) == value) continue;
      damaged[position] = static_cast<char>(value);
      ParsedRecord parsed;
      EXPECT_NE(ParseRecord(damaged, 1 << 20, &parsed), RecordParse::kOk) << "byte " << position << " = " << value;
    }
  }
}

TEST(RecordFormatTest, TruncatedRecordIsIncomplete) {
  std::string record;
  AppendRecord(1, "abcdef", &record);
  for (size_t length = 0; length < record.size(); ++length) {
    ParsedRecord parsed;
    EXPECT_EQ(ParseRecord(std::string_view(record).substr(0, length), 1 << 20, &parsed), RecordParse::kIncomplete);
  }
}

TEST(RecordFormatTest, OversizedLengthIsRejectedBeforeReading) {
  std::string record;
  AppendRecord(1, std::string(100, 'a'), &record);
  ParsedRecord parsed;
  EXPECT_EQ(ParseRecord(record, 99, &parsed), RecordParse::kBadLength);
  EXPECT_EQ(ClaimedRecordSize(record), record.size());
}

TEST(RecordFormatTest, SegmentHeaderRoundTripAndFlips) {
  std::string header = EncodeSegmentHeader(123456789);
  ASSERT_EQ(header.size(), kSegmentHeaderSize);
  EXPECT_EQ(header.substr(0, 6), "WALSEG");
  auto decoded = DecodeSegmentHeader(header);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded.value(), 123456789u);
  for (size_t position = 0; position < 28; ++position) {  // bytes 28..31 are reserved padding
    std::string damaged = header;
    damaged[position] = static_cast<char>(damaged[position] ^ 0x10);
    EXPECT_EQ(DecodeSegmentHeader(damaged).status().code(), StatusCode::kCorruption) << position;
  }
  EXPECT_FALSE(DecodeSegmentHeader(header.substr(0, 31)).ok());
}

TEST(RecordFormatTest, SegmentFileNames) {
  EXPECT_EQ(SegmentFileName(0), "00000000000000000000.seg");
  EXPECT_EQ(SegmentFileName(42), "00000000000000000042.seg");
  EXPECT_EQ(ParseSegmentFileName(SegmentFileName(18446744073709551615ull)), 18446744073709551615ull);
  EXPECT_EQ(ParseSegmentFileName("00000000000000000042.seg"), 42u);
  EXPECT_FALSE(ParseSegmentFileName("0000000000000000042.seg"));
  EXPECT_FALSE(ParseSegmentFileName("00000000000000000042.seg.tmp"));
  EXPECT_FALSE(ParseSegmentFileName("0000000000000000004x.seg"));
  EXPECT_FALSE(ParseSegmentFileName("99999999999999999999.seg"));  // overflows u64
  EXPECT_FALSE(ParseSegmentFileName("consumer.checkpoint"));
}

TEST(RecordFormatTest, CheckpointRoundTripAndDamage) {
  std::string contents = EncodeCheckpoint(987654321);
  auto decoded = DecodeCheckpoint(contents);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded.value(), 987654321u);
  for (size_t position = 0; position < 20; ++position) {
    std::string damaged = contents;
    damaged[position] = static_cast<char>(damaged[position] ^ 0x01);
    EXPECT_EQ(DecodeCheckpoint(damaged).status().code(), StatusCode::kCorruption) << position;
  }
  EXPECT_EQ(DecodeCheckpoint(contents.substr(0, 10)).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(DecodeCheckpoint("").status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace wal::log
