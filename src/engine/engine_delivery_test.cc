// The engine's delivery policy end to end, in memory: a namespace on the fake
// backend and target (engine/testing/), driven by a fake clock, so delays and
// backoffs of seconds pass without waiting for them.
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <future>
#include <optional>
#include <thread>

#include "common/testing/fake_clock.h"
#include "engine/engine.h"
#include "engine/testing/fake_modules.h"

namespace wal::engine {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::FakeBackend;

class EngineDeliveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(modules_.status().ok()) << modules_.status().ToString();
    dir_ = JoinPath(::testing::TempDir(), "wal_engine_delivery_test_" + std::to_string(::getpid()) + "_" +
                                              ::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_TRUE(DefaultFileSystem()->RemoveAll(dir_).ok());
    ASSERT_TRUE(DefaultFileSystem()->CreateDirectories(JoinPath(dir_, "namespaces")).ok());
    EngineOptions options;
    options.file_system = DefaultFileSystem();
    options.data_dir = JoinPath(dir_, "data");
    options.namespaces_dir = JoinPath(dir_, "namespaces");
    options.role = Role::kBoth;
    options.modules = modules_.modules();
    options.clock = &clock_;
    auto created = Engine::Create(options);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    engine_ = std::move(created).value();
  }
  void TearDown() override {
    if (engine_) engine_->Shutdown();
    engine_.reset();
    (void)DefaultFileSystem()->RemoveAll(dir_);
  }

  // "orders": retries after 1 s, 2 s, 4 s, capped at 8 s, no jitter, so every
  // due time is exact; the consumer looks every 5 ms.
  static config::NamespaceConfig Orders() {
    config::NamespaceConfig config = testing::FakeNamespace("orders");
    config.backoff.initial = milliseconds(1000);
    config.backoff.multiplier = 2.0;
    config.backoff.max = milliseconds(8000);
    config.backoff.jitter = config::JitterModel::kNone;
    config.max_retries = 2;
    config.consumer.poll_interval = milliseconds(5);
    return config;
  }
  void Apply(const config::NamespaceConfig& config) {
    Status applied = engine_->ApplyNamespace(config);
    ASSERT_TRUE(applied.ok()) << applied.ToString();
    backend_ = modules_.backend(config.name);
    ASSERT_NE(backend_, nullptr);
  }

  static v1::WriteToLogRequest Put(const std::string& key, const std::string& value, seconds delay = seconds(0)) {
    v1::WriteToLogRequest request;
    request.set_namespace_("orders");
    v1::Mutation* mutation = request.mutable_payload()->mutable_mutation();
    mutation->set_op(v1::Mutation::PUT);
    mutation->set_key(key);
    mutation->set_value(value);
    if (delay.count() > 0) request.mutable_lifecycle()->mutable_delay()->set_seconds(delay.count());
    return request;
  }
  WriteOutcome Write(const v1::WriteToLogRequest& request) {
    std::promise<WriteOutcome> done;
    engine_->WriteToLog(request, [&](WriteOutcome outcome) { done.set_value(std::move(outcome)); });
    return done.get_future().get();
  }

  // Waits (bounded) until `condition` holds; the workers run on real threads.
  template <typename Condition>
  bool Eventually(Condition condition) {
    const auto deadline = std::chrono::steady_clock::now() + seconds(10);
    while (!condition()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(milliseconds(1));
    }
    return true;
  }
  // Waits until the consumer has polled three more times: whatever was due
  // then has been handed out.
  void LetTheConsumerLook() {
    const uint64_t seen = backend_->polls();
    ASSERT_TRUE(Eventually([&] { return backend_->polls() >= seen + 3; }));
  }
  // The one pending entry, once it is back from its `attempts`th attempt (not
  // in flight, its record counting that many attempts).
  std::optional<FakeBackend::Pending> RescheduledAfter(uint32_t attempts) {
    std::optional<FakeBackend::Pending> found;
    Eventually([&] {
      auto pending = backend_->PendingEntries();
      if (pending.size() != 1 || pending[0].in_flight) return false;
      v1::LogRecord record;
      if (!record.ParseFromString(pending[0].entry.record) || record.attempt() != attempts) return false;
      found = pending[0];
      return true;
    });
    return found;
  }
  DeliveryCounters& Counters() {
    auto runtime = engine_->Runtime("orders");
    EXPECT_TRUE(runtime.ok());
    return (*runtime)->counters();
  }

  wal::testing::FakeClock clock_;
  testing::FakeModules modules_{clock_};
  std::string dir_;
  std::unique_ptr<Engine> engine_;
  FakeBackend* backend_ = nullptr;
};

