#include "tests/powerloss/checker.h"

#include <algorithm>
#include <map>
#include <set>

#include "sets/set_manager.h"
#include "tests/powerloss/setup.h"
#include "tests/powerloss/virtual_clock.h"
#include "tests/powerloss/workload.h"
#include "wal/v1/record.pb.h"

namespace wal::powerloss {
namespace {

class Checker {
 public:
  Checker(const History& history, uint64_t crash_point, CrashCheck* check)
      : history_(history), k_(crash_point), check_(check) {}

  // Returns the operation count of `disk` once everything had reopened.
  uint64_t Run(testing::PowerLossFileSystem* disk);

 private:
  // Facts answered OK at count c happened before the crash when c <= k; a
  // call issued at count c may have reached the disk when c < k.
  bool Before(uint64_t acked) const { return acked <= k_; }
  bool MayHaveWritten(uint64_t issued) const { return issued < k_; }
  void Add(std::string kind, std::string detail) { check_->findings.push_back({std::move(kind), std::move(detail)}); }

  Status RecoverSets(queue::local::LocalBackend& backend, sets::SetManager& manager);
  // Gathering what the reopened backend holds, checking each item on the way.
  // `due_phase`: handing out what is due at the crash's time (else: the rest,
  // once every delay has passed).
  void DrainDeliveries(queue::local::LocalBackend& backend, bool due_phase);
  void ListDeadLetters(queue::local::LocalBackend& backend);
  bool Pending(const EntryFacts& entry) const { return delivered_.count(entry.name) != 0; }
  void CheckNothingAcknowledgedIsLost();
  void CheckSets(sets::SetStore& store);

