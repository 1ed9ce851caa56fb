#include <gtest/gtest.h>

#include "queue/local/local_backend_fixture.h"

// Dead letters on the local backend: the move to the DLQ, its crash window,
// redrive and purge.

namespace wal::queue::local {
namespace {

class LocalDeadLetterTest : public LocalBackendFixture {
 protected:
  // The state of the main log's only entry, as the admin reads show it.
  StoredState OnlyState() {
    auto read = backend_->Read(0, 10);
    EXPECT_TRUE(read.ok()) << read.status().ToString();
    EXPECT_EQ(read.ok() ? read->size() : 0, 1u);
    return read.ok() && read->size() == 1 ? read->front().state : StoredState::kUnknown;
  }
};

TEST_F(LocalDeadLetterTest, DeadLetterMovesToDlqAndSurvivesReopen) {
  Open();
  const uint64_t id = AppendOrDie(Entry("live", Clock::now() - 1s, "k"));
  AppendOrDie(Entry("other", Clock::now() + 1h));
  auto polled = PollOrDie(10);
  ASSERT_EQ(polled.size(), 1u);
  ASSERT_TRUE(DeadLetterWait(polled[0], "dead:" + std::to_string(id)).ok());
  for (int round = 0; round < 2; ++round) {
    auto dead = DeadLetters();
    ASSERT_EQ(dead.size(), 1u) << round;
    EXPECT_EQ(dead[0].record, "dead:" + std::to_string(id));
    BackendStats stats = backend_->Stats();
    EXPECT_EQ(stats.dead_letters, 1u);
    EXPECT_EQ(stats.pending, 1u);
    EXPECT_EQ(stats.in_flight, 0u);
    EXPECT_TRUE(PollOrDie(10).empty());
    Reopen();
  }
}

TEST_F(LocalDeadLetterTest, CrashBetweenDlqAppendAndRetireLeavesNoDuplicate) {
  options_.crash_after_dead_letter_append_for_test = true;
  Open();
  AppendOrDie(Entry("doomed", Clock::now() - 1s));
  auto polled = PollOrDie(10);
  ASSERT_EQ(polled.size(), 1u);
  EXPECT_EQ(DeadLetterWait(polled[0], "dead").code(), StatusCode::kInternal);
  options_.crash_after_dead_letter_append_for_test = false;
  for (int round = 0; round < 2; ++round) {
    Reopen();
    EXPECT_TRUE(PollOrDie(10, 50ms).empty()) << "the dead-lettered original came back, round " << round;
    EXPECT_EQ(backend_->Stats().pending, 0u);
    auto dead = DeadLetters();
    ASSERT_EQ(dead.size(), 1u);
    EXPECT_EQ(dead[0].record, "dead");
    EXPECT_EQ(OnlyState(), StoredState::kDeadLettered) << "recovery retires the orphan as dead-lettered";
  }
  // Even after the DLQ entry is gone, the original stays retired, and reads
  // dead-lettered, not delivered.
  auto purged = backend_->PurgeDeadLetters({});
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, 1u);
  ASSERT_TRUE(backend_->RunMaintenance().ok());
  Reopen();
  EXPECT_TRUE(PollOrDie(10).empty());
  EXPECT_EQ(backend_->Stats().dead_letters, 0u);
  EXPECT_EQ(OnlyState(), StoredState::kDeadLettered);
}

TEST_F(LocalDeadLetterTest, RedriveMovesBackAndIsPollable) {
  Open();
  for (int i = 0; i < 3; ++i) AppendOrDie(Entry("r" + std::to_string(i), Clock::now() - 1s));
  for (auto& d : PollOrDie(10)) ASSERT_TRUE(DeadLetterWait(d, "dead-" + d.entry.record).ok());
  auto dead = DeadLetters();
  ASSERT_EQ(dead.size(), 3u);
  RedriveTransform transform = [](const std::string& record) -> Result<QueueEntry> {
    return QueueEntry{"redriven:" + record, Clock::now() - 1s, ""};
  };
  auto moved = backend_->RedriveDeadLetters({dead[1].id, 12345}, transform);
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_EQ(*moved, 1u);
  EXPECT_EQ(DeadLetters().size(), 2u);
  auto polled = PollOrDie(10);
  ASSERT_EQ(polled.size(), 1u);
  EXPECT_EQ(polled[0].entry.record, "redriven:dead-r1");
  ASSERT_TRUE(CompleteWait(polled[0]).ok());
  // A failing transform stops the redrive and moves nothing.
  auto failed = backend_->RedriveDeadLetters(
      {}, [](const std::string&) -> Result<QueueEntry> { return InvalidArgument("no"); });
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(DeadLetters().size(), 2u);
  moved = backend_->RedriveDeadLetters({}, transform);
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(*moved, 2u);
  EXPECT_TRUE(DeadLetters().empty());
  Reopen();
  EXPECT_TRUE(DeadLetters().empty());
  EXPECT_EQ(backend_->Stats().dead_letters, 0u);
  polled = PollOrDie(10);
  ASSERT_EQ(polled.size(), 2u);
  EXPECT_EQ(polled[0].entry.record, "redriven:dead-r0");
  EXPECT_EQ(polled[1].entry.record, "redriven:dead-r2");
}

TEST_F(LocalDeadLetterTest, PurgeDropsDeadLetters) {
  Open();
  for (int i = 0; i < 3; ++i) AppendOrDie(Entry("p" + std::to_string(i), Clock::now() - 1s));
  for (auto& d : PollOrDie(10)) ASSERT_TRUE(DeadLetterWait(d, d.entry.record).ok());
  auto dead = DeadLetters();
  ASSERT_EQ(dead.size(), 3u);
  auto purged = backend_->PurgeDeadLetters({dead[0].id, dead[0].id, 777});
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, 1u);
  dead = DeadLetters();
  ASSERT_EQ(dead.size(), 2u);
  EXPECT_EQ(dead[0].record, "p1");
  Reopen();
  EXPECT_EQ(DeadLetters().size(), 2u);
  purged = backend_->PurgeDeadLetters({});
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, 2u);
  Reopen();
  EXPECT_TRUE(DeadLetters().empty());
  EXPECT_EQ(backend_->Stats().dead_letters, 0u);
  EXPECT_TRUE(PollOrDie(10).empty());
}

}  // namespace
}  // namespace wal::queue::local