TEST_F(EngineDeliveryTest, ADelayedWriteIsDeliveredAtItsDueTimeAndNotBefore) {
  Apply(Orders());
  const WallTime accepted = clock_.Now();
  WriteOutcome outcome = Write(Put("user:1", "v1", seconds(30)));
  ASSERT_TRUE(outcome.rejection.ok()) << outcome.rejection.ToString();
  EXPECT_EQ(outcome.response.durable(), v1::TRUE);
  auto pending = backend_->PendingEntries();
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].entry.due, accepted + seconds(30));
  auto stored = engine_->ReadLog("orders", 0, 10);
  ASSERT_TRUE(stored.ok() && stored->size() == 1);
  EXPECT_EQ(ToMillis(accepted), google::protobuf::util::TimeUtil::TimestampToMilliseconds(
                                    stored->front().record.accepted_time()));

  LetTheConsumerLook();
  clock_.Advance(milliseconds(29'999));
  LetTheConsumerLook();
  EXPECT_EQ(modules_.target().call_count(), 0u) << "delivered before its due time";

  clock_.Advance(milliseconds(1));
  ASSERT_TRUE(Eventually([&] { return Counters().delivered.load() == 1; }));
  EXPECT_EQ(modules_.target().Value("user:1"), "v1");
  EXPECT_TRUE(Eventually([&] { return backend_->PendingEntries().empty(); }));
  EXPECT_EQ(Counters().retried.load(), 0u);
}

TEST_F(EngineDeliveryTest, TheDeliveryLagIsTheTimeFromTheDueTimeToTheDelivery) {
  Apply(Orders());
  ASSERT_EQ(Write(Put("user:1", "v1", seconds(30))).response.durable(), v1::TRUE);
  LetTheConsumerLook();
  clock_.Advance(seconds(45));  // due at 30 s, so delivered 15 s late
  ASSERT_TRUE(Eventually([&] { return Counters().delivered.load() == 1; }));
  const Histogram::Snapshot lag = Counters().delivery_lag_seconds.Read();
  ASSERT_EQ(lag.cumulative.back(), 1u);
  EXPECT_DOUBLE_EQ(lag.sum, 15.0) << "the fake clock stands still while the worker delivers";
}

TEST_F(EngineDeliveryTest, ARetryableFailureIsRetriedAfterItsBackoffThenSucceeds) {
  Apply(Orders());
  modules_.target().FailNext(2, target::ApplyOutcome::kRetryable, "connection refused");
  ASSERT_EQ(Write(Put("user:2", "v2")).response.durable(), v1::TRUE);

  auto first = RescheduledAfter(1);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->entry.due, clock_.Now() + seconds(1)) << "the first retry waits backoff.initial";
  LetTheConsumerLook();
  EXPECT_EQ(modules_.target().call_count(), 1u) << "retried before its backoff passed";

  clock_.Advance(seconds(1));
  auto second = RescheduledAfter(2);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->entry.due, clock_.Now() + seconds(2)) << "the second retry waits initial * multiplier";

  clock_.Advance(seconds(2));
  ASSERT_TRUE(Eventually([&] { return Counters().delivered.load() == 1; }));
  EXPECT_EQ(modules_.target().Value("user:2"), "v2");
  const auto calls = modules_.target().calls();
  ASSERT_EQ(calls.size(), 3u);
  for (uint32_t i = 0; i < 3; ++i) EXPECT_EQ(calls[i].context.attempt, i + 1);
  EXPECT_EQ(Counters().retried.load(), 2u);
  EXPECT_EQ(Counters().failed_applies.load(), 2u);
  EXPECT_EQ(Counters().retryable_errors.load(), 2u);
  EXPECT_EQ(Counters().permanent_errors.load(), 0u);
  EXPECT_EQ(Counters().dead_lettered.load(), 0u);
  EXPECT_TRUE(backend_->DeadLetterEntries().empty());
}

