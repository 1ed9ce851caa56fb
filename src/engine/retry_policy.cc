#include "engine/retry_policy.h"

#include <algorithm>

#include "engine/backoff.h"

namespace wal::engine {

uint32_t AttemptNumber(uint32_t recorded_attempts, uint32_t receive_count) {
  const uint32_t previous_receives = receive_count > 0 ? receive_count - 1 : 0;
  return std::max(recorded_attempts, previous_receives) + 1;
}

RetryDecision DecideRetry(const config::BackoffConfig& backoff, int max_retries, bool dlq_enabled,
                          target::ApplyOutcome outcome, uint32_t attempt, std::mt19937_64& random) {
  RetryDecision decision;
  decision.exhausted =
      outcome == target::ApplyOutcome::kPermanent || attempt > static_cast<uint32_t>(std::max(0, max_retries));
  if (decision.exhausted && dlq_enabled) {
    decision.action = RetryDecision::Action::kDeadLetter;
    return decision;
  }
  decision.action = RetryDecision::Action::kReschedule;
  decision.wait = decision.exhausted ? backoff.max : RetryBackoff(backoff, attempt, random);
  return decision;
}

std::chrono::milliseconds SetDeferralWait(uint32_t deferrals) {
  return std::chrono::milliseconds(std::min<int64_t>(int64_t{10} << std::min<uint32_t>(deferrals, 6), 500));
}

}  // namespace wal::engine
