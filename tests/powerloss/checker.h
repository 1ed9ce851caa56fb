// The checks after one simulated power cut: materialise the crash state,
// reopen the backend and the set store on it (as wald would: the engine's
// marker scan and SetManager::Recover included), hand out everything that is
// due, and compare with what the workload was told before the crash.
//
// Promises checked, for a crash at point k:
//   * the backend and the set store open (any error is a finding: a state a
//     power cut can leave must never be refused, CORRUPTION included);
//   * every entry answered TRUE by k and not retired (Complete, Reschedule or
//     DeadLetter answered OK by k) is handed out by Poll with its exact bytes
//     and due time: at the crash's (virtual) time if it was due then, else
//     once the clock has jumped past every delay; unless a retirement was in
//     flight and landed (its replacement is handed out, its dead letter listed);
//   * nothing retired by k is handed out again, nothing is handed out twice or
//     before it is due, and nothing handed out is unknown or altered;
//   * every dead letter acknowledged by k and not redriven or purged by k is
//     listed, byte for byte, and redriven or purged ones are not;
//   * every mutation set whose Persist and marker were acknowledged by k and
//     that was not finished by k still loads, byte for byte, with at least the
//     progress and one of the states acknowledged; finished ones stay gone;
//   * all of the above again after a second power cut during the recovery.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/testing/power_loss_file_system.h"
#include "tests/powerloss/history.h"

namespace wal::powerloss {

struct Finding {
  std::string kind;    // "open-failed", "lost-entry", "retired-redelivered", ...
  std::string detail;
};

struct CrashCheck {
  testing::CrashReport report;
  // The second power cut, while the first reopen recovered, checked and
  // closed, when one was asked for (and the first reopen found nothing).
  std::optional<testing::CrashReport> recovery_crash;
  std::vector<Finding> findings;  // empty: every promise held
  std::string Describe(const History& history) const;
  // Whether either crash report has `flag` set.
  bool Any(bool testing::CrashReport::*flag) const;
};

// Checks one crash state of the run `history` recorded on `disk`. With
// `crash_during_recovery`, then cuts the power again at a point of what the
// reopen wrote, and checks the same promises after a second reopen.
CrashCheck CheckCrashPoint(const testing::PowerLossFileSystem& disk, const History& history, uint64_t crash_point,
                           uint64_t crash_seed, const testing::CrashOptions& options, bool crash_during_recovery);

}  // namespace wal::powerloss
