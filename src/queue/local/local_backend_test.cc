#include "queue/local/local_backend.h"
#include "queue/local/local_config.h"

#include <gtest/gtest.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "log/log.h"
#include "queue/local/envelope.h"

namespace wal::queue::local {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

// VmRSS (current) or VmHWM (peak since the last ResetPeakRss) in bytes.
uint64_t StatusBytes(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stoull(line.substr(field.size() + 1)) * 1024;
  }
  return 0;
}
uint64_t RssBytes() { return StatusBytes("VmRSS"); }
uint64_t PeakRssBytes() { return StatusBytes("VmHWM"); }
void ResetPeakRss() { std::ofstream("/proc/self/clear_refs") << "5"; }

class LocalBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = JoinPath(::testing::TempDir(), "wal_local_backend_test_" + std::to_string(::getpid()) + "_" +
                                                   ::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_TRUE(DefaultFileSystem()->RemoveAll(data_dir_).ok());
    ASSERT_TRUE(DefaultFileSystem()->CreateDirectories(data_dir_).ok());
    config_.name = "test";
    config_.backend.settings.Mutable<LocalBackendConfig>().preallocate = false;
    options_.copy_forward_interval = 0ms;  // tests drive copy-forward through RunMaintenance
  }
  void TearDown() override {
    backend_.reset();
    (void)DefaultFileSystem()->RemoveAll(data_dir_);
  }

  void Open() {
    backend_.reset();
    BackendContext context{DefaultFileSystem(), data_dir_, ""};
    auto opened = OpenLocalBackend(context, config_, options_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    backend_ = std::move(opened).value();
  }
  void Reopen() {
    ASSERT_TRUE(backend_->Close().ok());
    Open();
  }

  static QueueEntry Entry(std::string record, TimePoint due, std::string key = "") {
    return QueueEntry{std::move(record), due, std::move(key)};
  }

  uint64_t AppendOrDie(QueueEntry entry) {
    std::promise<AppendOutcome> done;
    auto future = done.get_future();
    backend_->Append(std::move(entry), [&](const AppendOutcome& outcome) { done.set_value(outcome); });
    AppendOutcome outcome = future.get();
    EXPECT_EQ(outcome.durability, Durability::kTrue) << outcome.status.ToString();
    return outcome.id;
  }

  // Appends many, `wave` at a time without waiting for each one (one wave is
  // usually one group commit, and a group never spans segments).
  void AppendMany(uint64_t count, const std::function<QueueEntry(uint64_t)>& make, uint64_t wave = UINT64_MAX) {
    std::mutex mutex;
    std::condition_variable cv;
    uint64_t done = 0, failed = 0;
    for (uint64_t i = 0; i < count; ++i) {
      backend_->Append(make(i), [&](const AppendOutcome& outcome) {
        std::lock_guard lock(mutex);
        ++done;
        if (outcome.durability != Durability::kTrue) ++failed;
        cv.notify_all();
      });
      if ((i + 1) % wave == 0) {
        std::unique_lock lock(mutex);
        cv.wait(lock, [&] { return done == i + 1; });
      }
    }
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return done == count; });
    ASSERT_EQ(failed, 0u);
  }

  std::vector<Delivery> PollOrDie(size_t max, std::chrono::milliseconds wait = 0ms) {
    auto polled = backend_->Poll(max, wait);
    EXPECT_TRUE(polled.ok()) << polled.status().ToString();
    return polled.ok() ? std::move(polled).value() : std::vector<Delivery>{};
  }

  template <typename Fn>
  static Status Wait(Fn&& start) {
    std::promise<Status> done;
    auto future = done.get_future();
    start([&](const Status& status) { done.set_value(status); });
    return future.get();
  }
  Status CompleteWait(const Delivery& d) {
    return Wait([&](StatusCallback cb) { backend_->Complete(d, std::move(cb)); });
  }
  Status RescheduleWait(const Delivery& d, QueueEntry replacement) {
    return Wait([&](StatusCallback cb) { backend_->Reschedule(d, std::move(replacement), std::move(cb)); });
  }
  Status DeadLetterWait(const Delivery& d, std::string record) {
    return Wait([&](StatusCallback cb) { backend_->DeadLetter(d, std::move(record), std::move(cb)); });
  }

  std::vector<StoredEntry> DeadLetters() {
    auto listed = backend_->ListDeadLetters(0, 1000000);
    EXPECT_TRUE(listed.ok()) << listed.status().ToString();
    return listed.ok() ? std::move(listed).value() : std::vector<StoredEntry>{};
  }

  size_t SegmentFiles(const std::string& sub) {
    auto names = DefaultFileSystem()->ListDirectory(JoinPath(data_dir_, sub));
    EXPECT_TRUE(names.ok());
    return static_cast<size_t>(std::count_if(names->begin(), names->end(), [](const std::string& n) {
      return n.size() > 4 && n.substr(n.size() - 4) == ".seg";
    }));
  }

  std::string data_dir_;
  config::NamespaceConfig config_;
  LocalBackendOptions options_;
  std::unique_ptr<LocalBackend> backend_;
};

