#include "tests/powerloss/workload.h"

#include <condition_variable>
#include <functional>
#include <mutex>
#include <random>

#include "tests/powerloss/setup.h"
#include "tests/powerloss/virtual_clock.h"
#include "wal/v1/record.pb.h"

namespace wal::powerloss {

using queue::Delivery;
using queue::QueueEntry;
using queue::TimePoint;
using testing::PowerLossFileSystem;

namespace {

constexpr auto kHoldTimeout = std::chrono::seconds(30);

// The virtual clock starts at 2030-01-01 on every run.
constexpr int64_t kStartMs = 1'893'456'000'000LL;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(virtual_clock::Now().time_since_epoch()).count();
}
TimePoint AtMs(int64_t ms) { return TimePoint(std::chrono::milliseconds(ms)); }

// Counts callbacks and waits for them.
class Waiter {
 public:
  void Add(int n = 1) {
    std::lock_guard lock(mutex_);
    outstanding_ += n;
  }
  void Done() {
    std::lock_guard lock(mutex_);
    --outstanding_;
    cv_.notify_all();
  }
  void Wait() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return outstanding_ == 0; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  int outstanding_ = 0;
};

class Runner {
 public:
  Runner(PowerLossFileSystem* fs, const WorkloadOptions& options) : fs_(fs), options_(options), random_(options.seed) {
    history_.seed = options.seed;
  }

  Result<History> Run();

 private:
  uint64_t Now() const { return fs_->operation_count(); }
  uint64_t Uniform(uint64_t low, uint64_t high) { return low + random_() % (high - low + 1); }
  bool Chance(int percent) { return static_cast<int>(random_() % 100) < percent; }
  std::string RandomText(size_t size);
  void Step(std::string description) { history_.steps.emplace_back(Now(), std::move(description)); }
  Status Fail(const std::string& what) { return Internal("workload seed " + std::to_string(options_.seed) + ": " + what); }

  Status Open();
  Status CloseAll();
  // Registers a main-queue record and returns its bytes.
  // A due time: now (immediate_percent of the time), within minutes, or days ahead.
  int64_t ChooseDueMs(int immediate_percent);
  std::string NewEntry(const std::string& name, int64_t due_ms, const std::string& set_id, v1::LogRecord record);
  std::string NewPlainEntry(int64_t due_ms);
  void AppendAsync(const std::string& name, Waiter* waiter);
  Status AppendOne(int immediate_percent);
  Status AppendGroup();
  // Runs `first`, waits until its group commit is held in its fsync, runs
  // `rest` (which queues behind it and so forms the next group), then lets go.
  Status Grouped(const std::function<void()>& first, const std::function<void()>& rest);
  Status PollAndHandle();
  Status PollAndCompleteGroup();
  Status Handle(const Delivery& delivery);
  Status HandleSetMarker(const Delivery& delivery, int action);
  Status RetireAndWait(const std::string& name, const std::string& kind, const std::string& successor,
                       const std::function<void(queue::StatusCallback)>& start,
                       const std::function<void(uint64_t)>& also);
  Status Complete(const Delivery& delivery);
  Status Reschedule(const Delivery& delivery, const std::string& set_id);
  Status DeadLetter(const Delivery& delivery);
  Status Redrive();
  Status Purge();
  Status Maintenance();
  Status MutationSets();
  Status ChangeSetState(const std::string& set_id, sets::SetState state);
  Status Restart();
  Status TimePasses();

  PowerLossFileSystem* const fs_;
  const WorkloadOptions options_;
  std::mt19937_64 random_;
  std::mutex mutex_;  // guards history_ against callbacks on backend threads
  History history_;
  std::unique_ptr<queue::local::LocalBackend> backend_;
  std::unique_ptr<sets::LocalSetStore> store_;
  uint64_t next_name_ = 0;
};

std::string Runner::RandomText(size_t size) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string text(size, 'x');
  for (char& c : text) c = kAlphabet[random_() % (sizeof(kAlphabet) - 1)];
  return text;
}

Status Runner::Open() {
  WAL_ASSIGN_OR_RETURN(backend_, OpenBackend(fs_));
  WAL_ASSIGN_OR_RETURN(store_, OpenSetStore(fs_));
  return Status::Ok();
}

