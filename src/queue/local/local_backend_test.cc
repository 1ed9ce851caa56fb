#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <future>
#include <random>
#include <set>
#include <thread>

#include "log/log.h"
#include "queue/local/local_backend_fixture.h"

// Producing, polling, retiring and rescheduling on the local backend, across
// reopens.

namespace wal::queue::local {
namespace {

class LocalBackendTest : public LocalBackendFixture {};

TEST_F(LocalBackendTest, CorruptEnvelopeFailsOpen) {
  {
    log::LogOptions options;
    options.directory = JoinPath(data_dir_, "log");
    auto log = log::Log::Open(DefaultFileSystem(), options, nullptr);
    ASSERT_TRUE(log.ok());
    std::promise<void> done;
    (*log)->Append("not an envelope", [&](const log::AppendResult&) { done.set_value(); });
    done.get_future().wait();
    ASSERT_TRUE((*log)->Close().ok());
  }
  BackendContext context{DefaultFileSystem(), data_dir_, ""};
  auto opened = OpenLocalBackend(context, config_, options_);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kCorruption);
  EXPECT_NE(opened.status().message().find("log id 0"), std::string::npos) << opened.status().ToString();
}

TEST_F(LocalBackendTest, PastDueIsPolledAtOnce) {
  Open();
  const TimePoint due = Clock::now() - 1s;
  const uint64_t id = AppendOrDie(Entry("hello", due, "k1"));
  auto polled = PollOrDie(10);
  ASSERT_EQ(polled.size(), 1u);
  EXPECT_EQ(polled[0].id, id);
  EXPECT_EQ(polled[0].entry.record, "hello");
  EXPECT_EQ(polled[0].entry.ordering_key, "k1");
  EXPECT_LE(polled[0].entry.due - due, 1ms);
  EXPECT_GE(polled[0].entry.due, due);
  // Default-constructed due (the epoch) is due too.
  AppendOrDie(Entry("epoch", TimePoint{}));
  EXPECT_EQ(PollOrDie(10).size(), 1u);
  // An unbounded wait returns as soon as something is due.
  AppendOrDie(Entry("now", Clock::now()));
  EXPECT_EQ(PollOrDie(10, std::chrono::milliseconds::max()).size(), 1u);
}

TEST_F(LocalBackendTest, FutureEntryIsNeverEarlyAndArrives) {
  Open();
  const TimePoint due = Clock::now() + 300ms;
  AppendOrDie(Entry("later", due));
  EXPECT_TRUE(PollOrDie(10).empty());
  EXPECT_EQ(backend_->Stats().pending_delayed, 1u);
  std::vector<Delivery> polled;
  const auto deadline = Clock::now() + 5s;
  while (polled.empty() && Clock::now() < deadline) {
    polled = PollOrDie(10, 100ms);
    if (!polled.empty()) {
      EXPECT_GE(Clock::now(), due) << "handed out before its due time";
    }
  }
  const auto late = Clock::now() - due;
  ASSERT_EQ(polled.size(), 1u);
  EXPECT_GE(Clock::now(), polled[0].entry.due);
  std::printf("due entry arrived %.1f ms after its due time\n",
              std::chrono::duration<double, std::milli>(late).count());
  EXPECT_LT(late, 500ms);
}

TEST_F(LocalBackendTest, WaitingPollWakesOnAppend) {
  Open();
  auto started = std::chrono::steady_clock::now();
  auto poller = std::async(std::launch::async, [&] { return backend_->Poll(1, 5000ms); });
  std::this_thread::sleep_for(100ms);
  AppendOrDie(Entry("now", Clock::now()));
  auto polled = poller.get();
  ASSERT_TRUE(polled.ok());
  ASSERT_EQ(polled->size(), 1u);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2000ms);
}

