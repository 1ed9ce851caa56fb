#include <gtest/gtest.h>

#include <future>
#include <map>

#include "log/log.h"
#include "queue/local/envelope.h"
#include "queue/local/local_backend_fixture.h"

// How each retired entry ended, as the local backend's reads show it: from the
// RETIRE outcomes and `supersedes` links in the log, live and after a reopen,
// below the consumed checkpoint too.

namespace wal::queue::local {
namespace {

class LocalRetiredStateTest : public LocalBackendFixture {
 protected:
  std::map<std::string, StoredState> States() {
    std::map<std::string, StoredState> states;
    auto read = backend_->Read(0, 1000);
    EXPECT_TRUE(read.ok()) << read.status().ToString();
    if (read.ok()) {
      for (const StoredEntry& entry : *read) states[entry.record] = entry.state;
    }
    return states;
  }
};

TEST_F(LocalRetiredStateTest, ReadsTellDeliveredDeadLetteredAndSupersededApartAcrossReopens) {
  Open();
  for (const char* record : {"delivered", "dead", "retried", "held"}) AppendOrDie(Entry(record, Clock::now() - 1s));
  AppendOrDie(Entry("delayed", Clock::now() + 1h));
  auto polled = PollOrDie(10);
  ASSERT_EQ(polled.size(), 4u);
  ASSERT_TRUE(CompleteWait(polled[0]).ok());
  ASSERT_TRUE(DeadLetterWait(polled[1], "dead letter").ok());
  ASSERT_TRUE(RescheduleWait(polled[2], Entry("retry", Clock::now() + 1h)).ok());
  const std::map<std::string, StoredState> live = {
      {"delivered", StoredState::kDelivered}, {"dead", StoredState::kDeadLettered},
      {"retried", StoredState::kSuperseded},  {"held", StoredState::kInFlight},
      {"delayed", StoredState::kPending},     {"retry", StoredState::kPending}};
  EXPECT_EQ(States(), live);

  // The checkpoint passes the first three (the held one pins it), so the next
  // open starts its scan after them and must still read how they ended.
  ASSERT_TRUE(backend_->RunMaintenance().ok());
  EXPECT_EQ(backend_->Stats().consumed, polled[3].id);
  std::map<std::string, StoredState> reopened = live;
  reopened["held"] = StoredState::kPending;
  for (int round = 0; round < 2; ++round) {
    Reopen();
    EXPECT_EQ(States(), reopened) << "round " << round;
  }
  auto again = PollOrDie(10);
  ASSERT_EQ(again.size(), 1u);
  ASSERT_TRUE(CompleteWait(again[0]).ok());
  reopened["held"] = StoredState::kDelivered;
  EXPECT_EQ(States(), reopened);
  Reopen();
  EXPECT_EQ(States(), reopened);
}

// A RETIRE written by an older binary carries no outcome: its entries read as
// done, and the log opens as before.
TEST_F(LocalRetiredStateTest, ARetireWithoutOutcomesReadsDone) {
  Open();
  const uint64_t id = AppendOrDie(Entry("old", Clock::now() + 1h));
  ASSERT_TRUE(backend_->Close().ok());
  backend_.reset();
  {
    log::LogOptions options;
    options.directory = JoinPath(data_dir_, "log");
    options.preallocate = false;
    auto log = log::Log::Open(DefaultFileSystem(), options, nullptr);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    std::promise<log::AppendResult> done;
    const uint64_t ids[] = {id};
    (*log)->Append(EncodeRetire(ids), [&](const log::AppendResult& result) { done.set_value(result); });
    ASSERT_EQ(done.get_future().get().durability, Durability::kTrue);
    ASSERT_TRUE((*log)->Close().ok());
  }
  Open();
  EXPECT_EQ(States(), (std::map<std::string, StoredState>{{"old", StoredState::kDone}}));
  EXPECT_EQ(backend_->Stats().pending, 0u);
}

}  // namespace
}  // namespace wal::queue::local