Status Runner::CloseAll() {
  Status backend = backend_ ? backend_->Close() : Status::Ok();
  Status store = store_ ? store_->Close() : Status::Ok();
  backend_.reset();
  store_.reset();
  if (!backend.ok()) return backend.WithContext("closing the backend");
  return store.WithContext("closing the set store");
}

int64_t Runner::ChooseDueMs(int immediate_percent) {
  const int64_t now = NowMs();
  if (Chance(immediate_percent)) return now;
  if (Chance(70)) return now + static_cast<int64_t>(Uniform(1'000, 600'000));
  return now + static_cast<int64_t>(Uniform(3'600'000, 3 * 86'400'000));
}

std::string Runner::NewEntry(const std::string& name, int64_t due_ms, const std::string& set_id, v1::LogRecord record) {
  record.set_namespace_("ns");
  record.set_idempotency_key(name);
  EntryFacts facts;
  facts.name = name;
  facts.bytes = record.SerializeAsString();
  facts.due_ms = due_ms;
  facts.set_id = set_id;
  std::lock_guard lock(mutex_);
  history_.entries[name] = facts;
  return facts.bytes;
}

std::string Runner::NewPlainEntry(int64_t due_ms) {
  v1::LogRecord record;
  record.mutable_payload()->set_opaque(RandomText(Uniform(20, 700)));
  std::string name = "e" + std::to_string(next_name_++);
  NewEntry(name, due_ms, "", std::move(record));
  return name;
}

void Runner::AppendAsync(const std::string& name, Waiter* waiter) {
  QueueEntry entry;
  {
    std::lock_guard lock(mutex_);
    EntryFacts& facts = history_.entries.at(name);
    entry.record = facts.bytes;
    entry.due = AtMs(facts.due_ms);
    facts.issued = Now();
  }
  waiter->Add();
  backend_->Append(std::move(entry), [this, name, waiter](const queue::AppendOutcome& outcome) {
    if (outcome.durability == Durability::kTrue) {
      const uint64_t now = Now();
      std::lock_guard lock(mutex_);
      history_.entries.at(name).acked = now;
    }
    waiter->Done();
  });
}

Status Runner::AppendOne(int immediate_percent) {
  const int64_t due_ms = ChooseDueMs(immediate_percent);
  const std::string name = NewPlainEntry(due_ms);
  Step("append " + name + (due_ms > NowMs() ? " delayed " + std::to_string(due_ms - NowMs()) + " ms" : ""));
  Waiter waiter;
  AppendAsync(name, &waiter);
  waiter.Wait();
  std::lock_guard lock(mutex_);
  if (history_.entries.at(name).acked == kNever) return Fail("append of " + name + " was not durable");
  return Status::Ok();
}

Status Runner::Grouped(const std::function<void()>& first, const std::function<void()>& rest) {
  fs_->HoldNextSync();
  first();
  const bool held = fs_->WaitForHeldSync(kHoldTimeout);
  if (held) rest();
  fs_->ReleaseHeldSync();
  if (!held) return Fail("the first operation of a group never reached its fsync");
  return Status::Ok();
}

Status Runner::AppendGroup() {
  const uint64_t size = Uniform(2, 6);
  std::vector<std::string> names;
  for (uint64_t i = 0; i < size; ++i) names.push_back(NewPlainEntry(ChooseDueMs(90)));
  Step("append group of " + std::to_string(size) + " from " + names.front());
  Waiter waiter;
  WAL_RETURN_IF_ERROR(Grouped([&] { AppendAsync(names[0], &waiter); },
                              [&] {
                                for (size_t i = 1; i < names.size(); ++i) AppendAsync(names[i], &waiter);
                              }));
  waiter.Wait();
  std::lock_guard lock(mutex_);
  for (const std::string& name : names) {
    if (history_.entries.at(name).acked == kNever) return Fail("group append of " + name + " was not durable");
  }
  return Status::Ok();
}

// Records that `name` is being retired by `kind` (into `successor`), runs
// `start` with a completion callback and waits for it; on OK marks `name`
// retired and calls `also` (under the history mutex) with the count then.
Status Runner::RetireAndWait(const std::string& name, const std::string& kind, const std::string& successor,
                             const std::function<void(queue::StatusCallback)>& start,
                             const std::function<void(uint64_t)>& also) {
  {
    std::lock_guard lock(mutex_);
    EntryFacts& facts = history_.entries.at(name);
    facts.retire_issued = Now();
    facts.retired_by = kind;
    facts.successor = successor;
  }
  Waiter waiter;
  waiter.Add();
  Status result;
  start([&](const Status& status) {
    result = status;
    if (status.ok()) {
      const uint64_t now = Now();
      std::lock_guard lock(mutex_);
      history_.entries.at(name).retired = now;
      if (also) also(now);
    }
    waiter.Done();
  });
  waiter.Wait();
  return result.WithContext(kind + " of " + name);
}

