#include "log/record_format.h"

#include <gtest/gtest.h>

#include <string>

namespace wal::log {
namespace {

TEST(RecordFormatTest, RecordRoundTrip) {
  std::string buffer;
  AppendRecord(7, 0, 1, "hello", &buffer);
  AppendRecord(8, 0, 2, "", &buffer);
  AppendRecord(9, 1, 2, std::string(1000, 'x'), &buffer);
  ASSERT_EQ(buffer.size(), EncodedRecordSize(5) + EncodedRecordSize(0) + EncodedRecordSize(1000));

  std::string_view rest(buffer);
  ParsedRecord record;
  ASSERT_EQ(ParseRecord(rest, kFormatVersion, &record), RecordParse::kOk);
  EXPECT_EQ(record.id, 7u);
  EXPECT_EQ(record.payload, "hello");
  EXPECT_EQ(record.group_index, 0u);
  EXPECT_EQ(record.group_count, 1u);
  rest.remove_prefix(record.encoded_size);
  ASSERT_EQ(ParseRecord(rest, kFormatVersion, &record), RecordParse::kOk);
  EXPECT_EQ(record.id, 8u);
  EXPECT_EQ(record.payload, "");
  EXPECT_EQ(record.group_first_id(), 8u);
  rest.remove_prefix(record.encoded_size);
  ASSERT_EQ(ParseRecord(rest, kFormatVersion, &record), RecordParse::kOk);
  EXPECT_EQ(record.id, 9u);
  EXPECT_EQ(record.payload, std::string(1000, 'x'));
  EXPECT_EQ(record.group_index, 1u);
  EXPECT_EQ(record.group_count, 2u);
  EXPECT_EQ(record.group_first_id(), 8u);
  rest.remove_prefix(record.encoded_size);
  EXPECT_TRUE(rest.empty());
}

TEST(RecordFormatTest, VersionOneRecordsStillParse) {
  std::string buffer;
  AppendRecordV1(41, "old", &buffer);
  AppendRecordV1(42, std::string(300, 'o'), &buffer);
  ASSERT_EQ(buffer.size(), 2 * kRecordHeaderSizeV1 + 303);
  ParsedRecord record;
  ASSERT_EQ(ParseRecord(buffer, kFormatVersionV1, &record), RecordParse::kOk);
  EXPECT_EQ(record.id, 41u);
  EXPECT_EQ(record.payload, "old");
  EXPECT_EQ(record.group_count, 1u);
  EXPECT_EQ(ClaimedRecordSize(buffer, kFormatVersionV1), kRecordHeaderSizeV1 + 3);
  ASSERT_EQ(ParseRecord(std::string_view(buffer).substr(record.encoded_size), kFormatVersionV1, &record),
            RecordParse::kOk);
  EXPECT_EQ(record.id, 42u);
  // A record of one version never passes as the other.
  EXPECT_NE(ParseRecord(buffer, kFormatVersion, &record), RecordParse::kOk);
  std::string current;
  AppendRecord(41, 0, 1, "old", &current);
  EXPECT_NE(ParseRecord(current, kFormatVersionV1, &record), RecordParse::kOk);
}

TEST(RecordFormatTest, EverySingleByteFlipIsDetected) {
  for (uint32_t version : {kFormatVersionV1, kFormatVersion}) {
    std::string record;
    if (version == kFormatVersion) {
      AppendRecord(0x0102030405060708ull, 2, 5, "payload with some bytes", &record);
    } else {
      AppendRecordV1(0x0102030405060708ull, "payload with some bytes", &record);
    }
    for (size_t position = 0; position < record.size(); ++position) {
      for (int bit = 0; bit < 8; ++bit) {
        std::string damaged = record;
        damaged[position] = static_cast<char>(damaged[position] ^ (1 << bit));
        ParsedRecord parsed;
        EXPECT_NE(ParseRecord(damaged, version, &parsed), RecordParse::kOk)
            << "version " << version << ": flip of bit " << bit << " at byte " << position << " went unnoticed";
      }
      // Replacing the byte with arbitrary values must be caught too.
      for (int value : {0x00, 0xFF, 0x5A}) {
        std::string damaged = record;
        if (static_cast<unsigned char>(damaged[position]) == value) continue;
        damaged[position] = static_cast<char>(value);
        ParsedRecord parsed;
        EXPECT_NE(ParseRecord(damaged, version, &parsed), RecordParse::kOk)
            << "version " << version << ": byte " << position << " = " << value;
      }
    }
  }
}

TEST(RecordFormatTest, TruncatedRecordIsIncomplete) {
  std::string record;
  AppendRecord(1, 0, 1, "abcdef", &record);
  for (size_t length = 0; length < record.size(); ++length) {
    ParsedRecord parsed;
    EXPECT_EQ(ParseRecord(std::string_view(record).substr(0, length), kFormatVersion, &parsed),
              RecordParse::kIncomplete);
  }
}

TEST(RecordFormatTest, LengthBeyondTheFormatMaximumIsRejectedBeforeReading) {
  std::string record;
  AppendRecord(1, 0, 1, std::string(100, 'a'), &record);
  EXPECT_EQ(ClaimedRecordSize(record, kFormatVersion), record.size());
  std::string oversized = record;
  const uint32_t length = static_cast<uint32_t>(kMaxRecordBytes + 1);
  for (int i = 0; i < 4; ++i) oversized[4 + i] = static_cast<char>((length >> (8 * i)) & 0xFF);
  ParsedRecord parsed;
  EXPECT_EQ(ParseRecord(oversized, kFormatVersion, &parsed), RecordParse::kBadLength);
  EXPECT_EQ(MaxRecordBytes(kFormatVersionV1), UINT32_MAX);
}

TEST(RecordFormatTest, ImpossibleGroupFieldsAreRejected) {
  ParsedRecord parsed;
  std::string zeros(64, '\0');  // what a power loss leaves where pages never arrived
  EXPECT_EQ(ParseRecord(zeros, kFormatVersion, &parsed), RecordParse::kBadGroup);
  std::string record;
  AppendRecord(3, 3, 3, "x", &record);  // index == count
  EXPECT_EQ(ParseRecord(record, kFormatVersion, &parsed), RecordParse::kBadGroup);
  record.clear();
  AppendRecord(3, 4, 9, "x", &record);  // the group would start before id 0
  EXPECT_EQ(ParseRecord(record, kFormatVersion, &parsed), RecordParse::kBadGroup);
}

TEST(RecordFormatTest, SegmentHeaderRoundTripAndFlips) {
  std::string header = EncodeSegmentHeader(123456789);
  ASSERT_EQ(header.size(), kSegmentHeaderSize);
  EXPECT_EQ(header.substr(0, 6), "WALSEG");
  auto decoded = DecodeSegmentHeader(header);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->first_id, 123456789u);
  EXPECT_EQ(decoded->gap_start_id, 123456789u);
  EXPECT_EQ(decoded->version, kFormatVersion);
  EXPECT_EQ(decoded->size, kSegmentHeaderSize);
  for (size_t position = 0; position < 36; ++position) {  // bytes 36..39 are reserved padding
    std::string damaged = header;
    damaged[position] = static_cast<char>(damaged[position] ^ 0x10);
    EXPECT_EQ(DecodeSegmentHeader(damaged).status().code(), StatusCode::kCorruption) << position;
  }
  EXPECT_FALSE(DecodeSegmentHeader(header.substr(0, kSegmentHeaderSize - 1)).ok());