TEST_F(EngineDeliveryTest, AnEntryThatExhaustsItsRetriesIsDeadLetteredWithItsHistoryAndCanBeRedriven) {
  Apply(Orders());  // max_retries 2: three attempts in all
  modules_.target().FailAlways(target::ApplyOutcome::kRetryable, "target is down");
  ASSERT_EQ(Write(Put("user:3", "v3")).response.durable(), v1::TRUE);
  ASSERT_TRUE(RescheduledAfter(1).has_value());
  clock_.Advance(seconds(1));
  ASSERT_TRUE(RescheduledAfter(2).has_value());
  clock_.Advance(seconds(2));

  ASSERT_TRUE(Eventually([&] { return backend_->DeadLetterEntries().size() == 1; }));
  EXPECT_TRUE(backend_->PendingEntries().empty());
  auto dead = engine_->ListDeadLetters("orders", 0, 10);
  ASSERT_TRUE(dead.ok()) << dead.status().ToString();
  ASSERT_EQ(dead->size(), 1u);
  const v1::LogRecord& record = dead->front().record;
  EXPECT_EQ(record.attempt(), 3u);
  ASSERT_EQ(record.errors_size(), 3);
  EXPECT_NE(record.errors(2).find("attempt 3"), std::string::npos) << record.errors(2);
  EXPECT_NE(record.errors(2).find("retryable: target is down"), std::string::npos) << record.errors(2);
  EXPECT_EQ(Counters().dead_lettered.load(), 1u);
  EXPECT_EQ(Counters().retried.load(), 2u);

  // Redriven, it starts over, due now, and is delivered once the target is back.
  modules_.target().FailAlways(target::ApplyOutcome::kOk);
  auto redriven = engine_->RedriveDeadLetters("orders", {});
  ASSERT_TRUE(redriven.ok()) << redriven.status().ToString();
  EXPECT_EQ(*redriven, 1u);
  ASSERT_TRUE(Eventually([&] { return Counters().delivered.load() == 1; }));
  EXPECT_EQ(modules_.target().Value("user:3"), "v3");
  EXPECT_EQ(modules_.target().calls().back().context.attempt, 1u) << "a redriven entry's attempts start over";
}

// A retry stores the entry again under a new log id; the write keeps one id
// (its answer's) through retries, the DLQ and a redrive, which targets see
// (X-Wal-Entry-Id is what they deduplicate on) and the admin reads show, each
// record with where it stands.
TEST_F(EngineDeliveryTest, AWriteKeepsOneEntryIdThroughRetriesTheDlqAndRedrive) {
  Apply(Orders());  // max_retries 2
  modules_.target().FailAlways(target::ApplyOutcome::kRetryable, "target is down");
  ASSERT_EQ(Write(Put("other", "x", seconds(60))).response.durable(), v1::TRUE);
  const WriteOutcome written = Write(Put("user:9", "v9"));
  ASSERT_EQ(written.response.durable(), v1::TRUE);
  const uint64_t id = written.response.id();
  ASSERT_TRUE(Eventually([&] { return Counters().retried.load() == 1; }));

  auto log = engine_->ReadLog("orders", 0, 10);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  ASSERT_EQ(log->size(), 3u);
  EXPECT_EQ((*log)[0].entry_id, id - 1);
  EXPECT_EQ((*log)[0].state, Engine::RecordState::kDelayed) << "due in 60 s";
  EXPECT_EQ((*log)[1].id, id);
  EXPECT_EQ((*log)[1].entry_id, id);
  EXPECT_EQ((*log)[1].state, Engine::RecordState::kSuperseded) << "retired: stored again as the retry";
  EXPECT_NE((*log)[2].id, id);
  EXPECT_EQ((*log)[2].entry_id, id) << "the retry is the same write";
  EXPECT_EQ((*log)[2].record.entry_id(), id);
  EXPECT_EQ((*log)[2].state, Engine::RecordState::kDelayed) << "waiting out its backoff";

  clock_.Advance(seconds(1));
  ASSERT_TRUE(Eventually([&] { return Counters().retried.load() == 2; }));
  clock_.Advance(seconds(2));
  ASSERT_TRUE(Eventually([&] { return backend_->DeadLetterEntries().size() == 1; }));
  auto dead = engine_->ListDeadLetters("orders", 0, 10);
  ASSERT_TRUE(dead.ok()) << dead.status().ToString();
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ(dead->front().entry_id, id);
  EXPECT_EQ(dead->front().state, Engine::RecordState::kDead);

  modules_.target().FailAlways(target::ApplyOutcome::kOk);
  ASSERT_TRUE(engine_->RedriveDeadLetters("orders", {}).ok());
  ASSERT_TRUE(Eventually([&] { return modules_.target().Value("user:9") == "v9"; }));
  const auto calls = modules_.target().calls();
  ASSERT_EQ(calls.size(), 4u) << "three attempts, then one after the redrive";
  for (const auto& call : calls) EXPECT_EQ(call.context.entry_id, id) << "attempt " << call.context.attempt;
  // Every later record is this write's, each retired as it ended: the first
  // retry by the second, the second into the DLQ, the redrive delivered.
  using State = Engine::RecordState;
  const std::vector<State> ended = {State::kSuperseded, State::kDead, State::kDelivered};
  EXPECT_TRUE(Eventually([&] {
    auto after = engine_->ReadLog("orders", id + 1, 10);
    if (!after.ok() || after->size() != 3) return false;  // two retries, the redrive
    for (size_t i = 0; i < after->size(); ++i) {
      if ((*after)[i].entry_id != id || (*after)[i].state != ended[i]) return false;
    }
    return true;
  }));
}

