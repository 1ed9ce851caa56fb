#include "engine/retry_policy.h"

#include <gtest/gtest.h>

#include <string>

namespace wal::engine {
namespace {

using std::chrono::milliseconds;
using Action = RetryDecision::Action;
using config::JitterModel;
using target::ApplyOutcome;

// 100 ms doubling to a cap of 1 s: bases 100, 200, 400, 800, 1000, 1000, ...
config::BackoffConfig Backoff(JitterModel jitter) { return {milliseconds(100), 2.0, milliseconds(1000), jitter}; }

struct Case {
  std::string name;
  JitterModel jitter;
  int max_retries;
  bool dlq_enabled;
  ApplyOutcome outcome;
  uint32_t attempt;  // the attempt that failed
  Action action;
  bool exhausted;
  int64_t min_wait_ms;  // kReschedule: every draw lies in [min, max]
  int64_t max_wait_ms;
};

const Case kCases[] = {
    // Attempts and backoff bounds, one jitter model at a time.
    {"first retryable failure waits the initial backoff", JitterModel::kNone, 5, true, ApplyOutcome::kRetryable, 1,
     Action::kReschedule, false, 100, 100},
    {"the wait grows geometrically with the attempt", JitterModel::kNone, 5, true, ApplyOutcome::kRetryable, 3,
     Action::kReschedule, false, 400, 400},
    {"the wait is capped at backoff.max", JitterModel::kNone, 10, true, ApplyOutcome::kRetryable, 6,
     Action::kReschedule, false, 1000, 1000},
    {"full jitter spreads over [0, base]", JitterModel::kFull, 5, true, ApplyOutcome::kRetryable, 3,
     Action::kReschedule, false, 0, 400},
    {"equal jitter spreads over [base/2, base]", JitterModel::kEqual, 5, true, ApplyOutcome::kRetryable, 3,
     Action::kReschedule, false, 200, 400},
    {"plus_minus jitter spreads over [base/2, 3 base/2]", JitterModel::kPlusMinus, 5, true, ApplyOutcome::kRetryable,
     3, Action::kReschedule, false, 200, 600},
    {"plus_minus jitter never goes past backoff.max", JitterModel::kPlusMinus, 10, true, ApplyOutcome::kRetryable, 5,
     Action::kReschedule, false, 500, 1000},
    // max_retries: the first delivery plus max_retries retries.
    {"the last allowed retry is still rescheduled", JitterModel::kNone, 3, true, ApplyOutcome::kRetryable, 3,
     Action::kReschedule, false, 400, 400},
    {"max_retries reached goes to the DLQ", JitterModel::kNone, 3, true, ApplyOutcome::kRetryable, 4,
     Action::kDeadLetter, true, 0, 0},
    {"max_retries 0 dead-letters the first failure", JitterModel::kFull, 0, true, ApplyOutcome::kRetryable, 1,
     Action::kDeadLetter, true, 0, 0},
    // Permanent versus retryable.
    {"a permanent failure goes to the DLQ at once", JitterModel::kFull, 5, true, ApplyOutcome::kPermanent, 1,
     Action::kDeadLetter, true, 0, 0},
    // DLQ off: nothing is ever dropped.
    {"DLQ off: a permanent failure keeps retrying at backoff.max", JitterModel::kFull, 5, false,
     ApplyOutcome::kPermanent, 1, Action::kReschedule, true, 1000, 1000},
    {"DLQ off: max_retries reached keeps retrying at backoff.max", JitterModel::kFull, 3, false,
     ApplyOutcome::kRetryable, 4, Action::kReschedule, true, 1000, 1000},
    {"DLQ off: far past max_retries it still waits backoff.max", JitterModel::kEqual, 3, false,
     ApplyOutcome::kRetryable, 500, Action::kReschedule, true, 1000, 1000},
    {"DLQ off: before exhaustion the ordinary backoff applies", JitterModel::kEqual, 3, false,
     ApplyOutcome::kRetryable, 2, Action::kReschedule, false, 100, 200},
};

TEST(RetryPolicyTest, DecidesEveryCaseOfTheTable) {
  std::mt19937_64 random(12345);
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    int64_t smallest = INT64_MAX;
    int64_t largest = INT64_MIN;
    for (int draw = 0; draw < 500; ++draw) {
      const RetryDecision decision =
          DecideRetry(Backoff(c.jitter), c.max_retries, c.dlq_enabled, c.outcome, c.attempt, random);
      ASSERT_EQ(decision.action, c.action);
      ASSERT_EQ(decision.exhausted, c.exhausted);
      if (c.action == Action::kDeadLetter) continue;
      ASSERT_GE(decision.wait.count(), c.min_wait_ms);
      ASSERT_LE(decision.wait.count(), c.max_wait_ms);
      smallest = std::min<int64_t>(smallest, decision.wait.count());
      largest = std::max<int64_t>(largest, decision.wait.count());
    }
    if (c.action == Action::kReschedule && c.min_wait_ms < c.max_wait_ms) {
      // The bounds are reached from inside, not merely respected by a constant.
      EXPECT_LT(smallest, largest) << "jitter must spread the waits";
      EXPECT_LE(smallest, c.min_wait_ms + (c.max_wait_ms - c.min_wait_ms) / 4);
      EXPECT_GE(largest, c.max_wait_ms - (c.max_wait_ms - c.min_wait_ms) / 4);
    }
  }
}

TEST(RetryPolicyTest, AttemptNumberCountsTheRecordOrTheBackendWhicheverIsAhead) {
  struct Row {
    uint32_t recorded;
    uint32_t receive_count;
    uint32_t expected;
  };
  for (const Row& row : {Row{0, 0, 1}, Row{2, 0, 3}, Row{0, 1, 1}, Row{0, 4, 4}, Row{5, 3, 6}, Row{1, 5, 5}}) {
    EXPECT_EQ(AttemptNumber(row.recorded, row.receive_count), row.expected)
        << "recorded " << row.recorded << ", receive count " << row.receive_count;
  }
}

TEST(RetryPolicyTest, SetDeferralsDoubleFrom20MsToACapOf500Ms) {
  EXPECT_EQ(SetDeferralWait(1), milliseconds(20));
  EXPECT_EQ(SetDeferralWait(2), milliseconds(40));
  EXPECT_EQ(SetDeferralWait(5), milliseconds(320));
  EXPECT_EQ(SetDeferralWait(6), milliseconds(500));
  EXPECT_EQ(SetDeferralWait(1000), milliseconds(500));
}

}  // namespace
}  // namespace wal::engine
