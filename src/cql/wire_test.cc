#include "cql/wire.h"

#include <gtest/gtest.h>

#include "cql/testing/hex.h"

namespace wal::cql {
namespace {

using testing::Hex;

TEST(CqlWireTest, ReadsEveryNotationBigEndian) {
  // [byte] 7f, [short] 0102, [int] -2, [long] 1, [string] "ab", [long string] "c",
  // [bytes] "d", [bytes] null, [short bytes] "ef", [inet] 127.0.0.1:9042
  const std::string input = Hex("7f 0102 fffffffe 0000000000000001") + Hex("0002") + "ab" + Hex("00000001") + "c" +
                            Hex("00000001") + "d" + Hex("ffffffff") + Hex("0002") + "ef" + Hex("04 7f000001 00002352");
  WireReader reader(input);
  EXPECT_EQ(reader.Byte(), 0x7f);
  EXPECT_EQ(reader.Short(), 0x0102);
  EXPECT_EQ(reader.Int(), -2);
  EXPECT_EQ(reader.Long(), 1);
  EXPECT_EQ(reader.String(), "ab");
  EXPECT_EQ(reader.LongString(), "c");
  EXPECT_EQ(reader.Bytes(), std::optional<std::string_view>("d"));
  EXPECT_EQ(reader.Bytes(), std::nullopt);
  EXPECT_EQ(reader.ShortBytes(), "ef");
  Inet inet = reader.ReadInet();
  EXPECT_EQ(inet.address, Hex("7f000001"));
  EXPECT_EQ(inet.port, 9042);
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ(reader.remaining(), 0u);
}

TEST(CqlWireTest, ReadsStringListMapMultimapAndBytesMap) {
  // [string list] ["x","yz"]
  const std::string list = Hex("0002 0001") + "x" + Hex("0002") + "yz";
  // [string map] {"k":"v"}
  const std::string map = Hex("0001 0001") + "k" + Hex("0001") + "v";
  // [string multimap] {"k":["a","b"]}
  const std::string multimap = Hex("0001 0001") + "k" + Hex("0002 0001") + "a" + Hex("0001") + "b";
  // [bytes map] {"p": null}
  const std::string bytes_map = Hex("0001 0001") + "p" + Hex("ffffffff");
  const std::string input = list + map + multimap + bytes_map;
  WireReader reader(input);
  EXPECT_EQ(reader.StringList(), (std::vector<std::string>{"x", "yz"}));
  EXPECT_EQ(reader.StringMap(), (std::map<std::string, std::string>{{"k", "v"}}));
  EXPECT_EQ(reader.StringMultimap(), (std::map<std::string, std::vector<std::string>>{{"k", {"a", "b"}}}));
  auto payload = reader.BytesMap();
  ASSERT_EQ(payload.size(), 1u);
  EXPECT_FALSE(payload["p"].has_value());
  EXPECT_TRUE(reader.ok());
}

TEST(CqlWireTest, TruncatedInputIsAStickyErrorNamingTheOffset) {
  const std::string input = Hex("0005") + "ab";  // [string] of 5 with 2 bytes
  WireReader reader(input);
  EXPECT_EQ(reader.String(), "");
  EXPECT_FALSE(reader.ok());
  EXPECT_EQ(reader.status().code(), StatusCode::kCorruption);
  EXPECT_NE(reader.status().message().find("[string] needs 5 bytes, 2 left"), std::string::npos)
      << reader.status().message();
  EXPECT_EQ(reader.Int(), 0);  // inert after the first error
  EXPECT_NE(reader.status().message().find("offset 2"), std::string::npos);
}

TEST(CqlWireTest, HostileCountsFailBeforeAnyLoop) {
  const std::string promise_many = Hex("ffff");  // 65535 strings promised, none present
  WireReader list(promise_many);
  EXPECT_TRUE(list.StringList().empty());
  EXPECT_FALSE(list.ok());
  const std::string minus_one = Hex("ffffffff");
  WireReader negative(minus_one);
  EXPECT_FALSE(negative.CheckCount(negative.Int(), 1, "thing"));
  const std::string five_byte_address = Hex("05 0102030405 00000000");
  WireReader inet(five_byte_address);
  inet.ReadInet();
  EXPECT_FALSE(inet.ok());
  const std::string negative_length = Hex("80000000");
  WireReader long_string(negative_length);
  EXPECT_EQ(long_string.LongString(), "");
  EXPECT_FALSE(long_string.ok());
}

TEST(CqlWireTest, WritesEveryNotationBigEndian) {
  WireWriter writer;
  writer.Byte(0x7f);
  writer.Short(0x0102);
  writer.Int(-2);
  writer.Long(1);
  writer.String("ab");
  writer.LongString("c");
  writer.Bytes("d");
  writer.Bytes(std::nullopt);
  writer.ShortBytes("ef");
  writer.StringList({"x"});
  writer.StringMap({{"k", "v"}});
  ASSERT_TRUE(writer.ok());
  EXPECT_EQ(writer.data(), Hex("7f 0102 fffffffe 0000000000000001 0002") + "ab" + Hex("00000001") + "c" +
                               Hex("00000001") + "d" + Hex("ffffffff 0002") + "ef" + Hex("0001 0001") + "x" +
                               Hex("0001 0001") + "k" + Hex("0001") + "v");
}

TEST(CqlWireTest, WriterRefusesAStringOverTheShortLimit) {
  WireWriter writer;
  writer.String(std::string(65536, 'a'));
  EXPECT_FALSE(writer.ok());
  EXPECT_EQ(writer.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(writer.Finish().ok());
}

}  // namespace
}  // namespace wal::cql