Status Runner::Complete(const Delivery& delivery) {
  return RetireAndWait(RecordName(delivery.entry.record), "complete", "",
                       [&](queue::StatusCallback done) { backend_->Complete(delivery, std::move(done)); }, nullptr);
}

Status Runner::Reschedule(const Delivery& delivery, const std::string& set_id) {
  const std::string name = RecordName(delivery.entry.record);
  v1::LogRecord record;
  if (!record.ParseFromString(delivery.entry.record)) return Fail("delivery of " + name + " does not parse");
  record.set_attempt(record.attempt() + 1);
  record.add_errors("retryable failure " + std::to_string(record.attempt()));
  const int64_t due_ms = ChooseDueMs(40);  // a retry with backoff
  const std::string replacement = name + ".r";
  QueueEntry entry;
  entry.record = NewEntry(replacement, due_ms, set_id, std::move(record));
  entry.due = AtMs(due_ms);
  {
    std::lock_guard lock(mutex_);
    history_.entries.at(replacement).issued = Now();
    if (!set_id.empty()) history_.sets.at(set_id).marker = replacement;
  }
  return RetireAndWait(
      name, "reschedule", replacement,
      [&](queue::StatusCallback done) { backend_->Reschedule(delivery, std::move(entry), std::move(done)); },
      [&](uint64_t now) { history_.entries.at(replacement).acked = now; });
}

Status Runner::DeadLetter(const Delivery& delivery) {
  const std::string name = RecordName(delivery.entry.record);
  v1::LogRecord record;
  if (!record.ParseFromString(delivery.entry.record)) return Fail("delivery of " + name + " does not parse");
  const std::string dead_name = name + ".d";
  record.set_idempotency_key(dead_name);
  record.add_errors("permanent failure");
  DeadFacts facts;
  facts.name = dead_name;
  facts.bytes = record.SerializeAsString();
  facts.issued = Now();
  {
    std::lock_guard lock(mutex_);
    history_.dead[dead_name] = facts;
  }
  return RetireAndWait(
      name, "dead-letter", dead_name,
      [&](queue::StatusCallback done) { backend_->DeadLetter(delivery, facts.bytes, std::move(done)); },
      [&](uint64_t now) { history_.dead.at(dead_name).acked = now; });
}

Status Runner::ChangeSetState(const std::string& set_id, sets::SetState state) {
  SetFacts::Change change;
  change.issued = Now();
  change.state = std::string(sets::SetStateName(state));
  Status status = store_->SetState(set_id, state);
  if (status.ok()) change.acked = Now();
  std::lock_guard lock(mutex_);
  history_.sets.at(set_id).changes.push_back(change);
  return status.WithContext("set " + set_id + " -> " + change.state);
}

// What the engine does with a marker (sets/set_manager.h): load the set,
// revive it if it was dead, record progress, then finish it and complete the
// marker, retry it, or mark it dead and dead-letter the marker.
Status Runner::HandleSetMarker(const Delivery& delivery, int action) {
  const std::string name = RecordName(delivery.entry.record);
  std::string set_id;
  {
    std::lock_guard lock(mutex_);
    set_id = history_.entries.at(name).set_id;
  }
  Result<sets::StoredSet> loaded = store_->Load(set_id);
  if (!loaded.ok()) return loaded.status().WithContext("loading set " + set_id + " for marker " + name);
  if (loaded->state == sets::SetState::kDead) WAL_RETURN_IF_ERROR(ChangeSetState(set_id, sets::SetState::kPending));
  if (Chance(60)) {
    const uint64_t applied = loaded->applied_through + Uniform(1, 5);
    SetFacts::Progress progress;
    Status recorded = store_->RecordProgress(set_id, applied);
    if (!recorded.ok()) return recorded.WithContext("recording progress of set " + set_id);
    progress.acked = Now();
    progress.applied_through = applied;
    std::lock_guard lock(mutex_);
    history_.sets.at(set_id).progress.push_back(progress);
  }
  if (action < 55) {
    WAL_RETURN_IF_ERROR(ChangeSetState(set_id, sets::SetState::kDone));
    return Complete(delivery);
  }
  if (action < 80) return Reschedule(delivery, set_id);
  WAL_RETURN_IF_ERROR(ChangeSetState(set_id, sets::SetState::kDead));
  return DeadLetter(delivery);
}

