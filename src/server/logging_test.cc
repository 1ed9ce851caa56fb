#include "server/logging.h"

#include <gtest/gtest.h>

namespace wal::server {
namespace {

TEST(LoggingTest, OfferedRequestIdsAreKeptWhenSane) {
  EXPECT_EQ(RequestIdFrom("abc-123"), "abc-123");
  EXPECT_EQ(RequestIdFrom("").size(), 16u);
  EXPECT_EQ(RequestIdFrom("has \"quotes\"").size(), 16u);
  EXPECT_NE(NewRequestId(), NewRequestId());
  {
    RequestIdScope scope("r1");
    EXPECT_EQ(CurrentRequestId(), "r1");
  }
  EXPECT_EQ(CurrentRequestId(), "");
}

}  // namespace
}  // namespace wal::server
