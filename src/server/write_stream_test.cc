#include "server/write_stream.h"

#include <gtest/gtest.h>

namespace wal::server {
namespace {

TEST(StreamWindowTest, ReadsOnlyWhileUnderTheWindowAndDrainsOnceClosedAndAnswered) {
  StreamWindowState state;
  EXPECT_TRUE(state.MayRead(2));
  state.unanswered = 1;
  state.unsent = 1;
  EXPECT_FALSE(state.MayRead(2));  // answers waiting for the wire count too
  state.unsent = 0;
  EXPECT_TRUE(state.MayRead(2));
  state.reading = true;
  EXPECT_FALSE(state.MayRead(2));  // one read at a time
  state.reading = false;
  state.closed = true;
  EXPECT_FALSE(state.MayRead(2));
  EXPECT_FALSE(state.Drained());
  state.unanswered = 0;
  EXPECT_TRUE(state.Drained());
}

}  // namespace
}  // namespace wal::server