Status Runner::Handle(const Delivery& delivery) {
  const std::string name = RecordName(delivery.entry.record);
  bool is_marker;
  {
    std::lock_guard lock(mutex_);
    auto found = history_.entries.find(name);
    if (found == history_.entries.end()) return Fail("Poll handed out an unknown record");
    if (found->second.bytes != delivery.entry.record) return Fail("Poll handed out " + name + " with other bytes");
    is_marker = !found->second.set_id.empty();
  }
  const int action = static_cast<int>(Uniform(0, 99));
  Step("handle " + name + (action < 55 ? " (complete)" : action < 80 ? " (reschedule)" : " (dead-letter)"));
  if (is_marker) return HandleSetMarker(delivery, action);
  if (action < 55) return Complete(delivery);
  if (action < 80) return Reschedule(delivery, "");
  return DeadLetter(delivery);
}

Status Runner::PollAndHandle() {
  WAL_ASSIGN_OR_RETURN(std::vector<Delivery> deliveries, backend_->Poll(1, std::chrono::milliseconds(0)));
  if (deliveries.empty()) return AppendOne(100);
  return Handle(deliveries.front());
}

Status Runner::PollAndCompleteGroup() {
  WAL_ASSIGN_OR_RETURN(std::vector<Delivery> deliveries, backend_->Poll(Uniform(2, 5), std::chrono::milliseconds(0)));
  bool plain = deliveries.size() >= 2;
  {
    std::lock_guard lock(mutex_);
    for (const Delivery& delivery : deliveries) {
      auto found = history_.entries.find(RecordName(delivery.entry.record));
      if (found == history_.entries.end() || !found->second.set_id.empty()) plain = false;
    }
  }
  if (!plain) {
    for (const Delivery& delivery : deliveries) WAL_RETURN_IF_ERROR(Handle(delivery));
    return Status::Ok();
  }
  Step("complete group of " + std::to_string(deliveries.size()) + " from " + RecordName(deliveries[0].entry.record));
  Waiter waiter;
  std::mutex results_mutex;
  std::vector<Status> results(deliveries.size());
  auto complete = [&](size_t i) {
    const std::string name = RecordName(deliveries[i].entry.record);
    {
      std::lock_guard lock(mutex_);
      history_.entries.at(name).retire_issued = Now();
      history_.entries.at(name).retired_by = "complete";
    }
    waiter.Add();
    backend_->Complete(deliveries[i], [&, i, name](const Status& status) {
      if (status.ok()) {
        const uint64_t now = Now();
        std::lock_guard lock(mutex_);
        history_.entries.at(name).retired = now;
      }
      {
        std::lock_guard lock(results_mutex);
        results[i] = status;
      }
      waiter.Done();
    });
  };
  WAL_RETURN_IF_ERROR(Grouped([&] { complete(0); },
                              [&] {
                                for (size_t i = 1; i < deliveries.size(); ++i) complete(i);
                              }));
  waiter.Wait();
  for (const Status& status : results) WAL_RETURN_IF_ERROR(status.WithContext("group complete"));
  return Status::Ok();
}

Status Runner::Redrive() {
  WAL_ASSIGN_OR_RETURN(std::vector<queue::StoredEntry> dead, backend_->ListDeadLetters(0, 1000));
  if (dead.empty()) return AppendOne(100);
  const queue::StoredEntry& chosen = dead[Uniform(0, dead.size() - 1)];
  const std::string dead_name = RecordName(chosen.record);
  const std::string name = dead_name + ".v";
  Step("redrive " + dead_name);
  const uint64_t issued = Now();
  {
    std::lock_guard lock(mutex_);
    DeadFacts& facts = history_.dead.at(dead_name);
    facts.removal_issued = issued;
    facts.removed_by = "redrive";
    facts.successor = name;
  }
  auto transform = [&](const std::string& dead_record) -> Result<QueueEntry> {
    v1::LogRecord record;
    if (!record.ParseFromString(dead_record)) return InvalidArgument("dead record does not parse");
    record.set_attempt(0);
    std::string set_id = record.has_set_ref() ? record.set_ref().set_id() : "";
    QueueEntry entry;
    entry.record = NewEntry(name, NowMs(), set_id, std::move(record));
    entry.due = AtMs(NowMs());
    std::lock_guard lock(mutex_);
    history_.entries.at(name).issued = issued;
    if (!set_id.empty()) history_.sets.at(set_id).marker = name;
    return entry;
  };
  WAL_ASSIGN_OR_RETURN(uint64_t moved, backend_->RedriveDeadLetters({chosen.id}, transform));
  if (moved != 1) return Fail("redrive of " + dead_name + " moved " + std::to_string(moved));
  const uint64_t now = Now();
  std::lock_guard lock(mutex_);
  history_.dead.at(dead_name).removed = now;
  history_.entries.at(name).acked = now;
  return Status::Ok();
}