TEST_F(LocalBackendTest, DueOrderAcrossAppends) {
  Open();
  std::mt19937 random(7);
  const TimePoint base = Clock::now() - 1h;
  std::vector<std::pair<TimePoint, uint64_t>> expected;
  for (int i = 0; i < 300; ++i) {
    TimePoint due = base + std::chrono::milliseconds(random() % 100) * 1000;  // ties are likely
    uint64_t id = AppendOrDie(Entry("r" + std::to_string(i), due));
    expected.emplace_back(due, id);
  }
  for (int i = 0; i < 20; ++i) AppendOrDie(Entry("future", Clock::now() + 1h));
  std::sort(expected.begin(), expected.end());
  std::vector<Delivery> all;
  for (;;) {
    auto polled = PollOrDie(37);
    if (polled.empty()) break;
    all.insert(all.end(), polled.begin(), polled.end());
  }
  ASSERT_EQ(all.size(), expected.size());
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].id, expected[i].second) << i;
  }
  BackendStats stats = backend_->Stats();
  EXPECT_EQ(stats.pending, 320u);
  EXPECT_EQ(stats.pending_delayed, 20u);
  EXPECT_EQ(stats.in_flight, 300u);
}

TEST_F(LocalBackendTest, InFlightEntriesAreNotHandedOutTwice) {
  Open();
  for (int i = 0; i < 10; ++i) AppendOrDie(Entry("e" + std::to_string(i), Clock::now() - 1s));
  auto first = PollOrDie(5);
  auto second = PollOrDie(10);
  ASSERT_EQ(first.size(), 5u);
  ASSERT_EQ(second.size(), 5u);
  EXPECT_TRUE(PollOrDie(10, 100ms).empty());
  std::set<uint64_t> ids;
  for (auto* batch : {&first, &second}) {
    for (auto& d : *batch) ids.insert(d.id);
  }
  EXPECT_EQ(ids.size(), 10u);
  EXPECT_EQ(backend_->Stats().in_flight, 10u);
  ASSERT_TRUE(CompleteWait(first[0]).ok());
  // Completing twice is harmless; an id never handed out is refused.
  EXPECT_TRUE(CompleteWait(first[0]).ok());
  Delivery bogus;
  bogus.id = 999;
  EXPECT_FALSE(CompleteWait(bogus).ok());
  EXPECT_EQ(backend_->Stats().in_flight, 9u);
  EXPECT_EQ(backend_->Stats().pending, 9u);
  EXPECT_EQ(backend_->Pending(), 9u) << "the gate's cheap count agrees with Stats()";
}

TEST_F(LocalBackendTest, CompletedAreNotRedeliveredHeldAreAfterReopen) {
  Open();
  std::vector<uint64_t> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(AppendOrDie(Entry("e" + std::to_string(i), Clock::now() - 1s)));
  auto polled = PollOrDie(10);
  ASSERT_EQ(polled.size(), 4u);
  ASSERT_TRUE(CompleteWait(polled[0]).ok());
  ASSERT_TRUE(CompleteWait(polled[2]).ok());
  Reopen();
  auto again = PollOrDie(10);
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[0].id, ids[1]);
  EXPECT_EQ(again[0].entry.record, "e1");
  EXPECT_EQ(again[1].id, ids[3]);
  // Inspection reads show only ENTRY records, never the RETIRE envelopes.
  auto read = backend_->Read(0, 100);
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read->size(), 4u);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ((*read)[i].id, ids[i]);
  ASSERT_TRUE(CompleteWait(again[0]).ok());
  ASSERT_TRUE(CompleteWait(again[1]).ok());
  Reopen();
  EXPECT_TRUE(PollOrDie(10).empty());
  EXPECT_EQ(backend_->Stats().pending, 0u);
  EXPECT_EQ(backend_->Pending(), 0u);
}

TEST_F(LocalBackendTest, RescheduleKeepsOnlyTheReplacementAcrossReopen) {
  Open();
  // Pins the watermark below the originals, so recovery must see the links.
  AppendOrDie(Entry("pin", Clock::now() + 1h));
  const uint64_t original = AppendOrDie(Entry("attempt=1", Clock::now() - 1s, "key"));
  auto polled = PollOrDie(1);
  ASSERT_EQ(polled.size(), 1u);
  ASSERT_TRUE(RescheduleWait(polled[0], Entry("attempt=2", Clock::now() - 1s, "key")).ok());
  EXPECT_EQ(backend_->Stats().pending, 2u);  // the pin and the replacement
  EXPECT_EQ(backend_->Pending(), 2u);
  auto second = PollOrDie(10);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_NE(second[0].id, original);
  EXPECT_EQ(second[0].entry.record, "attempt=2");
  // Rescheduling a retired original is refused.
  EXPECT_FALSE(RescheduleWait(polled[0], Entry("attempt=9", Clock::now())).ok());
  ASSERT_TRUE(RescheduleWait(second[0], Entry("attempt=3", Clock::now() + 1h, "key")).ok());
  // Nothing retired the originals with a RETIRE: only `supersedes` links them.
  Reopen();
  BackendStats stats = backend_->Stats();
  EXPECT_EQ(stats.consumed, 0u);
  EXPECT_EQ(stats.pending, 2u);
  EXPECT_EQ(stats.pending_delayed, 2u);
  EXPECT_TRUE(PollOrDie(10).empty());
  auto read = backend_->Read(0, 10);
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read->size(), 4u);
  EXPECT_EQ(read->back().record, "attempt=3");
}

