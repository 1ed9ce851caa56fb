"""RetryPolicy: which answers and codes are retried, and the backoff between attempts."""
import random

import grpc
import pytest

from wal_client import Durable, RetryPolicy


def test_false_is_retried_and_true_is_not():
    policy = RetryPolicy()
    assert policy.retries_answer(Durable.FALSE)
    assert not policy.retries_answer(Durable.TRUE)


def test_unknown_is_retried_unless_turned_off():
    assert RetryPolicy().retries_answer(Durable.UNKNOWN)
    assert not RetryPolicy(retry_unknown=False).retries_answer(Durable.UNKNOWN)


@pytest.mark.parametrize(
    "code",
    [
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.INTERNAL,
    ],
)
def test_refusals_that_would_repeat_are_final(code):
    assert not RetryPolicy().retries_error(code, "no")


@pytest.mark.parametrize(
    "code", [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.DEADLINE_EXCEEDED]
)
def test_transient_codes_are_retried(code):
    assert RetryPolicy().retries_error(code, "namespace orders is over its write rate limit")


def test_a_request_over_the_size_limit_is_not_retried():
    policy = RetryPolicy()
    assert not policy.retries_error(grpc.StatusCode.RESOURCE_EXHAUSTED, "the request body is over max_request_bytes")
    assert not policy.retries_error(
        grpc.StatusCode.RESOURCE_EXHAUSTED, "Received message larger than max (80000000 vs. 75497472)"
    )


def test_backoff_grows_exponentially_up_to_the_cap_without_jitter():
    policy = RetryPolicy(initial_backoff=0.1, multiplier=2.0, max_backoff=0.5, jitter=0.0)
    rng = random.Random(1)
    assert [policy.backoff(n, rng) for n in range(1, 6)] == pytest.approx([0.1, 0.2, 0.4, 0.5, 0.5])


def test_full_jitter_stays_within_zero_and_the_exponential_ceiling():
    policy = RetryPolicy(initial_backoff=0.1, multiplier=2.0, max_backoff=10.0, jitter=1.0)
    rng = random.Random(7)
    for retry in range(1, 8):
        ceiling = min(10.0, 0.1 * 2 ** (retry - 1))
        waits = [policy.backoff(retry, rng) for _ in range(200)]
        assert all(0.0 <= wait <= ceiling for wait in waits)
        assert max(waits) - min(waits) > ceiling / 2, "jitter spreads the waits"


def test_partial_jitter_keeps_a_floor():
    policy = RetryPolicy(initial_backoff=1.0, jitter=0.25)
    rng = random.Random(3)
    assert all(0.75 <= policy.backoff(1, rng) <= 1.0 for _ in range(100))


@pytest.mark.parametrize(
    "fields",
    [{"max_attempts": 0}, {"initial_backoff": -1}, {"multiplier": 0.5}, {"jitter": 1.5}, {"deadline": 0}],
)
def test_nonsense_settings_are_refused(fields):
    with pytest.raises(ValueError):
        RetryPolicy(**fields)