// A redrive into another namespace (SQS's message move task): each dead letter
// becomes a new entry there, is delivered by that namespace, and leaves the
// source's DLQ only once the destination stored it.
TEST_F(EngineDeliveryTest, ARedriveToAnotherNamespaceMovesDeadLettersThereAsNewEntries) {
  Apply(Orders());
  FakeBackend* orders = backend_;
  config::NamespaceConfig repairs_config = Orders();
  repairs_config.name = "repairs";
  Apply(repairs_config);
  FakeBackend* repairs = backend_;
  backend_ = orders;

  modules_.target().FailNext(2, target::ApplyOutcome::kPermanent, "schema mismatch");
  v1::WriteToLogRequest first = Put("user:1", "v1");
  first.set_idempotency_key("key-1");
  const WriteOutcome written = Write(first);
  ASSERT_EQ(written.response.durable(), v1::TRUE);
  ASSERT_EQ(Write(Put("user:2", "v2")).response.durable(), v1::TRUE);
  ASSERT_TRUE(Eventually([&] { return orders->DeadLetterEntries().size() == 2; }));

  // Refusals change nothing.
  EXPECT_EQ(engine_->RedriveDeadLetters("orders", {}, "missing").status().code(), StatusCode::kNotFound);
  ASSERT_EQ(orders->DeadLetterEntries().size(), 2u);

  // repairs' log is further along than orders', so its ids differ.
  repairs->AddEntry(41, "earlier entry of repairs");
  auto moved = engine_->RedriveDeadLetters("orders", {orders->DeadLetterEntries().front().id}, "repairs");
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_EQ(*moved, 1u);
  ASSERT_EQ(orders->DeadLetterEntries().size(), 1u) << "only the one named moved";
  ASSERT_TRUE(Eventually([&] { return modules_.target().Value("user:1") == "v1"; }));
  const auto delivered = modules_.target().calls().back();
  EXPECT_EQ(delivered.context.namespace_name, "repairs");
  EXPECT_EQ(delivered.context.attempt, 1u) << "attempts start over";
  EXPECT_EQ(delivered.context.entry_id, 42u) << "an entry of repairs, with its id there";
  EXPECT_NE(delivered.context.entry_id, written.response.id());
  EXPECT_TRUE(delivered.context.idempotency_key.empty()) << "the key belongs to orders";
  auto log = engine_->ReadLog("repairs", 42, 10);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  ASSERT_EQ(log->size(), 1u);
  EXPECT_EQ(log->front().record.namespace_(), "repairs");
  EXPECT_EQ(log->front().record.errors_size(), 0);
  EXPECT_TRUE(log->front().record.idempotency_key().empty());

  // An append the destination does not answer TRUE leaves the entry where it is.
  repairs->SetAppendOutcome(Durability::kFalse, Unavailable("disk full"));
  auto refused = engine_->RedriveDeadLetters("orders", {}, "repairs");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(refused.status().message().find("moved 0 dead letters into repairs"), std::string::npos)
      << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("disk full"), std::string::npos) << refused.status().ToString();
  EXPECT_EQ(orders->DeadLetterEntries().size(), 1u);

  // A mutation set's marker cannot move (its mutations are kept by orders'
  // storage), and refuses the whole call before anything moves.
  repairs->SetAppendOutcome(Durability::kTrue);
  v1::LogRecord marker;
  marker.set_namespace_("orders");
  marker.mutable_set_ref()->set_set_id("set-7");
  orders->AddDeadLetter(1000, marker.SerializeAsString());
  auto set_refused = engine_->RedriveDeadLetters("orders", {}, "repairs");
  EXPECT_EQ(set_refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(set_refused.status().message().find("set-7"), std::string::npos) << set_refused.status().ToString();
  EXPECT_EQ(orders->DeadLetterEntries().size(), 2u);
  auto repairs_log = engine_->ReadLog("repairs", 42, 10);
  ASSERT_TRUE(repairs_log.ok());
  EXPECT_EQ(repairs_log->size(), 1u) << "nothing more was appended";
}

