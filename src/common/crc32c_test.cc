#include "common/crc32c.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>

namespace wal::crc32c {
namespace {

TEST(Crc32cTest, KnownVectors) {
  const char* digits = "123456789";
  EXPECT_EQ(Value(digits, 9), 0xE3069283u);
  EXPECT_EQ(ExtendSoftware(0, digits, 9), 0xE3069283u);

  // RFC 3720 (iSCSI) appendix B.4 vectors.
  std::string zeros(32, '\0');
  EXPECT_EQ(Value(zeros.data(), zeros.size()), 0x8A9136AAu);
  std::string ones(32, '\xff');
  EXPECT_EQ(Value(ones.data(), ones.size()), 0x62A8AB43u);
  std::string ascending(32, '\0');
  for (int i = 0; i < 32; ++i) ascending[i] = static_cast<char>(i);
  EXPECT_EQ(Value(ascending.data(), ascending.size()), 0x46DD794Eu);
  std::string descending(32, '\0');
  for (int i = 0; i < 32; ++i) descending[i] = static_cast<char>(31 - i);
  EXPECT_EQ(Value(descending.data(), descending.size()), 0x113FDB5Cu);

  EXPECT_EQ(Value("", 0), 0u);
}

TEST(Crc32cTest, ExtendEqualsValueOfConcatenation) {
  std::string text = "hello, write-ahead world";
  for (size_t split = 0; split <= text.size(); ++split) {
    uint32_t prefix = Value(text.data(), split);
    EXPECT_EQ(Extend(prefix, text.data() + split, text.size() - split), Value(text.data(), text.size()));
  }
}

TEST(Crc32cTest, HardwareMatchesSoftwareOnRandomData) {
  std::mt19937_64 random(42);
  std::string buffer(4096 + 16, '\0');
  for (auto& c : buffer) c = static_cast<char>(random());
  for (int trial = 0; trial < 2000; ++trial) {
    size_t offset = random() % 16;  // exercise unaligned starts
    size_t length = random() % 4096;
    uint32_t seed = static_cast<uint32_t>(random());
    ASSERT_EQ(Extend(seed, buffer.data() + offset, length), ExtendSoftware(seed, buffer.data() + offset, length))
        << "offset " << offset << " length " << length;
  }
  std::cout << "crc32c hardware acceleration: " << (HardwareAccelerated() ? "yes" : "no") << "\n";
}

TEST(Crc32cTest, MaskRoundTripsAndChangesValue) {
  uint32_t crc = Value("foo", 3);
  EXPECT_NE(Mask(crc), crc);
  EXPECT_NE(Mask(Mask(crc)), crc);
  EXPECT_EQ(Unmask(Mask(crc)), crc);
  EXPECT_EQ(Unmask(Unmask(Mask(Mask(crc)))), crc);
  std::mt19937 random(7);
  for (int i = 0; i < 1000; ++i) {
    uint32_t value = random();
    ASSERT_EQ(Unmask(Mask(value)), value);
  }
}

}  // namespace
}  // namespace wal::crc32c
