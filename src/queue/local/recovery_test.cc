#include <gtest/gtest.h>

#include <future>

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

TEST_F(LocalRecoveryTest, LoweringMaxPayloadBytesDoesNotCutALargerLastRecordAsATornTail) {
  config_.max_payload_bytes = 400 << 10;
  Open();
  AppendOrDie(Entry(std::string(300 << 10, 'x'), Clock::now() + 1h));
  ASSERT_EQ(backend_->Stats().pending, 1u);
  ASSERT_TRUE(backend_->Close().ok());
  config_.max_payload_bytes = 100 << 10;
  Open();
  EXPECT_EQ(backend_->Stats().pending, 1u);
  config_.max_payload_bytes = 400 << 10;
  Reopen();
  EXPECT_EQ(backend_->Stats().pending, 1u) << "the entry must not have been truncated away";
}

// Config limits apply to new appends only: an acknowledged record larger than
// a limit lowered later is still the log's, in the last segment (where it
// used to be cut as a torn tail) and before it (where the log refused to open).
TEST_F(LocalRecoveryTest, LoweringMaxPayloadBytesKeepsAcknowledgedLargerRecords) {
  config_.max_payload_bytes = 400 << 10;
  config_.backend.settings.Mutable<LocalBackendConfig>().segment_bytes = 64 << 10;
  Open();
  const std::string big(300 << 10, 'b');
  const uint64_t delayed = AppendOrDie(Entry(big, Clock::now() + 1h));
  AppendOrDie(Entry("due", Clock::now() - 1s));
  auto polled = PollOrDie(10);
  ASSERT_EQ(polled.size(), 1u);
  ASSERT_TRUE(DeadLetterWait(polled[0], std::string(350 << 10, 'd')).ok());
  const uint64_t last = AppendOrDie(Entry(std::string(310 << 10, 'l'), Clock::now() + 1h));
  ASSERT_GT(backend_->Stats().segments, 1u) << "the first big record must sit in a non-final segment";
  ASSERT_TRUE(backend_->Close().ok());

  config_.max_payload_bytes = 100 << 10;
  Open();
  BackendStats stats = backend_->Stats();
  EXPECT_EQ(stats.pending, 2u);
  EXPECT_EQ(stats.pending_delayed, 2u);
  EXPECT_EQ(stats.dead_letters, 1u);
  EXPECT_TRUE(stats.error.empty()) << stats.error;
  auto read = backend_->Read(delayed, 10);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_FALSE(read->empty());
  EXPECT_EQ(read->front().id, delayed);
  EXPECT_EQ(read->front().record, big);
  EXPECT_EQ(read->back().id, last);
  auto dead = DeadLetters();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].record.size(), 350u << 10);

  // The lower limit holds for new appends: refused as INVALID_ARGUMENT, nothing stored.
  std::promise<AppendOutcome> refused;
  backend_->Append(Entry(std::string(200 << 10, 'n'), Clock::now()),
                   [&](const AppendOutcome& outcome) { refused.set_value(outcome); });
  AppendOutcome outcome = refused.get_future().get();
  EXPECT_EQ(outcome.durability, Durability::kFalse);
  EXPECT_EQ(outcome.status.code(), StatusCode::kInvalidArgument) << outcome.status.ToString();
  EXPECT_EQ(backend_->Stats().log_end, stats.log_end);
}

}  // namespace
}  // namespace wal::queue::local
