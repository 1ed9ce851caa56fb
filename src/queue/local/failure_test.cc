#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <future>
#include <thread>

#include "common/fault_injecting_file_system.h"
#include "log/record_format.h"
#include "queue/local/local_backend_fixture.h"

// The local backend when its writes fail: a full disk, a refused RETIRE, a
// failed checkpoint. Nothing acknowledged is lost, nothing is handed out in a
// hot loop, and nothing is dead-lettered twice.

namespace wal::queue::local {
namespace {

class LocalFailureTest : public LocalBackendFixture {
 protected:
  // Outlives the backend (which the base fixture resets in TearDown).
  FaultInjectingFileSystem faults_{DefaultFileSystem()};

  // Hands out and "processes" whatever is due for `duration`, like a worker
  // whose every retirement fails; returns how often the entry was handed out.
  int DeliveriesWhileFailing(std::chrono::milliseconds duration,
                             const std::function<Status(const Delivery&)>& retire) {
    int deliveries = 0;
    const auto deadline = std::chrono::steady_clock::now() + duration;
    while (std::chrono::steady_clock::now() < deadline) {
      for (const Delivery& delivery : PollOrDie(10, 20ms)) {
        ++deliveries;
        EXPECT_FALSE(retire(delivery).ok());
      }
    }
    return deliveries;
  }

