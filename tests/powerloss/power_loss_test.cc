// The crash-point workload test: for every operation index of a seeded
// workload (workload.h), cut the power there (PowerLossFileSystem), reopen,
// and check every acknowledged promise (checker.h); for the first crash state
// of each point, cut the power once more during that reopen and check again.
//
// Runs:
//   bounded (make test)          4 shards x kBoundedSeedsPerShard seeds; per crash point one
//                                crash state, or kBoundedVariants where something was unsynced
//                                (release: ~13,500 crash points, ~30,000 crash states)
//   WAL_POWERLOSS_SEEDS=N        N seeds per shard instead (a long run)
//   WAL_POWERLOSS_VARIANTS=V     V crash states per point where something was unsynced
//   WAL_POWERLOSS_STEPS=S        S workload steps per seed
//   WAL_POWERLOSS_REPLAY=seed:point[:variant]
//                                the Replay test prints that one crash state and what it found
//                                (with WAL_POWERLOSS_DUMP=1 every operation of the run)
// Every failure prints its replay line.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "log/log.h"
#include "log/record_format.h"
#include "tests/powerloss/checker.h"
#include "tests/powerloss/workload.h"

namespace wal::powerloss {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

// Release: about 10 s of CPU per shard on the 2-core development VM (~15 s
// of wall time when the machine is busy). A sanitizer build is ~10x slower,
// so it checks about a seventh as many crash states.
constexpr uint64_t kBoundedSeedsPerShard = kSanitized ? 1 : 5;
constexpr int kDefaultSteps = kSanitized ? 100 : 120;
constexpr uint64_t kBoundedVariants = kSanitized ? 2 : 3;
// ExpectedFailuresStillReproduce looks at up to this many seeds (it stops once
// each expected failure showed up; only crash states that can show one are checked).
constexpr uint64_t kExpectedScanSeeds = 20;

// ---------------------------------------------------------------------------
// Expected failures: known defects that this test still finds. While one is
// listed, the crash states it explains are counted instead of failing the
// shards, and ExpectedFailuresStillReproduce fails as soon as one of them no
// longer shows up, so whoever fixes a defect removes its entry here (and the
// fix is then guarded by the shards). Remove an entry when its fix merges.
struct ExpectedFailure {
  const char* id;
  const char* defect;
  // Cheap: can this crash state show it at all (from the crash report alone)?
  bool (*possible)(const testing::CrashReport& report);
  bool (*explains)(const CrashCheck& check);
};

// A log whose only segment holds the first 8 bytes of its header (what a
// power cut while the segment was made can leave) is opened, so recovery
// rewrites the header; then a second power cut at each operation of that
// recovery, with the rewritten sector kept or not. Returns how a state failed
// to open, or "" if every one opened. (Too rare in the workload for the
// bounded run to meet: the reopen must tear a new segment's header and the
// second cut land inside the rewrite.)
std::string TornHeaderRewriteFailure() {
  testing::PowerLossFileSystem fs;
  const std::string directory = "/d/log";
  const std::string segment = JoinPath(directory, log::SegmentFileName(0));
  if (!fs.CreateDirectories(directory).ok()) return "the setup failed";
  auto file = fs.OpenAppendable(segment);
  if (!file.ok() || !(*file)->Append(log::EncodeSegmentHeader(0).substr(0, 8)).ok() || !(*file)->Sync().ok() ||
      !fs.SyncDirectory(directory).ok() || !fs.SyncDirectory("/d").ok() || !fs.SyncDirectory("/").ok()) {
    return "the setup failed";
  }
  log::LogOptions options;
  options.directory = directory;
  options.preallocate = false;
  const uint64_t before = fs.operation_count();
  {
    auto recovered = log::Log::Open(&fs, options, nullptr);
    if (!recovered.ok()) return "the first recovery failed: " + recovered.status().ToString();
  }
  const uint64_t after = fs.operation_count();
  for (uint64_t point = before; point <= after; ++point) {
    for (uint64_t seed = 0; seed < 64; ++seed) {
      testing::CrashOptions crash;
      crash.data = testing::DataLoss::kSectorSubset;
      testing::CrashReport report;
      auto crashed = fs.CrashState(point, seed, crash, &report);
      auto reopened = log::Log::Open(crashed.get(), options, nullptr);
      if (!reopened.ok()) {
        return "power cut at " + fs.DescribeOperation(point) + " of the recovery: " + reopened.status().ToString() +
               "\n    " + report.Summary();
      }
    }
  }
  return "";
}

// Known defects the workload still finds, each with how to recognise it. Empty:
// every class found so far is fixed. A new entry needs a defect description,
// a "possible" filter and an "explains" check, as the history of this file shows.
const std::vector<ExpectedFailure> kExpectedFailures = {};

// The expected failure that explains what `check` found, or nullptr (also
// when it found nothing).
const ExpectedFailure* Explain(const CrashCheck& check) {
  if (check.findings.empty()) return nullptr;
  for (const ExpectedFailure& expected : kExpectedFailures) {
    if (expected.explains(check)) return &expected;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------

uint64_t EnvNumber(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return fallback;
  return std::strtoull(value, nullptr, 10);
}

uint64_t SeedsPerShard() { return EnvNumber("WAL_POWERLOSS_SEEDS", kBoundedSeedsPerShard); }
int Steps() { return static_cast<int>(EnvNumber("WAL_POWERLOSS_STEPS", kDefaultSteps)); }
uint64_t Variants() { return std::max<uint64_t>(1, EnvNumber("WAL_POWERLOSS_VARIANTS", kBoundedVariants)); }

// Where everything issued was synced a power cut leaves one state; other
// variants would repeat it.
bool HasChoices(const testing::CrashReport& report) {
  return report.unsynced_files > 0 || report.unsynced_directory_ops > 0;
}

// The crash-choice seed of one crash state of a workload seed.
uint64_t CrashSeed(uint64_t seed, uint64_t variant) { return seed * 1'000'003 + variant; }

std::string ReplayLine(uint64_t seed, uint64_t point, uint64_t variant) {
  return "WAL_POWERLOSS_REPLAY=" + std::to_string(seed) + ":" + std::to_string(point) + ":" + std::to_string(variant) +
         " (WAL_POWERLOSS_STEPS=" + std::to_string(Steps()) + ") tests/powerloss/wal_power_loss_test "
         "--gtest_filter=PowerLossWorkloadTest.Replay";
}

struct Workload {
  std::unique_ptr<testing::PowerLossFileSystem> disk = std::make_unique<testing::PowerLossFileSystem>();
  History history;
};

Workload RunOrFail(uint64_t seed) {
  Workload workload;
  Result<History> history = RunWorkload(workload.disk.get(), WorkloadOptions{seed, Steps()});
  EXPECT_TRUE(history.ok()) << history.status().ToString();
  if (history.ok()) workload.history = std::move(history).value();
  return workload;
}

class Quiet : public ::testing::Environment {
 public:
  // Recovery logs every torn tail it cuts; thousands of reopens would drown the output.
  void SetUp() override { spdlog::set_level(spdlog::level::off); }
};
const auto* const kQuiet = ::testing::AddGlobalTestEnvironment(new Quiet);

// Calls visit(point, variant, crash_seed) for the crash states checked for one
// workload: variant 0 of every crash point, and further variants while visit
// returns true (it returns whether the point's crash state had choices).
template <typename Visit>
void ForEachCrashState(const Workload& workload, uint64_t seed, Visit visit) {
  const uint64_t variants = Variants();
  for (uint64_t point = workload.history.first_crash_point; point <= workload.history.operations; ++point) {
    for (uint64_t variant = 0; variant < variants; ++variant) {
      if (!visit(point, variant, CrashSeed(seed, variant))) break;
    }
  }
}

struct Tally {
  uint64_t seeds = 0;
  uint64_t crash_points = 0;
  uint64_t crash_states = 0;     // checked: variants of the points with choices included
  uint64_t recovery_crashes = 0; // of those, followed by a second crash during recovery
  uint64_t unsynced_states = 0;  // crash states that lost or tore something
  std::map<std::string, uint64_t> expected;
  uint64_t unexplained = 0;
};

void RunShard(uint64_t shard) {
  const auto started = std::chrono::steady_clock::now();
  const uint64_t seeds = SeedsPerShard();
  Tally tally;
  for (uint64_t seed = shard * seeds; seed < (shard + 1) * seeds; ++seed) {
    Workload workload = RunOrFail(seed);
    if (workload.history.operations == 0) return;
    ++tally.seeds;
    ForEachCrashState(workload, seed, [&](uint64_t point, uint64_t variant, uint64_t crash_seed) {
      CrashCheck check = CheckCrashPoint(*workload.disk, workload.history, point, crash_seed, testing::CrashOptions{},
                                         /*crash_during_recovery=*/variant == 0);
      ++tally.crash_states;
      if (check.recovery_crash) ++tally.recovery_crashes;
      if (variant == 0) ++tally.crash_points;
      if (check.report.lost_data || check.report.lost_directory_ops > 0) ++tally.unsynced_states;
      if (check.findings.empty()) {
        // every promise held
      } else if (const ExpectedFailure* expected = Explain(check)) {
        ++tally.expected[expected->id];
      } else if (++tally.unexplained <= 5) {
        ADD_FAILURE() << "power loss broke a promise: " << check.Describe(workload.history) << "\n  replay: "
                      << ReplayLine(seed, point, variant);
      }
      return HasChoices(check.report);
    });
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << "power-loss shard " << shard << ": seeds " << shard * seeds << ".." << (shard + 1) * seeds - 1 << ", "
            << tally.crash_points << " crash points, " << tally.crash_states << " crash states ("
            << tally.unsynced_states << " lost or reordered something, " << tally.recovery_crashes
            << " crashed again during recovery) in " << seconds << " s; unexplained failures "
            << tally.unexplained;
  for (const auto& [id, count] : tally.expected) std::cout << "; expected '" << id << "' " << count;
  std::cout << std::endl;
  EXPECT_EQ(tally.unexplained, 0u);
}

TEST(PowerLossWorkloadTest, Shard0) { RunShard(0); }
TEST(PowerLossWorkloadTest, Shard1) { RunShard(1); }
TEST(PowerLossWorkloadTest, Shard2) { RunShard(2); }
TEST(PowerLossWorkloadTest, Shard3) { RunShard(3); }

// Each listed expected failure must still show up somewhere in the bounded
// run's crash points; when one stops, it has been fixed: remove it from
// kExpectedFailures.
TEST(PowerLossWorkloadTest, ExpectedFailuresStillReproduce) {
  std::map<std::string, std::string> found;  // id -> replay line and description
  const size_t wanted = kExpectedFailures.size();
  for (uint64_t seed = 0; seed < kExpectedScanSeeds && found.size() != wanted; ++seed) {
    Workload workload = RunOrFail(seed);
    ForEachCrashState(workload, seed, [&](uint64_t point, uint64_t variant, uint64_t crash_seed) {
      testing::CrashReport report;
      (void)workload.disk->CrashState(point, crash_seed, testing::CrashOptions{}, &report);
      bool possible = false;
      for (const ExpectedFailure& expected : kExpectedFailures) {
        possible = possible || (!found.count(expected.id) && expected.possible(report));
      }
      if (possible) {
        CrashCheck check = CheckCrashPoint(*workload.disk, workload.history, point, crash_seed, testing::CrashOptions{},
                                           /*crash_during_recovery=*/variant == 0);
        if (const ExpectedFailure* expected = Explain(check); expected && !found.count(expected->id)) {
          found[expected->id] = ReplayLine(seed, point, variant) + "\n    " + check.Describe(workload.history);
        }
      }
      return found.size() != wanted && HasChoices(report);
    });
  }
  for (const ExpectedFailure& expected : kExpectedFailures) {
    auto hit = found.find(expected.id);
    if (hit == found.end()) {
      ADD_FAILURE() << "expected failure '" << expected.id << "' (" << expected.defect
                    << ") no longer reproduces in the bounded run: if it is fixed, remove it from kExpectedFailures";
    } else {
      std::cout << "still failing as expected: " << expected.id << " (" << expected.defect << ")\n  " << hit->second
                << std::endl;
    }
  }
}

// Failed before recovery took any bad last-segment header with no record
// after it for a torn one: a power cut in the rewrite left "segment header
// checksum mismatch" and the log would not open.
TEST(PowerLossWorkloadTest, ARecoveryThatRewritesATornHeaderSurvivesASecondPowerCut) {
  EXPECT_EQ(TornHeaderRewriteFailure(), "");
}

// The same seed issues the same file operations, so a replay line is exact.
TEST(PowerLossWorkloadTest, TheWorkloadIsDeterministic) {
  Workload first = RunOrFail(11);
  Workload second = RunOrFail(11);
  const uint64_t common = std::min(first.history.operations, second.history.operations);
  for (uint64_t i = 0; i < common; ++i) {
    ASSERT_EQ(first.disk->DescribeOperation(i), second.disk->DescribeOperation(i))
        << "in step " << first.history.StepAt(i) << " / " << second.history.StepAt(i);
  }
  ASSERT_EQ(first.history.operations, second.history.operations);
  EXPECT_EQ(first.history.steps, second.history.steps);
}

TEST(PowerLossWorkloadTest, Replay) {
  const char* replay = std::getenv("WAL_POWERLOSS_REPLAY");
  if (replay == nullptr) GTEST_SKIP() << "set WAL_POWERLOSS_REPLAY=seed:point[:variant]";
  uint64_t seed = 0, point = 0, variant = 0;
  ASSERT_GE(std::sscanf(replay, "%lu:%lu:%lu", &seed, &point, &variant), 2) << replay;
  Workload workload = RunOrFail(seed);
  std::cout << "seed " << seed << ": " << workload.history.operations << " operations; the crash point is "
            << workload.disk->DescribeOperation(point) << std::endl;
  const bool all = EnvNumber("WAL_POWERLOSS_DUMP", 0) != 0;  // every operation, not just those around the point
  const uint64_t from = all || point < 12 ? 0 : point - 12;
  const uint64_t to = all ? workload.history.operations : std::min(point + 4, workload.history.operations);
  for (uint64_t i = from; i < to; ++i) {
    std::cout << (i == point ? " -> " : "    ") << workload.disk->DescribeOperation(i) << std::endl;
  }
  CrashCheck check = CheckCrashPoint(*workload.disk, workload.history, point, CrashSeed(seed, variant),
                                     testing::CrashOptions{}, /*crash_during_recovery=*/variant == 0);
  std::cout << check.Describe(workload.history) << std::endl;
  const ExpectedFailure* expected = Explain(check);
  if (expected) std::cout << "explained by expected failure '" << expected->id << "': " << expected->defect << std::endl;
  EXPECT_TRUE(check.findings.empty() || expected != nullptr);
}

}  // namespace
}  // namespace wal::powerloss
