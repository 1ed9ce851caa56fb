// What happens to an entry after a delivery attempt fails: retried later, or
// moved to the dead-letter queue. The decision is a pure function of the
// namespace's policy and the failure, so every case is tested without a
// backend or a target (retry_policy_test.cc); NamespaceRuntime carries it out.
//
// Threading: pure functions; the random generator is the caller's (one per
// thread, since generators are not thread-safe).
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

#include "config/config.h"
#include "target/target.h"

namespace wal::engine {

struct RetryDecision {
  enum class Action {
    kReschedule,  // put the entry back, due after `wait`
    kDeadLetter,  // move it to the namespace's DLQ
  };
  Action action = Action::kReschedule;
  std::chrono::milliseconds wait{0};  // kReschedule only: from now until the next attempt
  // The entry will not succeed by retrying as configured: the failure was
  // permanent or `max_retries` retries are spent. With the DLQ off it is
  // rescheduled anyway (at the maximum backoff): an entry is never dropped.
  bool exhausted = false;
};

// Which attempt a delivery is (1 for the first): one more than the attempts
// the record counts, or than the backend's receive count where that is larger
// (an SQS message handed out again after a crash, before its record was
// rewritten, must not get a fresh count).
uint32_t AttemptNumber(uint32_t recorded_attempts, uint32_t receive_count);

// The decision after attempt number `attempt` failed with `outcome`
// (kRetryable or kPermanent). A permanent failure, or attempt `max_retries`+1
// (the first delivery plus max_retries retries), is exhausted: dead-lettered
// when `dlq_enabled`, else retried at `backoff.max`. Any other failure is
// retried after RetryBackoff(backoff, attempt), jittered by `random`.
RetryDecision DecideRetry(const config::BackoffConfig& backoff, int max_retries, bool dlq_enabled,
                          target::ApplyOutcome outcome, uint32_t attempt, std::mt19937_64& random);

// How long a mutation-set marker waits when an earlier set holds one of its
// keys, after `deferrals` such waits (1 for the first): 20 ms doubling to a
// cap of 500 ms. A deferral spends no attempt, so it is not a backoff.
std::chrono::milliseconds SetDeferralWait(uint32_t deferrals);

}  // namespace wal::engine
