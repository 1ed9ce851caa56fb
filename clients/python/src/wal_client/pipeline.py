"""Runs logical writes to completion: sends attempts, keeps up to N in flight,
applies the retry policy and folds the attempts into one result each.

Threading: `run` is called from one thread and blocks until every write it was
given has finished. Attempts complete on gRPC's threads, which only put the
completed call on a queue; all decisions are made on the calling thread.

The transport is a seam: UnaryTransport sends each attempt as its own
WriteToLog call, StreamTransport (stream_transport.py) as a message on one
WriteToLogStream call; a WriteToLogBatch transport would implement the same
`send` and leave this file alone.
"""
from __future__ import annotations

import dataclasses
import heapq
import itertools
import queue
import random
import time
from typing import Any, Callable, List, Optional, Protocol, Sequence, Tuple, Union, cast

import grpc

from .results import Durable, WalRpcError, WriteResult
from .retry import RetryPolicy, may_have_written
from .v1 import wal_pb2

class CompletedCall(Protocol):
    """What an attempt ends with: the call gRPC completed (its future is also a grpc.Call)."""

    def result(self, timeout: Optional[float] = None) -> Any: ...

    def exception(self, timeout: Optional[float] = None) -> Optional[BaseException]: ...

    def code(self) -> grpc.StatusCode: ...

    def details(self) -> Optional[str]: ...

    def trailing_metadata(self) -> Any: ...


Done = Callable[[CompletedCall], None]


class WriteTransport(Protocol):
    def send(self, request: wal_pb2.WriteToLogRequest, timeout: float, done: Done) -> None:
        """Starts one attempt; calls `done` once, from any thread, when it completes."""

    def close(self) -> None:
        """Called once the run has every answer: ends what the transport holds open."""


class UnaryTransport:
    """One WriteToLog call per attempt, pipelined: calls do not wait for each other."""

    def __init__(self, write_to_log: grpc.UnaryUnaryMultiCallable, metadata: Sequence[Tuple[str, str]]) -> None:
        self._write_to_log = write_to_log
        self._metadata = tuple(metadata)

    def send(self, request: wal_pb2.WriteToLogRequest, timeout: float, done: Done) -> None:
        future = self._write_to_log.future(request, timeout=timeout, metadata=self._metadata)
        # gRPC's call futures are also grpc.Call objects: code(), details(), trailers.
        future.add_done_callback(lambda finished: done(cast(CompletedCall, finished)))

    def close(self) -> None:
        pass


@dataclasses.dataclass(frozen=True)
class Clock:
    """Time as the pipeline sees it; tests pass fakes so backoffs need not be slept."""

    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


Outcome = Union[WriteResult, WalRpcError]


@dataclasses.dataclass
class _State:
    index: int
    request: wal_pb2.WriteToLogRequest
    started: float = 0.0
    attempts: int = 0
    # Some attempt may have reached the log: a later FALSE cannot make it FALSE.
    maybe_written: bool = False
    outcome: Optional[Outcome] = None


def _shard_address(call: CompletedCall) -> Optional[str]:
    for key, value in call.trailing_metadata() or ():
        if key == "wal-shard-address":
            return value if isinstance(value, str) else value.decode()
    return None


class Pipeline:
    def __init__(
        self,
        transport: WriteTransport,
        policy: RetryPolicy,
        attempt_timeout: float,
        clock: Clock = Clock(),
        rng: Optional[random.Random] = None,
    ) -> None:
        self._transport = transport
        self._policy = policy
        self._attempt_timeout = attempt_timeout
        self._clock = clock
        self._rng = rng if rng is not None else random.Random()

    def run(self, requests: Sequence[wal_pb2.WriteToLogRequest], max_in_flight: int) -> List[Outcome]:
        if max_in_flight < 1:
            raise ValueError(f"max_in_flight: must be at least 1, got {max_in_flight}")
        states = [_State(index, request) for index, request in enumerate(requests)]
        try:
            self._drive(states, max_in_flight)
        finally:
            self._transport.close()
        return [state.outcome for state in states]  # type: ignore[misc]

    def _drive(self, states: List[_State], max_in_flight: int) -> None:
        ready = list(reversed(states))  # popped from the end: input order
        waiting: List[Tuple[float, int, _State]] = []  # (due, tiebreak, state): backoffs
        tiebreak = itertools.count()
        completed: "queue.Queue[Tuple[_State, CompletedCall]]" = queue.Queue()
        in_flight = 0
        unfinished = len(states)
        while unfinished:
            now = self._clock.monotonic()
            while waiting and waiting[0][0] <= now:
                ready.append(heapq.heappop(waiting)[2])
            while ready and in_flight < max_in_flight:
                self._send(ready.pop(), completed, now)
                in_flight += 1
            if in_flight == 0:
                # Only backoffs are left: sleep until the first is due.
                self._clock.sleep(max(0.0, waiting[0][0] - now))
                continue
            timeout = max(0.0, waiting[0][0] - now) if waiting else None
            try:
                state, call = completed.get(timeout=timeout)
            except queue.Empty:
                continue
            in_flight -= 1
            retry_at = self._judge(state, call)
            if retry_at is None:
                unfinished -= 1
            else:
                heapq.heappush(waiting, (retry_at, next(tiebreak), state))

    def _send(self, state: _State, completed: "queue.Queue", now: float) -> None:
        if state.attempts == 0:
            state.started = now
        state.attempts += 1
        timeout = self._attempt_timeout
        if self._policy.deadline is not None:
            timeout = min(timeout, max(0.001, state.started + self._policy.deadline - now))
        self._transport.send(state.request, timeout, lambda call: completed.put((state, call)))

    def _judge(self, state: _State, call: CompletedCall) -> Optional[float]:
        """Records the attempt's outcome; returns when to try again, or None when finished."""
        error = call.exception()
        if error is None:
            response: wal_pb2.WriteToLogResponse = call.result()
            durable = Durable.from_proto(response.durable)
            retry = self._policy.retries_answer(durable)
            if durable is Durable.UNKNOWN:
                state.maybe_written = True
            final = durable
            message = response.message
            if durable is Durable.FALSE and state.maybe_written:
                final = Durable.UNKNOWN
                message += " (an earlier attempt may have been stored: retry with the same idempotency key)"
            state.outcome = WriteResult(final, response.id, message, state.request.idempotency_key, state.attempts)
        else:
            code = call.code()
            details = call.details() or ""
            retry = self._policy.retries_error(code, details)
            if may_have_written(code):
                state.maybe_written = True
            state.outcome = WalRpcError(
                code,
                details,
                idempotency_key=state.request.idempotency_key,
                attempts=state.attempts,
                maybe_written=state.maybe_written,
                shard_address=_shard_address(call),
            )
        if not retry or state.attempts >= self._policy.max_attempts:
            return None
        retry_at = self._clock.monotonic() + self._policy.backoff(state.attempts, self._rng)
        if self._policy.deadline is not None and retry_at >= state.started + self._policy.deadline:
            return None
        return retry_at
