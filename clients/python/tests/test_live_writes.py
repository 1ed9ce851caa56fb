"""WalClient against a live wald: durable answers, idempotency, retries and admin reads."""
from __future__ import annotations

import http.server
import threading
import time
from typing import List

import grpc
import pytest

from wal_client import Durable, RetryPolicy, WalClient, WalRpcError, Write
from wal_client.v1 import wal_pb2
from wald_process import embedded_namespace

# The channel reconnects quickly after a refused connection, so a restart is seen at once.
FAST_RECONNECT = [("grpc.initial_reconnect_backoff_ms", 100), ("grpc.max_reconnect_backoff_ms", 300)]
QUICK = RetryPolicy(max_attempts=5, initial_backoff=0.02, max_backoff=0.2, deadline=120)
# make test runs beside C++ builds on two cores: an answer can take seconds, and a
# timed-out first attempt would show up as a second attempt.
PATIENT = 60.0


@pytest.fixture
def wald(make_wald):
    server = make_wald()
    server.write_namespace("orders", embedded_namespace("orders"))
    server.start()
    return server


def test_a_write_is_durable_true_and_ids_follow_acceptance_order(wald):
    with WalClient(wald.address, retry=QUICK, timeout=PATIENT) as client:
        first = client.write("orders", b"first")
        second = client.write("orders", "second", delay=5)
    assert (first.durable, first.id, first.attempts) == (Durable.TRUE, 0, 1)
    assert (second.durable, second.id) == (Durable.TRUE, 1)


def test_a_repeated_idempotency_key_returns_the_original_id(wald):
    with WalClient(wald.address, retry=QUICK, timeout=PATIENT) as client:
        client.write("orders", b"before")
        original = client.write("orders", b"pay 10", idempotency_key="payment-1")
        again = client.write("orders", b"pay 10", idempotency_key="payment-1")
        status = client.status("orders")[0]
        entries = list(client.read_log("orders"))
    assert original.ok and not original.duplicate
    assert again.ok and again.duplicate and again.id == original.id == 1
    assert status.log_end == 2, "the repeat wrote nothing"
    assert [entry.record["idempotency_key"] for entry in entries[1:]] == ["payment-1"]


class _Completed(grpc.Future, grpc.Call):
    """A finished call carrying a response the interceptor chose instead of the real one."""

    def __init__(self, response):
        self._response = response

    def result(self, timeout=None):
        return self._response

    def exception(self, timeout=None):
        return None

    def traceback(self, timeout=None):
        return None

    def add_done_callback(self, fn):
        fn(self)

    def cancel(self):
        return False

    def cancelled(self):
        return False

    def running(self):
        return False

    def done(self):
        return True

    def is_active(self):
        return False

    def time_remaining(self):
        return None

    def add_callback(self, callback):
        return False

    def initial_metadata(self):
        return ()

    def trailing_metadata(self):
        return ()

    def code(self):
        return grpc.StatusCode.OK

    def details(self):
        return ""


class LoseFirstAnswer(grpc.UnaryUnaryClientInterceptor):
    """Lets the first write reach wald, then tells the client UNKNOWN, as when an
    answer is lost: the entry is stored but the client cannot know it."""

    def __init__(self):
        self.stored: List[wal_pb2.WriteToLogResponse] = []

    def intercept_unary_unary(self, continuation, client_call_details, request):
        call = continuation(client_call_details, request)
        if self.stored:
            return call
        self.stored.append(call.result())
        return _Completed(wal_pb2.WriteToLogResponse(durable=wal_pb2.UNKNOWN, message="answer lost"))


def test_an_unknown_answer_is_retried_with_the_same_key_and_stored_once(wald):
    lose = LoseFirstAnswer()
    with WalClient(wald.address, retry=QUICK, timeout=PATIENT, interceptors=[lose]) as client:
        result = client.write("orders", b"exactly once")
        entries = list(client.read_log("orders"))
    assert lose.stored[0].durable == wal_pb2.TRUE
    assert result.durable is Durable.TRUE and result.duplicate and result.attempts == 2
    assert result.id == lose.stored[0].id
    assert len(entries) == 1 and entries[0].record["idempotency_key"] == result.idempotency_key