TEST_F(LocalBackendTest, EnvelopeRoundTripAndCorruption) {
  std::string entry = EncodeEntry(-5, 7u, std::nullopt, "key", "record");
  Envelope envelope;
  ASSERT_TRUE(DecodeEnvelope(1, entry, &envelope).ok());
  EXPECT_EQ(envelope.kind, EnvelopeKind::kEntry);
  EXPECT_EQ(envelope.due_ms, -5);
  EXPECT_EQ(envelope.supersedes, 7u);
  EXPECT_FALSE(envelope.source.has_value());
  EXPECT_EQ(envelope.ordering_key, "key");
  EXPECT_EQ(envelope.record, "record");
  std::vector<uint64_t> ids = {3, 1ull << 40};
  std::string retire = EncodeRetire(ids);
  ASSERT_TRUE(DecodeEnvelope(2, retire, &envelope).ok());
  ASSERT_EQ(envelope.retired_count, 2u);
  EXPECT_EQ(envelope.RetiredId(1), 1ull << 40);
  // Every truncation of an ENTRY header and of a RETIRE is corruption naming the id.
  for (size_t cut = 0; cut < 2 + 8 + 8 + 4 + 3; ++cut) {
    Status status = DecodeEnvelope(42, std::string_view(entry).substr(0, cut), &envelope);
    EXPECT_EQ(status.code(), StatusCode::kCorruption) << cut;
    EXPECT_NE(status.message().find("log id 42"), std::string::npos);
  }
  EXPECT_EQ(DecodeEnvelope(3, retire.substr(0, retire.size() - 1), &envelope).code(), StatusCode::kCorruption);
  EXPECT_EQ(DecodeEnvelope(3, "Xgarbage", &envelope).code(), StatusCode::kCorruption);
}

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

TEST_F(LocalBackendTest, DeadLetterMovesToDlqAndSurvivesReopen) {
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

TEST_F(LocalBackendTest, CrashBetweenDlqAppendAndRetireLeavesNoDuplicate) {
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
  }
  // Even after the DLQ entry is gone, the original stays retired.
  auto purged = backend_->PurgeDeadLetters({});
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, 1u);
  ASSERT_TRUE(backend_->RunMaintenance().ok());
  Reopen();
  EXPECT_TRUE(PollOrDie(10).empty());
  EXPECT_EQ(backend_->Stats().dead_letters, 0u);
}