  const History& history_;
  const uint64_t k_;
  CrashCheck* const check_;
  const int64_t now_ms_ = history_.ClockAt(k_);  // the virtual time at the crash
  std::map<std::string, int> delivered_;          // entry name -> times handed out
  std::set<std::string> dead_listed_;             // dead-letter names listed
};

// The markers among the records `read_page(from)` returns, page by page.
template <typename ReadPage>
Status CollectMarkers(uint64_t from, ReadPage read_page, std::vector<v1::LogRecord>* markers) {
  for (uint64_t next = from;;) {
    WAL_ASSIGN_OR_RETURN(std::vector<queue::StoredEntry> page, read_page(next));
    if (page.empty()) return Status::Ok();
    for (const auto& entry : page) {
      v1::LogRecord record;
      if (record.ParseFromString(entry.record) && record.has_set_ref()) markers->push_back(record);
      next = entry.id + 1;
    }
  }
}

// The engine's start-up scan for markers (engine_sets.cc), but a read error
// fails the check instead of ending the scan.
Status Checker::RecoverSets(queue::local::LocalBackend& backend, sets::SetManager& manager) {
  auto live = manager.store().ListLive();
  if (!live.ok()) return live.status().WithContext("listing live sets");
  if (live->empty()) return Status::Ok();
  std::vector<v1::LogRecord> markers, dead_markers;
  WAL_RETURN_IF_ERROR(CollectMarkers(backend.Stats().first_id, [&](uint64_t next) { return backend.Read(next, 4096); },
                                     &markers));
  WAL_RETURN_IF_ERROR(CollectMarkers(0, [&](uint64_t next) { return backend.ListDeadLetters(next, 4096); },
                                     &dead_markers));
  return manager.Recover(markers, dead_markers, /*complete=*/true);
}

void Checker::DrainDeliveries(queue::local::LocalBackend& backend, bool due_phase) {
  for (int round = 0; round < 1000; ++round) {
    Result<std::vector<queue::Delivery>> polled = backend.Poll(256, std::chrono::milliseconds(0));
    if (!polled.ok()) {
      Add("poll-failed", polled.status().ToString());
      return;
    }
    if (polled->empty()) return;
    for (const queue::Delivery& delivery : *polled) {
      const std::string name = RecordName(delivery.entry.record);
      auto facts = history_.entries.find(name);
      if (facts == history_.entries.end()) {
        Add("unknown-record", "id " + std::to_string(delivery.id) + " holds " +
                                  std::to_string(delivery.entry.record.size()) + " bytes no append wrote");
        continue;
      }
      const EntryFacts& entry = facts->second;
      if (delivery.entry.record != entry.bytes) Add("corrupted-record", name + " (id " + std::to_string(delivery.id) + ")");
      if (++delivered_[name] == 2) Add("duplicate-delivery", name + " handed out twice by one process");
      const int64_t due_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(delivery.entry.due.time_since_epoch()).count();
      if (due_ms != entry.due_ms) {
        Add("altered-due", name + " is due at " + std::to_string(due_ms) + ", asked " + std::to_string(entry.due_ms));
      }
      if (due_phase && entry.due_ms > now_ms_) {
        Add("handed-out-early", name + " is due " + std::to_string(entry.due_ms - now_ms_) + " ms after the crash");
      }
      if (!due_phase && entry.due_ms <= now_ms_) Add("due-entry-withheld", name + " was due but not handed out");
      if (Before(entry.retired)) {
        Add("retired-redelivered", name + " was retired (" + entry.retired_by + " OK at #" + std::to_string(entry.retired) +
                                       ") but is handed out again");
      }
      if (!MayHaveWritten(entry.issued)) Add("unwritten-record", name + " was appended at #" + std::to_string(entry.issued));
    }
  }
}

void Checker::ListDeadLetters(queue::local::LocalBackend& backend) {
  Result<std::vector<queue::StoredEntry>> listed = backend.ListDeadLetters(0, 100000);
  if (!listed.ok()) {
    Add("dead-letters-failed", listed.status().ToString());
    return;
  }
  for (const auto& entry : *listed) {
    const std::string name = RecordName(entry.record);
    auto facts = history_.dead.find(name);
    if (facts == history_.dead.end()) {
      Add("unknown-dead-letter", "DLQ id " + std::to_string(entry.id));
      continue;
    }
    const DeadFacts& dead = facts->second;
    if (entry.record != dead.bytes) Add("corrupted-dead-letter", name);
    if (!dead_listed_.insert(name).second) Add("duplicate-dead-letter", name);
    if (Before(dead.removed)) {
      Add("removed-dead-letter-back", name + " (" + dead.removed_by + " OK at #" + std::to_string(dead.removed) + ")");
    }
    if (!MayHaveWritten(dead.issued)) Add("unwritten-dead-letter", name);
  }
}

// An acknowledged entry that is not retired must still be pending, unless a
// retirement was in flight at the crash and reached the disk: a RETIRE (then
// it is gone), a replacement (then the replacement is pending) or a dead
// letter (then it is listed).
void Checker::CheckNothingAcknowledgedIsLost() {
  for (const auto& [name, entry] : history_.entries) {
    if (Before(entry.retired) || !Before(entry.acked) || Pending(entry)) continue;
    if (MayHaveWritten(entry.retire_issued)) {
      if (entry.retired_by == "complete") continue;
      if (entry.retired_by == "reschedule" && Pending(history_.entries.at(entry.successor))) continue;
      if (entry.retired_by == "dead-letter" && dead_listed_.count(entry.successor) != 0) continue;
    }
    Add("lost-entry", name + " answered TRUE at #" + std::to_string(entry.acked) +
                          (MayHaveWritten(entry.retire_issued) ? " (a " + entry.retired_by + " was in flight)" : "") +
                          " is not handed out");
  }
  for (const auto& [name, dead] : history_.dead) {
    if (!Before(dead.acked) || Before(dead.removed) || dead_listed_.count(name) != 0) continue;
    if (MayHaveWritten(dead.removal_issued)) {
      if (dead.removed_by == "purge") continue;
      if (dead.removed_by == "redrive" && Pending(history_.entries.at(dead.successor))) continue;
    }
    Add("lost-dead-letter", name + " dead-lettered OK at #" + std::to_string(dead.acked) + " is not listed" +
                                (MayHaveWritten(dead.removal_issued) ? " (a " + dead.removed_by + " was in flight)" : ""));
  }
}

void Checker::CheckSets(sets::SetStore& store) {
  // A set whose dead marker was purged is dropped with it (the engine's
  // Forget); the recovery scan drops it, DISCARDED record or not, once the
  // purge reached the disk.
  std::set<std::string> purged;
  for (const auto& [name, dead] : history_.dead) {
    v1::LogRecord record;
    const bool gone = Before(dead.removed) || dead_listed_.count(name) == 0;
    if (dead.removed_by == "purge" && MayHaveWritten(dead.removal_issued) && gone &&
        record.ParseFromString(dead.bytes) && record.has_set_ref()) {
      purged.insert(record.set_ref().set_id());
    }
  }
  for (const auto& [set_id, set] : history_.sets) {
    if (purged.count(set_id) != 0) continue;
    auto marker = history_.entries.find(set_id + ".m");
    const bool acknowledged =
        Before(set.persisted) && marker != history_.entries.end() && Before(marker->second.acked);
    if (!acknowledged) continue;
    const SetFacts::Change* last = nullptr;
    std::set<std::string> allowed;
    for (const SetFacts::Change& change : set.changes) {
      if (Before(change.acked)) last = &change;
    }
    allowed.insert(last ? last->state : "pending");
    bool after_last = last == nullptr;
    for (const SetFacts::Change& change : set.changes) {
      if (after_last && MayHaveWritten(change.issued)) allowed.insert(change.state);
      if (&change == last) after_last = true;
    }
    // Gone once DONE or DISCARDED is durable; it may be when one was in flight.
    const bool finished = last != nullptr && (last->state == "done" || last->state == "discarded");
    const bool may_be_gone = allowed.count("done") != 0 || allowed.count("discarded") != 0;
    Result<sets::StoredSet> loaded = store.Load(set_id);
    if (finished) {
      if (loaded.ok()) Add("finished-set-back", set_id + " was " + last->state + " OK at #" + std::to_string(last->acked));
      continue;
    }
    if (!loaded.ok() && loaded.status().code() == StatusCode::kNotFound && may_be_gone) continue;
    if (!loaded.ok()) {
      Add("lost-set", set_id + " (persisted at #" + std::to_string(set.persisted) + ", marker TRUE at #" +
                          std::to_string(marker->second.acked) + "): " + loaded.status().ToString());
      continue;
    }
    if (loaded->serialized != set.serialized) Add("corrupted-set", set_id);
    uint64_t progress = 0;
    for (const SetFacts::Progress& step : set.progress) {
      if (Before(step.acked)) progress = std::max(progress, step.applied_through);
    }
    if (loaded->applied_through < progress) {
      Add("lost-set-progress", set_id + " applied_through " + std::to_string(loaded->applied_through) + " < " +
                                   std::to_string(progress) + " acknowledged");
    }
    const std::string state(sets::SetStateName(loaded->state));
    if (allowed.count(state) == 0) Add("wrong-set-state", set_id + " is " + state);
  }
}

uint64_t Checker::Run(testing::PowerLossFileSystem* disk) {
  virtual_clock::Set(std::chrono::system_clock::time_point(std::chrono::milliseconds(now_ms_)));
  Result<std::unique_ptr<queue::local::LocalBackend>> backend = OpenBackend(disk);
  if (!backend.ok()) {
    Add("open-failed", backend.status().ToString());
    return disk->operation_count();
  }
  Result<std::unique_ptr<sets::LocalSetStore>> store = OpenSetStore(disk);
  if (!store.ok()) {
    Add("set-store-open-failed", store.status().ToString());
    (void)(*backend)->Close();
    return disk->operation_count();
  }
  sets::SetManager manager("ns", config::DurableStorageConfig{}, std::move(store).value());
  if (Status recovered = RecoverSets(**backend, manager); !recovered.ok()) {
    Add("set-recovery-failed", recovered.ToString());
  }
  const uint64_t reopened = disk->operation_count();
  DrainDeliveries(**backend, /*due_phase=*/true);
  virtual_clock::Advance(std::chrono::hours(24 * 365 * 100));  // every delay passes
  DrainDeliveries(**backend, /*due_phase=*/false);
  ListDeadLetters(**backend);
  CheckNothingAcknowledgedIsLost();
  CheckSets(manager.store());
  if (Status closed = (*backend)->Close(); !closed.ok()) Add("close-failed", closed.ToString());
  if (Status closed = manager.Close(); !closed.ok()) Add("close-failed", closed.ToString());
  return reopened;
}

}  // namespace

std::string CrashCheck::Describe(const History& history) const {
  std::string text = report.Summary() + "\n  during step " + history.StepAt(report.crash_point);
  if (recovery_crash) text += "\n  then a second power cut, after recovery began: " + recovery_crash->Summary();
  for (const Finding& finding : findings) text += "\n  " + finding.kind + ": " + finding.detail;
  return text;
}

bool CrashCheck::Any(bool testing::CrashReport::*flag) const {
  return report.*flag || (recovery_crash && (*recovery_crash).*flag);
}

CrashCheck CheckCrashPoint(const testing::PowerLossFileSystem& disk, const History& history, uint64_t crash_point,
                           uint64_t crash_seed, const testing::CrashOptions& options, bool crash_during_recovery) {
  CrashCheck check;
  std::unique_ptr<testing::PowerLossFileSystem> crashed = disk.CrashState(crash_point, crash_seed, options, &check.report);
  const uint64_t reopened = Checker(history, check.report.crash_point, &check).Run(crashed.get());
  if (!crash_during_recovery || !check.findings.empty()) return check;
  // Recovery (and the checks, and the close) wrote to the crashed disk: cut
  // the power again somewhere in there, within the recovery itself half of
  // the time. Recovery acknowledges nothing new, so the same promises hold.
  const uint64_t mixed = (crash_seed ^ (crash_point * 0x9e3779b97f4a7c15ull)) * 0xbf58476d1ce4e5b9ull;
  const uint64_t span = (mixed & 1) != 0 ? reopened : crashed->operation_count();
  const uint64_t second_point = (mixed >> 17) % (span + 1);
  check.recovery_crash.emplace();
  std::unique_ptr<testing::PowerLossFileSystem> again =
      crashed->CrashState(second_point, crash_seed ^ 0x5eed, options, &*check.recovery_crash);
  Checker(history, check.report.crash_point, &check).Run(again.get());
  return check;
}

}  // namespace wal::powerloss