class _FlakySink(http.server.BaseHTTPRequestHandler):
    """Answers 500 to the first `failures` deliveries, then 200."""

    failures = 0
    received: List[bytes] = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).received.append(body)
        failing = len(type(self).received) <= type(self).failures
        self.send_response(500 if failing else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_PUT = do_POST

    def log_message(self, *args):
        pass


@pytest.fixture
def flaky_sink():
    handler = type("Sink", (_FlakySink,), {"failures": 2, "received": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield handler, f"http://127.0.0.1:{server.server_address[1]}/sink"
    server.shutdown()
    server.server_close()


def test_false_is_retried_until_it_is_taken(make_wald, flaky_sink):
    # With wal_enabled false wald applies the write to the target before it
    # answers: the sink's 500s come back as FALSE, "not stored, safe to retry".
    handler, url = flaky_sink
    wald = make_wald()
    wald.write_namespace(
        "direct",
        f'name: direct\nbackend: {{type: local}}\ntarget: {{type: http, url: "{url}", timeout: 30s}}\n'
        "flags: {wal_enabled: false}\n",
    )
    wald.start()
    with WalClient(wald.address, timeout=PATIENT) as client:
        refused = client.write("direct", b"once", retry=RetryPolicy.never())
        handler.received.clear()
        result = client.write("direct", b"applied", retry=QUICK)
    assert refused.durable is Durable.FALSE and "500" in refused.message
    assert (result.durable, result.attempts) == (Durable.TRUE, 3)
    assert handler.received == [b"applied"] * 3


def test_a_write_while_wald_is_down_is_retried_until_it_serves(make_wald):
    wald = make_wald()
    wald.write_namespace("orders", embedded_namespace("orders"))
    patient = RetryPolicy(max_attempts=500, initial_backoff=0.05, max_backoff=0.5, deadline=90)
    outcome = {}

    def write():
        with WalClient(wald.address, retry=patient, timeout=10, channel_options=FAST_RECONNECT) as client:
            try:
                outcome["result"] = client.write("orders", b"early")
            except WalRpcError as error:
                outcome["error"] = error

    # wald starts on this thread: it is killed when the thread that started it ends.
    writer = threading.Thread(target=write)
    writer.start()
    time.sleep(1.0)
    wald.start()
    writer.join(timeout=120)
    assert not writer.is_alive()
    result = outcome.get("result")
    assert result is not None, outcome.get("error")
    assert result.durable is Durable.TRUE and result.attempts > 1


def test_refusals_are_raised_without_retrying(wald):
    with WalClient(wald.address, retry=QUICK, timeout=PATIENT) as client:
        with pytest.raises(WalRpcError) as missing:
            client.write("no-such-namespace", b"x")
        with pytest.raises(WalRpcError) as negative:
            client.write("orders", b"x", delay=-5)
        assert client.status("orders")[0].log_end == 0
    assert (missing.value.code, missing.value.attempts) == (grpc.StatusCode.NOT_FOUND, 1)
    assert negative.value.code is grpc.StatusCode.INVALID_ARGUMENT
    assert "lifecycle.delay" in negative.value.details


@pytest.mark.parametrize("via", ["stream", "unary"])
def test_write_many_pipelines_and_every_id_is_used_once(wald, via):
    writes = [Write("orders", f"entry-{n}".encode()) for n in range(300)]
    writes.append(Write("orders", b"again", idempotency_key="repeated"))
    writes.append(Write("no-such-namespace", b"x"))
    with WalClient(wald.address, retry=QUICK, timeout=PATIENT) as client:
        first = client.write("orders", b"first", idempotency_key="repeated")
        outcomes = client.write_many(writes, max_in_flight=32, via=via)
        entries = list(client.read_log("orders"))
    *written, repeated, refused = outcomes
    assert all(outcome.ok for outcome in written), [o for o in written if not getattr(o, "ok", False)][:3]
    assert sorted(outcome.id for outcome in written) == list(range(1, 301))
    assert repeated.duplicate and repeated.id == first.id == 0
    assert isinstance(refused, WalRpcError) and refused.code is grpc.StatusCode.NOT_FOUND
    assert len(entries) == 301