// Purge, then drop the sets of purged markers (as the engine's Forget does).
Status Runner::Purge() {
  WAL_ASSIGN_OR_RETURN(std::vector<queue::StoredEntry> dead, backend_->ListDeadLetters(0, 1000));
  if (dead.empty()) return AppendOne(0);
  std::vector<uint64_t> ids;
  std::vector<std::string> names;
  const size_t count = std::min<size_t>(dead.size(), Uniform(1, 2));
  for (size_t i = 0; i < count; ++i) {
    ids.push_back(dead[i].id);
    names.push_back(RecordName(dead[i].record));
  }
  Step("purge " + names.front() + (count > 1 ? " and " + names.back() : ""));
  {
    std::lock_guard lock(mutex_);
    for (const std::string& name : names) {
      history_.dead.at(name).removal_issued = Now();
      history_.dead.at(name).removed_by = "purge";
    }
  }
  WAL_ASSIGN_OR_RETURN(uint64_t purged, backend_->PurgeDeadLetters(ids));
  if (purged != ids.size()) return Fail("purge removed " + std::to_string(purged) + " of " + std::to_string(ids.size()));
  std::vector<std::string> set_ids;
  {
    const uint64_t now = Now();
    std::lock_guard lock(mutex_);
    for (const std::string& name : names) {
      DeadFacts& facts = history_.dead.at(name);
      facts.removed = now;
      v1::LogRecord record;
      if (record.ParseFromString(facts.bytes) && record.has_set_ref()) set_ids.push_back(record.set_ref().set_id());
    }
  }
  for (const std::string& set_id : set_ids) WAL_RETURN_IF_ERROR(ChangeSetState(set_id, sets::SetState::kDiscarded));
  return Status::Ok();
}

Status Runner::Maintenance() {
  Step("maintenance");
  return backend_->RunMaintenance().status().WithContext("maintenance");
}

// One set alone, or two whose chunks are group-committed together, each
// followed by its marker.
Status Runner::MutationSets() {
  const int count = Chance(50) ? 1 : 2;
  std::vector<std::string> set_ids;
  std::vector<std::vector<std::string>> chunks;
  for (int i = 0; i < count; ++i) {
    set_ids.push_back("set" + std::to_string(next_name_++));
    // Only the second of a pair has several chunks: they queue behind the
    // first one's fsync and so form one group. (Several chunks appended with
    // nothing holding the commit thread would be grouped by thread timing.)
    const uint64_t chunk_count = i == 1 ? Uniform(1, 3) : 1;
    std::vector<std::string> pieces;
    SetFacts facts;
    facts.set_id = set_ids.back();
    for (uint64_t c = 0; c < chunk_count; ++c) {
      pieces.push_back(RandomText(Uniform(50, 1500)));
      facts.serialized += pieces.back();
    }
    chunks.push_back(std::move(pieces));
    std::lock_guard lock(mutex_);
    history_.sets[facts.set_id] = facts;
  }
  Step("mutation set " + set_ids.front() + (count > 1 ? " and " + set_ids.back() : ""));
  Waiter waiter;
  std::vector<Status> results(count);
  auto persist = [&](int i) {
    {
      std::lock_guard lock(mutex_);
      history_.sets.at(set_ids[i]).persist_issued = Now();
    }
    waiter.Add();
    store_->Persist(set_ids[i], chunks[i], [&, i](sets::PersistOutcome outcome) {
      if (outcome.status.ok()) {
        const uint64_t now = Now();
        std::lock_guard lock(mutex_);
        history_.sets.at(set_ids[i]).persisted = now;
      }
      results[i] = outcome.status;
      waiter.Done();
    });
  };
  if (count == 1) {
    persist(0);
  } else {
    WAL_RETURN_IF_ERROR(Grouped([&] { persist(0); }, [&] { persist(1); }));
  }
  waiter.Wait();
  for (const Status& status : results) WAL_RETURN_IF_ERROR(status.WithContext("persisting a mutation set"));

  for (int i = 0; i < count; ++i) {
    v1::LogRecord marker;
    v1::MutationSetRef* ref = marker.mutable_set_ref();
    ref->set_set_id(set_ids[i]);
    ref->set_storage("local");
    ref->set_chunks(static_cast<uint32_t>(chunks[i].size()));
    const std::string name = set_ids[i] + ".m";
    NewEntry(name, ChooseDueMs(80), set_ids[i], std::move(marker));
    {
      std::lock_guard lock(mutex_);
      history_.sets.at(set_ids[i]).marker = name;
    }
    Waiter appended;
    AppendAsync(name, &appended);
    appended.Wait();
    std::lock_guard lock(mutex_);
    if (history_.entries.at(name).acked == kNever) return Fail("marker " + name + " was not durable");
  }
  return Status::Ok();
}

