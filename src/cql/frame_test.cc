#include "cql/frame.h"

#include <gtest/gtest.h>

#include "cql/testing/hex.h"

namespace wal::cql {
namespace {

using testing::Hex;

TEST(CqlFrameTest, EncodesARequestHeaderAsTheSpecLaysItOut) {
  // version 0x04 (request v4), flags 0, stream 0x0001, opcode OPTIONS (0x05), length 0
  Result<std::string> frame = EncodeFrame(Direction::kRequest, 1, Opcode::kOptions, "");
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(*frame, Hex("04 00 0001 05 00000000"));
  // QUERY (0x07) on stream 0x7fff with a 3-byte body and the tracing flag
  frame = EncodeFrame(Direction::kRequest, 0x7fff, Opcode::kQuery, "abc", kFlagTracing);
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(*frame, Hex("04 02 7fff 07 00000003") + "abc");
}

TEST(CqlFrameTest, DecodesAResponseHeader) {
  // version 0x84 (response v4), warning flag, stream -1 (an event), opcode EVENT, length 0x0102
  Result<FrameHeader> header = DecodeHeader(Hex("84 08 ffff 0c 00000102"), Direction::kResponse);
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  EXPECT_EQ(header->version, 0x84);
  EXPECT_EQ(header->flags, kFlagWarning);
  EXPECT_EQ(header->stream, -1);
  EXPECT_EQ(header->opcode, Opcode::kEvent);
  EXPECT_EQ(header->length, 0x102u);
}

TEST(CqlFrameTest, RejectsWrongVersionDirectionCompressionAndOversizedBodies) {
  EXPECT_EQ(DecodeHeader(Hex("85 00 0000 02 00000000"), Direction::kResponse).status().code(),
            StatusCode::kCorruption);  // v5
  EXPECT_EQ(DecodeHeader(Hex("04 00 0000 02 00000000"), Direction::kResponse).status().code(),
            StatusCode::kCorruption);  // a request where a response belongs
  EXPECT_EQ(DecodeHeader(Hex("84 01 0000 08 00000004"), Direction::kResponse).status().code(),
            StatusCode::kCorruption);  // compressed
  EXPECT_EQ(DecodeHeader(Hex("84 00 0000 08 10000001"), Direction::kResponse).status().code(),
            StatusCode::kCorruption);  // 256 MiB + 1
  EXPECT_EQ(DecodeHeader(Hex("84 00 0000"), Direction::kResponse).status().code(), StatusCode::kCorruption);
}

TEST(CqlFrameTest, ParserWaitsForWholeFramesAcrossArbitrarySplits) {
  const std::string stream = Hex("84 00 0001 02 00000000") +             // READY on stream 1
                             Hex("84 00 0002 08 00000004 00000001");   // RESULT Void on stream 2
  for (size_t split = 0; split <= stream.size(); ++split) {
    FrameParser parser(Direction::kResponse);
    std::vector<Frame> frames;
    for (std::string_view part : {std::string_view(stream).substr(0, split), std::string_view(stream).substr(split)}) {
      parser.Append(part);
      while (true) {
        Result<std::optional<Frame>> next = parser.Next();
        ASSERT_TRUE(next.ok()) << next.status().ToString();
        if (!next->has_value()) break;
        frames.push_back(std::move(**next));
      }
    }
    ASSERT_EQ(frames.size(), 2u) << "split at " << split;
    EXPECT_EQ(frames[0].header.opcode, Opcode::kReady);
    EXPECT_EQ(frames[0].header.stream, 1);
    EXPECT_EQ(frames[1].header.stream, 2);
    EXPECT_EQ(frames[1].body, Hex("00000001"));
    EXPECT_EQ(parser.buffered(), 0u);
  }
}

TEST(CqlFrameTest, ParserErrorOnGarbageIsSticky) {
  FrameParser parser(Direction::kResponse);
  parser.Append("HTTP/1.1 400 Bad Request\r\n");
  EXPECT_FALSE(parser.Next().ok());
  parser.Append(Hex("84 00 0001 02 00000000"));
  EXPECT_FALSE(parser.Next().ok());
}

TEST(CqlFrameTest, ParserHonoursItsBodyLimit) {
  FrameParser parser(Direction::kResponse, 16);
  parser.Append(Hex("84 00 0001 08 00000011"));  // 17 bytes promised
  Result<std::optional<Frame>> next = parser.Next();
  ASSERT_FALSE(next.ok());
  EXPECT_NE(next.status().message().find("exceeds the limit of 16"), std::string::npos);
}

TEST(CqlFrameTest, ParsesRequestsForTheServerSide) {
  FrameParser parser(Direction::kRequest);
  parser.Append(Hex("04 00 0003 05 00000000"));
  Result<std::optional<Frame>> next = parser.Next();
  ASSERT_TRUE(next.ok());
  ASSERT_TRUE(next->has_value());
  EXPECT_EQ((*next)->header.opcode, Opcode::kOptions);
  EXPECT_EQ((*next)->header.stream, 3);
}

}  // namespace
}  // namespace wal::cql