TEST_F(LocalBackendTest, RescheduledDueReplacementIsTheOnlyOneRedelivered) {
  Open();
  AppendOrDie(Entry("pin", Clock::now() + 1h));  // keeps every attempt above the watermark
  AppendOrDie(Entry("attempt=1", Clock::now() - 1s));
  for (int attempt = 2; attempt <= 4; ++attempt) {
    auto polled = PollOrDie(10);
    ASSERT_EQ(polled.size(), 1u);
    EXPECT_EQ(polled[0].entry.record, "attempt=" + std::to_string(attempt - 1));
    ASSERT_TRUE(RescheduleWait(polled[0], Entry("attempt=" + std::to_string(attempt), Clock::now() - 1s)).ok());
    Reopen();
  }
  auto polled = PollOrDie(10);
  ASSERT_EQ(polled.size(), 1u);
  EXPECT_EQ(polled[0].entry.record, "attempt=4");
}

TEST_F(LocalBackendTest, ConcurrentPollAndCompleteDeliverEachOnce) {
  Open();
  constexpr uint64_t kEntries = 20000;
  AppendMany(kEntries, [](uint64_t i) { return Entry(std::to_string(i), Clock::now() - 1s); });
  std::vector<std::atomic<int>> delivered(kEntries);
  std::atomic<uint64_t> completed{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t) {
    workers.emplace_back([&] {
      while (completed.load() < kEntries && !failed.load()) {
        auto polled = backend_->Poll(64, 50ms);
        if (!polled.ok()) {
          failed = true;
          return;
        }
        for (Delivery& d : *polled) {
          uint64_t index = std::stoull(d.entry.record);
          delivered[index].fetch_add(1);
          backend_->Complete(d, [&](const Status& status) {
            if (!status.ok()) failed = true;
            completed.fetch_add(1);
          });
        }
      }
    });
  }
  for (auto& worker : workers) worker.join();
  ASSERT_FALSE(failed.load());
  for (uint64_t i = 0; i < kEntries; ++i) ASSERT_EQ(delivered[i].load(), 1) << "entry " << i;
  BackendStats stats = backend_->Stats();
  EXPECT_EQ(stats.pending, 0u);
  EXPECT_EQ(stats.in_flight, 0u);
  EXPECT_EQ(stats.consumed, stats.log_end);
  Reopen();
  EXPECT_TRUE(PollOrDie(10).empty());
  EXPECT_EQ(backend_->Stats().pending, 0u);
  EXPECT_EQ(backend_->Pending(), 0u);
}

TEST_F(LocalBackendTest, CloseIsIdempotentAndRefusesAfterwards) {
  Open();
  AppendOrDie(Entry("x", Clock::now() - 1s));
  auto polled = PollOrDie(1);
  ASSERT_EQ(polled.size(), 1u);
  ASSERT_TRUE(backend_->Close().ok());
  ASSERT_TRUE(backend_->Close().ok());
  EXPECT_EQ(backend_->Poll(1, 0ms).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_FALSE(CompleteWait(polled[0]).ok());
  std::promise<AppendOutcome> done;
  backend_->Append(Entry("y", Clock::now()), [&](const AppendOutcome& o) { done.set_value(o); });
  EXPECT_EQ(done.get_future().get().durability, Durability::kFalse);
  Open();
  EXPECT_EQ(PollOrDie(1).size(), 1u);  // held, never completed: redelivered
}

}  // namespace
}  // namespace wal::queue::local
