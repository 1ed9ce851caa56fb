// The power-loss workload: drives the local queue backend and the local set
// store, through their public APIs, over a seeded random mix of appends (one
// at a time and group-committed), far-future delayed entries, completions
// (one and several per RETIRE), reschedules, dead letters, redrive, purge,
// maintenance (checkpoints, retention, copy-forward), mutation sets (persist,
// marker, progress, done, dead, revive, discard) and clean restarts, and
// records every acknowledgement with its crash point (history.h).
//
// Determinism: with the background passes off (setup.h) and every group
// commit formed behind PowerLossFileSystem::HoldNextSync, the sequence of file
// operations depends only on the seed, so a (seed, crash point) replays.
#pragma once

#include <cstdint>

#include "common/status.h"
#include "common/testing/power_loss_file_system.h"
#include "tests/powerloss/history.h"

namespace wal::powerloss {

struct WorkloadOptions {
  uint64_t seed = 0;
  int steps = 120;
};

// Runs the workload on `file_system` (an empty disk) and closes everything at
// the end. Fails when the code under test misbehaves while running (an
// operation that should succeed does not); the crash checks are separate.
Result<History> RunWorkload(testing::PowerLossFileSystem* file_system, const WorkloadOptions& options);

// The name (idempotency key) a workload record carries, or "" if `record` is
// not one.
std::string RecordName(const std::string& record);

}  // namespace wal::powerloss