  // After the fault clears, the entry comes back (within the backoff cap) and
  // its retirement goes through.
  void ExpectDeliveredAfterRecovery(const std::function<Status(const Delivery&)>& retire) {
    std::vector<Delivery> polled;
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (polled.empty() && std::chrono::steady_clock::now() < deadline) polled = PollOrDie(10, 100ms);
    ASSERT_EQ(polled.size(), 1u) << "the entry must not be lost";
    ASSERT_TRUE(retire(polled[0]).ok());
  }
};

// Under ENOSPC a failed retirement released the entry with its past due
// time: one entry was handed out tens of thousands of times a second.
TEST_F(LocalFailureTest, FailedCompleteOnAFullDiskBacksOffInsteadOfLoopingHot) {
  file_system_ = &faults_;
  Open();
  AppendOrDie(Entry("x", Clock::now() - 1s));
  faults_.SetNoSpace(true);
  auto complete = [&](const Delivery& d) { return CompleteWait(d); };
  const int deliveries = DeliveriesWhileFailing(1000ms, complete);
  EXPECT_GE(deliveries, 2) << "a released entry is handed out again";
  EXPECT_LE(deliveries, 6) << "released entries back off exponentially";
  EXPECT_EQ(backend_->LocalStats().released_after_failure, static_cast<uint64_t>(deliveries));
  faults_.SetNoSpace(false);
  ExpectDeliveredAfterRecovery(complete);
  EXPECT_EQ(backend_->Stats().pending, 0u);
}

// On a disk that is really full (no room left at all), new entries are
// refused but retirements and replacements still go through, on the log's
// space reserve, so retention can free the disk again.
TEST_F(LocalFailureTest, OnAFullDiskRetirementsStillGoThroughOnTheReserve) {
  file_system_ = &faults_;
  Open();
  for (int i = 0; i < 3; ++i) AppendOrDie(Entry("e" + std::to_string(i), Clock::now() - 1s));
  auto polled = PollOrDie(10);
  ASSERT_EQ(polled.size(), 3u);
  faults_.SetSpaceLimit(faults_.used_bytes());
  std::promise<AppendOutcome> refused;
  backend_->Append(Entry("new", Clock::now()), [&](const AppendOutcome& o) { refused.set_value(o); });
  const AppendOutcome outcome = refused.get_future().get();
  EXPECT_EQ(outcome.durability, Durability::kFalse);
  EXPECT_EQ(outcome.status.code(), StatusCode::kNoSpace) << outcome.status.ToString();
  EXPECT_TRUE(CompleteWait(polled[0]).ok()) << "a RETIRE may use the reserve";
  EXPECT_TRUE(RescheduleWait(polled[1], Entry("e1 again", Clock::now() + 1h)).ok()) << "so may a replacement";
  EXPECT_TRUE(backend_->RunMaintenance().ok()) << "and the checkpoint";
  EXPECT_EQ(backend_->LocalStats().released_after_failure, 0u);
  ASSERT_TRUE(backend_->Close().ok());
  faults_.SetSpaceLimit(std::nullopt);
  // The checkpoint written on the full disk is durable and covers both
  // retired entries (the lowest ids), so retention can drop them.
  log::LogOptions options;
  options.directory = JoinPath(data_dir_, "log");
  options.preallocate = false;
  auto main_log = log::Log::Open(DefaultFileSystem(), options, nullptr);
  ASSERT_TRUE(main_log.ok()) << main_log.status().ToString();
  EXPECT_GT(main_log.value()->Stats().consumed_id, std::max(polled[0].id, polled[1].id));
}

TEST_F(LocalFailureTest, FailedRescheduleOnAFullDiskBacksOff) {
  file_system_ = &faults_;
  Open();
  AppendOrDie(Entry("attempt=1", Clock::now() - 1s));
  faults_.SetNoSpace(true);
  auto reschedule = [&](const Delivery& d) { return RescheduleWait(d, Entry("attempt=2", Clock::now() - 1s)); };
  const int deliveries = DeliveriesWhileFailing(1000ms, reschedule);
  EXPECT_GE(deliveries, 2);
  EXPECT_LE(deliveries, 6);
  faults_.SetNoSpace(false);
  ExpectDeliveredAfterRecovery(reschedule);
  auto polled = PollOrDie(10, 1000ms);
  ASSERT_EQ(polled.size(), 1u);
  EXPECT_EQ(polled[0].entry.record, "attempt=2");
}

TEST_F(LocalFailureTest, ReplacementTooLargeToStoreBacksOff) {
  config_.max_payload_bytes = 1000;
  Open();
  AppendOrDie(Entry("small", Clock::now() - 1s));
  auto grown = [&](const Delivery& d) { return RescheduleWait(d, Entry(std::string(200 << 10, 'g'), Clock::now())); };
  const int deliveries = DeliveriesWhileFailing(1000ms, grown);
  EXPECT_GE(deliveries, 2);
  EXPECT_LE(deliveries, 6);
}

TEST_F(LocalFailureTest, FailedDeadLetterOnAFullDiskBacksOff) {
  file_system_ = &faults_;
  Open();
  AppendOrDie(Entry("doomed", Clock::now() - 1s));
  faults_.SetNoSpace(true);
  auto dead_letter = [&](const Delivery& d) { return DeadLetterWait(d, "dead"); };
  const int deliveries = DeliveriesWhileFailing(1000ms, dead_letter);
  EXPECT_GE(deliveries, 2);
  EXPECT_LE(deliveries, 6);
  faults_.SetNoSpace(false);
  ExpectDeliveredAfterRecovery(dead_letter);
  EXPECT_EQ(DeadLetters().size(), 1u);
}

// The DLQ append is durable but the RETIRE of the original fails: the original
// is already a dead letter, so it must not be handed out (and dead-lettered)
// again; its RETIRE is retried until it goes through.
TEST_F(LocalFailureTest, FailedRetireAfterADeadLetterNeverDeadLettersTwice) {
  OpenWithFaultyLogs();
  AppendOrDie(Entry("doomed", Clock::now() - 1s));
  auto polled = PollOrDie(10);
  ASSERT_EQ(polled.size(), 1u);
  main_faults_->fail_appends_of_kind = 'R';
  main_faults_->fail_appends = true;
  EXPECT_FALSE(DeadLetterWait(polled[0], "dead").ok());
  // A worker keeps dead-lettering whatever it is handed, as the engine would.
  const auto deadline = std::chrono::steady_clock::now() + 500ms;
  while (std::chrono::steady_clock::now() < deadline) {
    for (const Delivery& again : PollOrDie(10, 50ms)) (void)DeadLetterWait(again, "dead again");
  }
  main_faults_->fail_appends = false;
  const auto retired_by = std::chrono::steady_clock::now() + 10s;
  while (backend_->Stats().pending > 0 && std::chrono::steady_clock::now() < retired_by) {
    for (const Delivery& again : PollOrDie(10, 50ms)) (void)DeadLetterWait(again, "dead again");
  }
  EXPECT_EQ(backend_->Stats().pending, 0u) << "the RETIRE is retried in the background";
  EXPECT_GE(backend_->LocalStats().dead_letter_retire_retries, 1u);
  EXPECT_EQ(backend_->LocalStats().released_after_failure, 0u) << "never released for redelivery";
  auto dead = DeadLetters();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].record, "dead");
  Reopen();
  EXPECT_EQ(DeadLetters().size(), 1u);
  EXPECT_TRUE(PollOrDie(10).empty());
}

TEST_F(LocalFailureTest, AFailedMainCheckpointStillCheckpointsTheDeadLetterLog) {
  OpenWithFaultyLogs();
  for (int i = 0; i < 3; ++i) AppendOrDie(Entry("p" + std::to_string(i), Clock::now() - 1s));
  for (auto& d : PollOrDie(10)) ASSERT_TRUE(DeadLetterWait(d, d.entry.record).ok());
  auto purged = backend_->PurgeDeadLetters({});
  ASSERT_TRUE(purged.ok());
  ASSERT_EQ(*purged, 3u);
  main_faults_->fail_commit_consumed = true;
  EXPECT_FALSE(backend_->RunMaintenance().ok()) << "the main checkpoint's failure is reported";
  auto checkpoint = DefaultFileSystem()->ReadFile(JoinPath(JoinPath(data_dir_, "dlq"), "consumer.checkpoint"));
  ASSERT_TRUE(checkpoint.ok()) << "the dead-letter log was not checkpointed";
  auto consumed = log::DecodeCheckpoint(*checkpoint);
  ASSERT_TRUE(consumed.ok());
  EXPECT_GE(*consumed, 3u);
  main_faults_->fail_commit_consumed = false;
}

}  // namespace
}  // namespace wal::queue::local