// Delays pass without sleeping: the virtual clock jumps.
Status Runner::TimePasses() {
  const int64_t by = Chance(85) ? static_cast<int64_t>(Uniform(1'000, 900'000))
                                : static_cast<int64_t>(Uniform(3'600'000, 2 * 86'400'000));
  Step("time passes: " + std::to_string(by) + " ms");
  virtual_clock::Advance(std::chrono::milliseconds(by));
  history_.clock.emplace_back(Now(), NowMs());
  return Status::Ok();
}

Status Runner::Restart() {
  Step("restart");
  WAL_RETURN_IF_ERROR(CloseAll());
  return Open().WithContext("reopening after a clean close");
}

Result<History> Runner::Run() {
  WAL_RETURN_IF_ERROR(fs_->CreateDirectories(kDataDir));
  for (std::string directory = kDataDir; !directory.empty() && directory != "/";) {
    directory = directory.substr(0, directory.find_last_of('/'));
    WAL_RETURN_IF_ERROR(fs_->SyncDirectory(directory.empty() ? "/" : directory));
  }
  history_.first_crash_point = Now();
  virtual_clock::Set(AtMs(kStartMs));
  history_.clock.emplace_back(0, kStartMs);
  Step("open");
  WAL_RETURN_IF_ERROR(Open());
  for (int step = 0; step < options_.steps; ++step) {
    const uint64_t roll = Uniform(0, 99);
    Status status;
    if (roll < 13) {
      status = AppendOne(75);
    } else if (roll < 21) {
      status = AppendGroup();
    } else if (roll < 48) {
      status = PollAndHandle();
    } else if (roll < 60) {
      status = PollAndCompleteGroup();
    } else if (roll < 64) {
      status = Redrive();
    } else if (roll < 67) {
      status = Purge();
    } else if (roll < 76) {
      status = Maintenance();
    } else if (roll < 88) {
      status = MutationSets();
    } else if (roll < 97) {
      status = TimePasses();
    } else {
      status = Restart();
    }
    if (!status.ok()) return status.WithContext("workload seed " + std::to_string(options_.seed) + " step " +
                                                std::to_string(step) + " (" + history_.steps.back().second + ")");
  }
  Step("close");
  WAL_RETURN_IF_ERROR(CloseAll());
  history_.operations = Now();
  return std::move(history_);
}

}  // namespace

std::string RecordName(const std::string& record) {
  v1::LogRecord parsed;
  if (!parsed.ParseFromString(record)) return "";
  return parsed.idempotency_key();
}

int64_t History::ClockAt(uint64_t crash_point) const {
  int64_t ms = clock.empty() ? kStartMs : clock.front().second;
  for (const auto& [first, at] : clock) {
    if (first > crash_point) break;
    ms = at;
  }
  return ms;
}

std::string History::StepAt(uint64_t crash_point) const {
  std::string step = "(before the first step)";
  for (const auto& [first, description] : steps) {
    if (first > crash_point) break;
    step = "#" + std::to_string(first) + " " + description;
  }
  return step;
}

Result<History> RunWorkload(PowerLossFileSystem* file_system, const WorkloadOptions& options) {
  Runner runner(file_system, options);
  return runner.Run();
}

}  // namespace wal::powerloss