TEST_F(LocalBackendTest, RedriveMovesBackAndIsPollable) {
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

TEST_F(LocalBackendTest, PurgeDropsDeadLetters) {
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

TEST_F(LocalBackendTest, RetentionDeletesConsumedSegments) {
  config_.backend.settings.Mutable<LocalBackendConfig>().segment_bytes = 4096;
  Open();
  AppendMany(600, [](uint64_t i) { return Entry(std::string(100, 'a' + i % 26), Clock::now() - 1s); }, 10);
  ASSERT_GT(backend_->Stats().segments, 10u);
  for (;;) {
    auto polled = PollOrDie(50);
    if (polled.empty()) break;
    for (auto& d : polled) ASSERT_TRUE(CompleteWait(d).ok());
  }
  ASSERT_TRUE(backend_->RunMaintenance().ok());
  BackendStats stats = backend_->Stats();
  EXPECT_EQ(stats.pending, 0u);
  EXPECT_EQ(stats.consumed, stats.log_end);
  EXPECT_LE(stats.segments, 2u);
  EXPECT_LE(SegmentFiles("log"), 2u);
  Reopen();
  EXPECT_EQ(backend_->Stats().pending, 0u);
  EXPECT_LE(SegmentFiles("log"), 2u);
}

TEST_F(LocalBackendTest, BackgroundCheckpointDeletesSegments) {
  config_.backend.settings.Mutable<LocalBackendConfig>().segment_bytes = 4096;
  options_.checkpoint_interval = 20ms;
  Open();
  AppendMany(300, [](uint64_t) { return Entry(std::string(100, 'x'), Clock::now() - 1s); }, 10);
  for (;;) {
    auto polled = PollOrDie(50);
    if (polled.empty()) break;
    for (auto& d : polled) ASSERT_TRUE(CompleteWait(d).ok());
  }
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (SegmentFiles("log") > 2 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
  EXPECT_LE(SegmentFiles("log"), 2u);
}

TEST_F(LocalBackendTest, CopyForwardFreesSegmentsPinnedByALongPendingEntry) {
  config_.backend.settings.Mutable<LocalBackendConfig>().segment_bytes = 4096;
  Open();
  const TimePoint far_due = Clock::now() + 2500ms;  // "far" for the test; it must be pending throughout
  const uint64_t pinned = AppendOrDie(Entry("far-future", far_due, "fk"));
  AppendMany(600, [](uint64_t) { return Entry(std::string(100, 'c'), Clock::now() - 1s); }, 10);
  for (;;) {
    auto polled = PollOrDie(50);
    if (polled.empty()) break;
    for (auto& d : polled) ASSERT_TRUE(CompleteWait(d).ok());
  }
  const uint64_t segments_before = backend_->Stats().segments;
  ASSERT_GT(segments_before, 10u);
  EXPECT_EQ(backend_->Stats().consumed, pinned) << "the far-future entry pins the watermark";

  auto copied = backend_->RunMaintenance();
  ASSERT_TRUE(copied.ok()) << copied.status().ToString();
  EXPECT_EQ(*copied, 1u);
  BackendStats stats = backend_->Stats();
  EXPECT_LE(stats.segments, 3u);
  EXPECT_LE(SegmentFiles("log"), 3u);
  EXPECT_GT(stats.consumed, pinned);
  EXPECT_EQ(stats.pending, 1u);
  EXPECT_EQ(stats.pending_delayed, 1u);
  EXPECT_EQ(backend_->LocalStats().entries_copied_forward, 1u);
  EXPECT_EQ(backend_->RunMaintenance().value(), 0u);  // nothing left to copy

  Reopen();
  EXPECT_EQ(backend_->Stats().pending, 1u);
  EXPECT_TRUE(PollOrDie(10).empty());
  std::vector<Delivery> polled;
  const auto deadline = Clock::now() + 10s;
  while (polled.empty() && Clock::now() < deadline) {
    polled = PollOrDie(10, 1000ms);
    if (!polled.empty()) {
      EXPECT_GE(Clock::now(), far_due) << "handed out before its due time";
    }
  }
  ASSERT_EQ(polled.size(), 1u);
  EXPECT_NE(polled[0].id, pinned);
  EXPECT_EQ(polled[0].entry.record, "far-future");
  EXPECT_EQ(polled[0].entry.ordering_key, "fk");
  EXPECT_GE(polled[0].entry.due, far_due);
  EXPECT_LE(polled[0].entry.due - far_due, 1ms);
}

TEST_F(LocalBackendTest, CopyForwardSkipsHeldEntriesAndLargeBacklogs) {
  config_.backend.settings.Mutable<LocalBackendConfig>().segment_bytes = 4096;
  options_.copy_forward_max_entries = 5;
  options_.copy_forward_max_fraction = 0.0;
  Open();
  // Twenty pending entries in the oldest segment: over the limit, not copied.
  AppendMany(20, [](uint64_t) { return Entry("backlog", Clock::now() + 1h); });
  AppendMany(400, [](uint64_t) { return Entry(std::string(100, 'c'), Clock::now() - 1s); }, 10);
  for (;;) {
    auto polled = PollOrDie(50);
    if (polled.empty()) break;
    for (auto& d : polled) ASSERT_TRUE(CompleteWait(d).ok());
  }
  auto copied = backend_->RunMaintenance();
  ASSERT_TRUE(copied.ok());
  EXPECT_EQ(*copied, 0u);
  EXPECT_EQ(backend_->Stats().consumed, 0u);
  EXPECT_EQ(backend_->Stats().pending, 20u);
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

class LocalBackendScaleTest : public LocalBackendTest {
 protected:
  void PendingReopen(uint64_t count) {
    Open();
    const TimePoint due = Clock::now() + 1h;
    AppendMany(count, [&](uint64_t i) {
      return Entry("record-" + std::to_string(i), due + std::chrono::milliseconds(i % 1000));
    });
    ASSERT_EQ(backend_->Stats().pending, count);
    ASSERT_TRUE(backend_->Close().ok());
    backend_.reset();
    malloc_trim(0);
    const uint64_t rss_before = RssBytes();
    ResetPeakRss();
    const auto started = std::chrono::steady_clock::now();
    Open();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const uint64_t peak = PeakRssBytes();
    malloc_trim(0);  // return the recovery scan's freed buffers
    const uint64_t rss_after = RssBytes();
    BackendStats stats = backend_->Stats();
    constexpr double kMiB = 1 << 20;
    std::printf("pending %llu: reopen %.2f s (recovery scan %llu ms), RSS delta %.1f MiB (%.1f -> %.1f MiB), "
                "peak during reopen %.1f MiB\n",
                static_cast<unsigned long long>(count), seconds,
                static_cast<unsigned long long>(backend_->LocalStats().recovery_millis),
                (static_cast<double>(rss_after) - static_cast<double>(rss_before)) / kMiB,
                static_cast<double>(rss_before) / kMiB, static_cast<double>(rss_after) / kMiB,
                static_cast<double>(peak) / kMiB);
    EXPECT_EQ(stats.pending, count);
    EXPECT_EQ(stats.pending_delayed, count);
    EXPECT_EQ(stats.in_flight, 0u);
    EXPECT_TRUE(PollOrDie(10).empty());
#ifndef __SANITIZE_ADDRESS__  // ASan's quarantine and redzones make RSS meaningless
    EXPECT_LT(rss_after - std::min(rss_after, rss_before), 100ull << 20);
    EXPECT_LT(seconds, 10.0);
#endif
  }
};

TEST_F(LocalBackendScaleTest, PendingDelayedEntriesReopen200k) { PendingReopen(200000); }

// ~1M pending delayed entries: prints the RSS delta and reopen time.
TEST_F(LocalBackendScaleTest, LargePending) { PendingReopen(1000000); }

}  // namespace
}  // namespace wal::queue::local
