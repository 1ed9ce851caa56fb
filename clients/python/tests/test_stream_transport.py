"""write_many over WriteToLogStream against a scripted fake: answers, refusals, a broken stream, fallback."""
import grpc
import pytest

from fake_wald import SILENCE, Answer, FakeServer, FakeWald, by_body
from wal_client import Durable, RetryPolicy, WalClient, WalRpcError, Write, WriteResult
from wal_client.v1 import wal_pb2

FAST = RetryPolicy(max_attempts=4, initial_backoff=0.001, max_backoff=0.002, deadline=60)
TRUE = wal_pb2.TRUE


NUMBERED = by_body(false_on=b"3", unknown_on=b"5")


def run(fake, writes, **options):
    with FakeServer(fake) as server, WalClient(server.address, retry=FAST, timeout=options.pop("timeout", 30)) as client:
        return client.write_many(writes, **options)


def test_answers_and_refusals_come_back_per_write_in_input_order():
    fake = FakeWald(decide=NUMBERED)
    writes = [Write("orders", str(n).encode()) for n in range(30)] + [Write("orders", b"bad")]
    outcomes = run(fake, writes)
    assert isinstance(outcomes[-1], WalRpcError) and outcomes[-1].code is grpc.StatusCode.INVALID_ARGUMENT
    assert not outcomes[-1].maybe_written
    assert [o.id for o in outcomes[:-1]] == list(range(30))
    assert all(o.ok for o in outcomes[:-1])
    assert [o.attempts for o in outcomes[:-1] if o.id % 10 in (3, 5)] == [2] * 6
    assert fake.streams == 1, "one stream carried every attempt"
    keys = {}
    for request in fake.requests:
        keys.setdefault(request.payload.opaque, set()).add(request.idempotency_key)
    assert all(len(found) == 1 for found in keys.values()), "retries keep their key"


def test_writes_a_broken_stream_left_unanswered_are_retried_on_a_new_one():
    fake = FakeWald(break_stream_after=5)
    outcomes = run(fake, [Write("orders", b"x") for _ in range(20)])
    assert all(isinstance(o, WriteResult) and o.ok for o in outcomes)
    assert fake.streams >= 2
    assert any(o.attempts > 1 for o in outcomes)


def test_a_write_with_no_answer_times_out_and_is_retried():
    fake = FakeWald(decide=lambda request, attempt: Answer(SILENCE) if attempt == 1 else Answer(TRUE, id=4))
    outcomes = run(fake, [Write("orders", b"x")], timeout=1.0)
    assert isinstance(outcomes[0], WriteResult)
    assert outcomes[0].durable is Durable.TRUE and outcomes[0].attempts >= 2
    assert len({request.idempotency_key for request in fake.requests}) == 1


def test_a_wald_without_the_stream_gets_unary_calls():
    fake = FakeWald(decide=NUMBERED, stream=False)
    outcomes = run(fake, [Write("orders", str(n).encode()) for n in range(12)])
    assert [o.id for o in outcomes] == list(range(12))
    assert fake.streams == 0


def test_via_unary_uses_no_stream():
    fake = FakeWald()
    outcomes = run(fake, [Write("orders", b"x") for _ in range(5)], via="unary")
    assert all(o.ok for o in outcomes) and fake.streams == 0
    with pytest.raises(ValueError):
        run(FakeWald(), [Write("orders", b"x")], via="carrier-pigeon")