// delivery_paused holds deliveries, not writes: nothing is attempted (so no
// retry spends an attempt) until it is cleared, and then everything arrives.
TEST_F(EngineDeliveryTest, APausedNamespaceKeepsWritesAndDeliversThemOnResume) {
  config::NamespaceConfig config = Orders();  // max_retries 2
  Apply(config);
  modules_.target().FailAlways(target::ApplyOutcome::kRetryable, "store is down");
  ASSERT_EQ(Write(Put("user:1", "v1")).response.durable(), v1::TRUE);
  ASSERT_TRUE(RescheduledAfter(1).has_value()) << "one attempt before the pause";

  config.flags.delivery_paused = true;
  Apply(config);
  // A worker already inside a poll finishes it; the next loop sees the pause
  // (polls wait at most poll_interval, 5 ms).
  std::this_thread::sleep_for(milliseconds(100));
  const uint64_t polls_before = backend_->polls();
  const size_t calls_before = modules_.target().call_count();
  ASSERT_EQ(Write(Put("user:2", "v2")).response.durable(), v1::TRUE) << "writes are still kept";
  for (int i = 0; i < 10; ++i) {
    clock_.Advance(seconds(10));  // far past every backoff
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_EQ(backend_->polls(), polls_before) << "paused workers do not poll";
  EXPECT_EQ(modules_.target().call_count(), calls_before) << "nothing is attempted while paused";
  EXPECT_EQ(backend_->PendingEntries().size(), 2u);
  EXPECT_TRUE(backend_->DeadLetterEntries().empty()) << "a paused retry does not run out of attempts";
  auto paused = engine_->NamespaceStatuses("orders");
  ASSERT_TRUE(paused.ok());
  EXPECT_TRUE(paused->front().delivery_paused());

  modules_.target().FailAlways(target::ApplyOutcome::kOk);
  config.flags.delivery_paused = false;
  Apply(config);
  ASSERT_TRUE(Eventually([&] { return Counters().delivered.load() == 2; }));
  EXPECT_EQ(modules_.target().Value("user:1"), "v1");
  EXPECT_EQ(modules_.target().Value("user:2"), "v2");
  for (const auto& call : modules_.target().calls()) {
    if (call.key == "user:1" && call.outcome == target::ApplyOutcome::kOk) {
      EXPECT_EQ(call.context.attempt, 2u) << "the pause spent none of its attempts";
    }
  }
}

TEST_F(EngineDeliveryTest, APermanentFailureIsDeadLetteredAtOnce) {
  Apply(Orders());
  modules_.target().FailNext(1, target::ApplyOutcome::kPermanent, "value too large");
  ASSERT_EQ(Write(Put("user:4", "v4")).response.durable(), v1::TRUE);
  ASSERT_TRUE(Eventually([&] { return backend_->DeadLetterEntries().size() == 1; }));
  EXPECT_EQ(modules_.target().call_count(), 1u);
  EXPECT_EQ(Counters().retried.load(), 0u);
  EXPECT_EQ(Counters().permanent_errors.load(), 1u);
  EXPECT_EQ(Counters().retryable_errors.load(), 0u);
  v1::LogRecord record;
  ASSERT_TRUE(record.ParseFromString(backend_->DeadLetterEntries().front().record));
  EXPECT_EQ(record.attempt(), 1u);
  EXPECT_NE(record.errors(0).find("permanent: value too large"), std::string::npos) << record.errors(0);
}

TEST_F(EngineDeliveryTest, WithTheDlqOffAnExhaustedEntryKeepsRetryingAtTheMaximumBackoff) {
  config::NamespaceConfig config = Orders();
  config.max_retries = 1;
  config.flags.dlq_enabled = false;
  Apply(config);
  modules_.target().FailAlways(target::ApplyOutcome::kRetryable, "still down");
  ASSERT_EQ(Write(Put("user:5", "v5")).response.durable(), v1::TRUE);

  auto first = RescheduledAfter(1);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->entry.due, clock_.Now() + seconds(1));
  for (uint32_t attempt = 2; attempt <= 4; ++attempt) {
    clock_.Advance(attempt == 2 ? seconds(1) : seconds(8));
    auto next = RescheduledAfter(attempt);
    ASSERT_TRUE(next.has_value()) << "attempt " << attempt;
    EXPECT_EQ(next->entry.due, clock_.Now() + seconds(8)) << "attempt " << attempt << " waits backoff.max";
  }
  EXPECT_TRUE(backend_->DeadLetterEntries().empty()) << "with the DLQ off nothing is dead-lettered";
  EXPECT_EQ(Counters().dead_lettered.load(), 0u);
}

}  // namespace
}  // namespace wal::engine
