"""When a write is sent again, and how long to wait first.

The rules follow wald's durability answers (docs/api.md):

* TRUE: done.
* FALSE: nothing was stored, so sending again is safe: retried.
* UNKNOWN: the entry may have been stored. Retried (unless retry_unknown is off)
  with the same idempotency key, so wald answers a copy that survived as a
  duplicate instead of logging it twice. Every attempt of one logical write
  carries the same key; the client never mints a new key for a retry.
* gRPC errors: UNAVAILABLE, RESOURCE_EXHAUSTED (rate limit, backlog) and
  DEADLINE_EXCEEDED are retried; every other code (INVALID_ARGUMENT, NOT_FOUND,
  PERMISSION_DENIED, UNAUTHENTICATED, FAILED_PRECONDITION, ...) is final, since
  sending the same request again gets the same refusal.

Attempts stop at max_attempts or when the next one would start after `deadline`
seconds from the first, whichever comes first. Between attempts the client
waits an exponential backoff with jitter.
"""
from __future__ import annotations

import dataclasses
import random
from typing import FrozenSet, Optional

import grpc

from .results import Durable

# Codes after which the request may have reached the log: the call was sent and
# no answer came back, or the failure is inside the server. wald's own
# UNAVAILABLE refusals (shutting down, namespace not served) wrote nothing, but a
# connection that dropped mid-call also reads UNAVAILABLE and the two cannot be
# told apart, so UNAVAILABLE counts as maybe written.
AMBIGUOUS_CODES: FrozenSet[grpc.StatusCode] = frozenset(
    {
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.CANCELLED,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.ABORTED,
    }
)

DEFAULT_RETRYABLE_CODES: FrozenSet[grpc.StatusCode] = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.DEADLINE_EXCEEDED,
    }
)


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently one logical write is attempted.

    max_attempts: attempts in all, the first included (1: never retry).
    initial_backoff, multiplier, max_backoff: the wait before retry n is
        min(max_backoff, initial_backoff * multiplier ** (n - 1)) seconds ...
    jitter: ... of which this fraction is random (1.0, the default, is "full
        jitter": uniform in [0, wait]), so many clients that failed together do
        not come back together.
    deadline: seconds from the first attempt after which no new attempt starts,
        and which also caps each attempt's own timeout; None: attempts alone bound it.
    retry_unknown: retry UNKNOWN answers (always with the same idempotency key).
    retryable_codes: gRPC codes that are retried.
    """

    max_attempts: int = 5
    initial_backoff: float = 0.05
    multiplier: float = 2.0
    max_backoff: float = 5.0
    jitter: float = 1.0
    deadline: Optional[float] = 30.0
    retry_unknown: bool = True
    retryable_codes: FrozenSet[grpc.StatusCode] = DEFAULT_RETRYABLE_CODES

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts: must be at least 1, got {self.max_attempts}")
        if self.initial_backoff < 0 or self.max_backoff < 0:
            raise ValueError("initial_backoff, max_backoff: must not be negative")
        if self.multiplier < 1:
            raise ValueError(f"multiplier: must be at least 1, got {self.multiplier}")
        if not 0 <= self.jitter <= 1:
            raise ValueError(f"jitter: must be within 0..1, got {self.jitter}")
        if self.deadline is not None and self.deadline <= 0:
            raise ValueError(f"deadline: must be positive or None, got {self.deadline}")

    @classmethod
    def never(cls) -> "RetryPolicy":
        """One attempt; the answer is returned as it came."""
        return cls(max_attempts=1)

    def backoff(self, retry: int, rng: random.Random) -> float:
        """The wait before retry number `retry` (1 for the second attempt)."""
        ceiling = min(self.max_backoff, self.initial_backoff * self.multiplier ** (retry - 1))
        return ceiling - self.jitter * ceiling * rng.random()

    def retries_answer(self, durable: Durable) -> bool:
        if durable is Durable.FALSE:
            return True
        if durable is Durable.UNKNOWN:
            return self.retry_unknown
        return False

    def retries_error(self, code: grpc.StatusCode, details: str) -> bool:
        if code not in self.retryable_codes:
            return False
        # RESOURCE_EXHAUSTED also means "the request is over max_request_bytes"
        # (wald's limit, or gRPC's receive limit): the same bytes never fit.
        if code is grpc.StatusCode.RESOURCE_EXHAUSTED and (
            "max_request_bytes" in details or "larger than max" in details
        ):
            return False
        return True


def may_have_written(code: grpc.StatusCode) -> bool:
    return code in AMBIGUOUS_CODES
