"""WalClient's writes against a scripted fake server: the retry policy, keys and pipelining."""
import uuid

import grpc
import pytest

from fake_wald import Answer, FakeServer, FakeWald, Refuse, by_body
from wal_client import Clock, Durable, RetryPolicy, WalClient, WalRpcError, Write, WriteResult
from wal_client.v1 import wal_pb2

FAST = RetryPolicy(max_attempts=4, initial_backoff=0.001, max_backoff=0.002, deadline=60)
TRUE, FALSE, UNKNOWN = wal_pb2.TRUE, wal_pb2.FALSE, wal_pb2.UNKNOWN


def serve(fake: FakeWald):
    return FakeServer(fake)


def client_for(server: FakeServer, **options) -> WalClient:
    options.setdefault("retry", FAST)
    options.setdefault("timeout", 30)
    return WalClient(server.address, **options)


def keys(fake: FakeWald):
    return [request.idempotency_key for request in fake.requests]


def test_false_is_retried_with_the_same_key_until_true():
    fake = FakeWald([Answer(FALSE, message="no space"), Answer(TRUE, id=7)])
    with serve(fake) as server, client_for(server) as client:
        result = client.write("orders", b"x")
    assert (result.durable, result.id, result.attempts) == (Durable.TRUE, 7, 2)
    assert len(set(keys(fake))) == 1


def test_unknown_is_retried_with_the_same_key_and_the_duplicate_counts_as_true():
    fake = FakeWald([Answer(UNKNOWN, id=3, message="fsync failed"),
                     Answer(TRUE, id=3, message="duplicate: idempotency key already written as entry 3")])
    with serve(fake) as server, client_for(server) as client:
        result = client.write("orders", b"x", idempotency_key="order-42")
    assert result.durable is Durable.TRUE and result.duplicate and result.id == 3
    assert keys(fake) == ["order-42", "order-42"]


def test_false_after_unknown_is_still_unknown():
    # The first attempt may have been stored; a later refusal does not undo that.
    fake = FakeWald([Answer(UNKNOWN, id=5, message="fsync failed")], then=Answer(FALSE, message="poisoned"))
    with serve(fake) as server, client_for(server, retry=RetryPolicy(max_attempts=3, initial_backoff=0.001)) as client:
        result = client.write("orders", b"x")
    assert (result.durable, result.attempts) == (Durable.UNKNOWN, 3)
    assert "earlier attempt may have been stored" in result.message


def test_false_every_time_ends_false_after_max_attempts():
    fake = FakeWald([], then=Answer(FALSE, message="no space"))
    with serve(fake) as server, client_for(server) as client:
        result = client.write("orders", b"x")
    assert (result.durable, result.attempts, result.message) == (Durable.FALSE, 4, "no space")
    assert len(fake.requests) == 4


def test_unknown_is_returned_at_once_when_its_retry_is_off():
    fake = FakeWald([Answer(UNKNOWN, id=1)])
    policy = RetryPolicy(retry_unknown=False, initial_backoff=0.001)
    with serve(fake) as server, client_for(server, retry=policy) as client:
        assert client.write("orders", b"x").durable is Durable.UNKNOWN
    assert len(fake.requests) == 1


@pytest.mark.parametrize(
    "code", [grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED]
)
def test_refusals_are_raised_after_one_attempt(code):
    fake = FakeWald([Refuse(code, "payload: one of opaque, mutation or mutation_set is required")])
    with serve(fake) as server, client_for(server) as client:
        with pytest.raises(WalRpcError) as raised:
            client.write("orders", b"x")
    assert raised.value.code is code and raised.value.attempts == 1
    assert not raised.value.maybe_written
    assert len(fake.requests) == 1


def test_unavailable_is_retried():
    fake = FakeWald([Refuse(grpc.StatusCode.UNAVAILABLE, "wald is shutting down"), Answer(TRUE, id=9)])
    with serve(fake) as server, client_for(server) as client:
        assert client.write("orders", b"x").id == 9
    assert len(set(keys(fake))) == 1


