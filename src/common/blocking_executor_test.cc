#include "common/blocking_executor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <stdexcept>

namespace wal {
namespace {

TEST(BlockingExecutorTest, ShutdownRunsEverythingQueuedThenRefusesMore) {
  std::atomic<int> ran{0};
  BlockingExecutor executor(2);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  // Both threads are held, so the rest of the tasks stay queued until Shutdown.
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(executor.Submit([released, &ran] { released.wait(); ++ran; }));
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(executor.Submit([&ran] { ++ran; }));
  std::thread releaser([&release] { release.set_value(); });
  executor.Shutdown();
  releaser.join();
  EXPECT_EQ(ran.load(), 102);
  EXPECT_FALSE(executor.Submit([&ran] { ++ran; }));
  executor.Shutdown();  // again: nothing to do
  EXPECT_EQ(ran.load(), 102);
}

TEST(BlockingExecutorTest, ATaskThatThrowsDoesNotEndTheProcessOrThePool) {
  BlockingExecutor executor(1);
  ASSERT_TRUE(executor.Submit([] { throw std::runtime_error("task failed"); }));
  std::promise<void> after;
  ASSERT_TRUE(executor.Submit([&after] { after.set_value(); }));
  after.get_future().wait();
}

}  // namespace
}  // namespace wal