  auto with_gap = DecodeSegmentHeader(EncodeSegmentHeader(500, 450));
  ASSERT_TRUE(with_gap.ok());
  EXPECT_EQ(with_gap->gap_start_id, 450u);
  EXPECT_EQ(DecodeSegmentHeader(EncodeSegmentHeader(500, 501)).status().code(), StatusCode::kCorruption);
}

TEST(RecordFormatTest, VersionOneSegmentHeaderStillDecodes) {
  std::string header = EncodeSegmentHeaderV1(77);
  ASSERT_EQ(header.size(), kSegmentHeaderSizeV1);
  auto decoded = DecodeSegmentHeader(header);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->version, kFormatVersionV1);
  EXPECT_EQ(decoded->first_id, 77u);
  EXPECT_EQ(decoded->gap_start_id, 77u);
  EXPECT_EQ(decoded->size, kSegmentHeaderSizeV1);
  for (size_t position = 0; position < 28; ++position) {
    std::string damaged = header;
    damaged[position] = static_cast<char>(damaged[position] ^ 0x10);
    EXPECT_EQ(DecodeSegmentHeader(damaged).status().code(), StatusCode::kCorruption) << position;
  }
  std::string future = EncodeSegmentHeader(77);
  future[8] = 3;
  EXPECT_NE(DecodeSegmentHeader(future).status().message().find("unsupported segment format version 3"),
            std::string::npos);
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
