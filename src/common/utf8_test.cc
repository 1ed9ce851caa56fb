#include "common/utf8.h"

#include <gtest/gtest.h>

namespace wal {
namespace {

TEST(Utf8Test, AcceptsWellFormedText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("orders"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x92\xa9"));
  EXPECT_TRUE(IsValidUtf8(std::string("a\0b", 3)));
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF
}

TEST(Utf8Test, RefusesEveryKindOfMalformedSequence) {
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\x80"));              // a lone continuation byte
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // a UTF-16 surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xc3\x28"));          // a bad continuation
}

TEST(Utf8Test, SanitizeReplacesOnlyTheBadBytes) {
  EXPECT_EQ(SanitizeUtf8("ok \xc3\xa9"), "ok \xc3\xa9");
  EXPECT_EQ(SanitizeUtf8("a\xff" "b"), "a\xef\xbf\xbd" "b");
  EXPECT_EQ(SanitizeUtf8("\xe2\x82"), "\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_TRUE(IsValidUtf8(SanitizeUtf8("\xed\xa0\x80\xc0\xaf\xf4\x90\x80\x80")));
}

TEST(Utf8Test, FindsNoncharactersInEveryPlane) {
  EXPECT_EQ(FirstNoncharacter("plain text, \xc3\xa9, \xef\xbf\xbd, \xf0\x9f\x98\x80"), 0u);
  EXPECT_EQ(FirstNoncharacter("a\xef\xbf\xbe" "b"), 0xFFFEu);
  EXPECT_EQ(FirstNoncharacter("\xef\xbf\xbf"), 0xFFFFu);
  EXPECT_EQ(FirstNoncharacter("\xef\xb7\x90"), 0xFDD0u);
  EXPECT_EQ(FirstNoncharacter("\xef\xb7\xaf"), 0xFDEFu);
  EXPECT_EQ(FirstNoncharacter("\xef\xb7\xb0"), 0u);  // U+FDF0 is a character
  EXPECT_EQ(FirstNoncharacter("\xf0\x9f\xbf\xbe"), 0x1FFFEu);
  EXPECT_EQ(FirstNoncharacter("\xf4\x8f\xbf\xbf"), 0x10FFFFu);
  EXPECT_EQ(FirstNoncharacter("\xff\xef\xbf\xbe"), 0xFFFEu);  // past a malformed byte
}

}  // namespace
}  // namespace wal
