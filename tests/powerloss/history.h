// What one run of the power-loss workload did and what it was told, with the
// crash point (PowerLossFileSystem::operation_count()) at which each thing
// happened. "issued" is the count just before a call; "acked" the count when
// its callback reported success (TRUE / OK). An acknowledgement at count c
// happened before a crash at point k exactly when c <= k. Times are on the
// test's virtual clock (virtual_clock.h).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace wal::powerloss {

inline constexpr uint64_t kNever = UINT64_MAX;

// One record written to the main queue: an append, a reschedule's
// replacement, a redriven dead letter, or a mutation set's marker. Records
// are unique: each carries its name as its idempotency key.
struct EntryFacts {
  std::string name;
  std::string bytes;                // the serialized wal.v1.LogRecord handed to the backend
  int64_t due_ms = 0;               // the due time asked for (virtual clock, unix ms)
  std::string set_id;               // for a mutation set's marker
  uint64_t issued = kNever;
  uint64_t acked = kNever;          // the append (or the call that made it) reported TRUE / OK
  uint64_t retire_issued = kNever;  // Complete, Reschedule or DeadLetter called
  uint64_t retired = kNever;        // ... and reported OK
  std::string retired_by;           // which one: "complete" | "reschedule" | "dead-letter"
  std::string successor;            // the replacement entry or the dead letter it became
};

// One record moved to the dead-letter queue.
struct DeadFacts {
  std::string name;
  std::string bytes;
  uint64_t issued = kNever;
  uint64_t acked = kNever;          // DeadLetter reported OK
  uint64_t removal_issued = kNever; // redrive or purge called
  uint64_t removed = kNever;        // ... and returned OK
  std::string removed_by;           // which was called: "redrive" | "purge"
  std::string successor;            // the main-queue entry a redrive made of it
};

// One mutation set in the local set store.
struct SetFacts {
  std::string set_id;
  std::string serialized;          // the chunks, concatenated
  std::string marker;              // the name of its marker entry
  uint64_t persist_issued = kNever;
  uint64_t persisted = kNever;     // Persist reported OK
  struct Progress {
    uint64_t acked = kNever;
    uint64_t applied_through = 0;
  };
  std::vector<Progress> progress;  // RecordProgress calls that reported OK
  struct Change {
    uint64_t issued = kNever;
    uint64_t acked = kNever;
    std::string state;             // "pending" | "dead" | "done" | "discarded"
  };
  std::vector<Change> changes;     // SetState calls, in call order
};

struct History {
  uint64_t seed = 0;
  uint64_t first_crash_point = 0;  // after the test made the data directory durable
  uint64_t operations = 0;         // crash points are first_crash_point..operations
  std::map<std::string, EntryFacts> entries;
  std::map<std::string, DeadFacts> dead;
  std::map<std::string, SetFacts> sets;
  // (first operation, description) of every workload step, in order.
  std::vector<std::pair<uint64_t, std::string>> steps;
  // (first operation, virtual unix ms) each time the workload's clock moved.
  std::vector<std::pair<uint64_t, int64_t>> clock;
  // The virtual time at crash point k.
  int64_t ClockAt(uint64_t crash_point) const;
  // The step that was running at crash point k (for failure messages).
  std::string StepAt(uint64_t crash_point) const;
};

}  // namespace wal::powerloss