def test_unavailable_every_time_is_raised_as_maybe_written():
    fake = FakeWald([], then=Refuse(grpc.StatusCode.UNAVAILABLE, "gone"))
    with serve(fake) as server, client_for(server) as client:
        with pytest.raises(WalRpcError) as raised:
            client.write("orders", b"x", idempotency_key="k")
    assert raised.value.maybe_written and raised.value.attempts == 4 and raised.value.idempotency_key == "k"


class FakeClock:
    """Time that moves only when the client sleeps, so timing tests do not depend on load."""

    def __init__(self):
        self.now = 100.0
        self.slept = []

    def sleep(self, seconds):
        self.slept.append(round(seconds, 6))
        self.now += seconds

    def clock(self):
        return Clock(lambda: self.now, self.sleep)


def test_the_deadline_stops_retries_before_max_attempts():
    fake = FakeWald([], then=Answer(FALSE))
    time_source = FakeClock()
    # Long in fake time: the deadline also caps each attempt's real timeout (50, 30, 10 s).
    policy = RetryPolicy(max_attempts=100, initial_backoff=20, max_backoff=20, multiplier=1, jitter=0, deadline=50)
    with serve(fake) as server, client_for(server, retry=policy, clock=time_source.clock()) as client:
        result = client.write("orders", b"x")
    assert result.durable is Durable.FALSE
    assert result.attempts == 3  # at 0, 20 and 40 s; a fourth would start after 50 s
    assert time_source.slept == [20, 20]


def test_backoffs_are_waited_on_the_injected_clock():
    fake = FakeWald([Answer(FALSE), Answer(FALSE), Answer(FALSE), Answer(TRUE, id=1)])
    time_source = FakeClock()
    policy = RetryPolicy(max_attempts=5, initial_backoff=1.0, multiplier=3.0, max_backoff=5.0, jitter=0, deadline=60)
    with serve(fake) as server, client_for(server, retry=policy, clock=time_source.clock()) as client:
        assert client.write("orders", b"x").ok
    assert time_source.slept == [1.0, 3.0, 5.0]


def test_each_write_gets_a_fresh_uuid4_key_unless_given_one():
    fake = FakeWald()
    with serve(fake) as server, client_for(server) as client:
        client.write("orders", b"a")
        client.write("orders", b"b")
        client.write("orders", b"c", idempotency_key="mine")
    generated = keys(fake)[:2]
    assert generated[0] != generated[1]
    assert all(uuid.UUID(key).version == 4 for key in generated)
    assert keys(fake)[2] == "mine"


def test_the_token_and_extra_metadata_travel_on_every_call():
    fake = FakeWald([Answer(FALSE)])
    with serve(fake) as server, client_for(server, token="s3cret", metadata=[("x-request-id", "req-1")]) as client:
        client.write("orders", b"x")
    for metadata in fake.metadata:
        assert ("authorization", "Bearer s3cret") in metadata
        assert ("x-request-id", "req-1") in metadata


def test_write_many_keeps_several_calls_in_flight_and_answers_in_input_order():
    fake = FakeWald(decide=by_body(false_on=b"7"), hold=0.02)
    writes = [Write("orders", str(n).encode()) for n in range(40)]
    writes.insert(5, Write("orders", b"bad"))
    with serve(fake) as server, client_for(server) as client:
        outcomes = client.write_many(writes, max_in_flight=8, via="unary")
    assert isinstance(outcomes[5], WalRpcError) and outcomes[5].code is grpc.StatusCode.INVALID_ARGUMENT
    results = outcomes[:5] + outcomes[6:]
    assert all(isinstance(r, WriteResult) and r.ok for r in results)
    assert [r.id for r in results] == list(range(40))
    assert [r.attempts for r in results if str(r.id).endswith("7")] == [2, 2, 2, 2]
    # Each call is held 20 ms, so the calls overlap only if the client pipelines them.
    assert 1 < fake.max_in_flight <= 8


def test_write_many_refuses_a_bad_argument_before_sending_anything():
    fake = FakeWald()
    with serve(fake) as server, client_for(server) as client:
        with pytest.raises(TypeError):
            client.write_many([Write("orders", b"ok"), Write("orders", 12)])  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            client.write_many([Write("orders", b"ok")], max_in_flight=0)
    assert fake.requests == []
