#include <gtest/gtest.h>

#include "log/record_format.h"
#include "queue/local/local_backend_fixture.h"

// Recovery of the local backend from what is on disk: the logs and their
// checkpoints, never the namespace config.

namespace wal::queue::local {
namespace {

class LocalRecoveryTest : public LocalBackendFixture {
 protected:
  void WriteCheckpoint(const std::string& sub, uint64_t consumed) {
    ASSERT_TRUE(DefaultFileSystem()
                    ->WriteFileAtomically(JoinPath(JoinPath(data_dir_, sub), std::string(log::kCheckpointFileName)),
                                          log::EncodeCheckpoint(consumed))
                    .ok());
  }
};

TEST_F(LocalRecoveryTest, CheckpointPastTheLogEndIsReportedAndSkipsNoDelivery) {
  Open();
  const uint64_t first = AppendOrDie(Entry("one", Clock::now() - 1s));
  const uint64_t second = AppendOrDie(Entry("two", Clock::now() - 1s));
  ASSERT_TRUE(backend_->Close().ok());
  // The log end moved back under its checkpoint (a lost tail, a restored backup).
  WriteCheckpoint("log", 1000);
  Open();
  BackendStats stats = backend_->Stats();
  EXPECT_EQ(stats.pending, 2u) << "the stored entries were never retired";
  EXPECT_NE(stats.error.find("checkpoint"), std::string::npos) << stats.error;
  EXPECT_NE(stats.error.find("1000"), std::string::npos) << stats.error;
  // A new entry gets the next id, below the checkpoint, and is delivered too.
  const uint64_t third = AppendOrDie(Entry("three", Clock::now() - 1s));
  EXPECT_EQ(third, second + 1);
  auto polled = PollOrDie(10);
  ASSERT_EQ(polled.size(), 3u);
  EXPECT_EQ(polled[0].id, first);
  EXPECT_EQ(polled[2].id, third);
  ASSERT_TRUE(CompleteWait(polled[0]).ok());
  // Retirements made meanwhile hold across a reopen; the checkpoint is still
  // reported until the log end passes it.
  Reopen();
  stats = backend_->Stats();
  EXPECT_EQ(stats.pending, 2u);
  EXPECT_FALSE(stats.error.empty());
  polled = PollOrDie(10);
  ASSERT_EQ(polled.size(), 2u);
  EXPECT_EQ(polled[0].id, second);
}

TEST_F(LocalRecoveryTest, DeadLetterCheckpointPastItsEndKeepsTheDeadLetters) {
  Open();
  AppendOrDie(Entry("doomed", Clock::now() - 1s));
  auto polled = PollOrDie(10);
  ASSERT_EQ(polled.size(), 1u);
  ASSERT_TRUE(DeadLetterWait(polled[0], "dead").ok());
  ASSERT_TRUE(backend_->Close().ok());
  WriteCheckpoint("dlq", 500);
  Open();
  EXPECT_EQ(backend_->Stats().dead_letters, 1u);
  EXPECT_FALSE(backend_->Stats().error.empty());
  ASSERT_EQ(DeadLetters().size(), 1u);
  EXPECT_TRUE(PollOrDie(10).empty()) << "the dead-lettered original stays retired";
}

}  // namespace
}  // namespace wal::queue::local
