"""Test support: an in-process gRPC server that answers WriteToLog from a script.

Each call takes the next step of the script: a durability answer, or a gRPC
error. It records every request, so tests can see what a retry sent.
"""
from __future__ import annotations

import concurrent.futures
import dataclasses
import threading
import time
from typing import Callable, Dict, List, Optional, Tuple, Union

import grpc
from google.rpc import status_pb2

from wal_client.v1 import wal_pb2, wal_pb2_grpc


@dataclasses.dataclass(frozen=True)
class Answer:
    durable: int  # wal_pb2.TRUE / FALSE / UNKNOWN; SILENCE on a stream: no answer at all
    id: int = 0
    message: str = ""


@dataclasses.dataclass(frozen=True)
class Refuse:
    code: grpc.StatusCode
    details: str = "refused by the fake"


Step = Union[Answer, Refuse]
SILENCE = -1


class FakeWald(wal_pb2_grpc.WriteAheadLogServicer):
    def __init__(
        self,
        script: List[Step] = (),  # type: ignore[assignment]
        then: Optional[Step] = None,
        hold: float = 0.0,
        decide: Optional[Callable[[wal_pb2.WriteToLogRequest, int], Optional[Step]]] = None,
        stream: bool = True,
        break_stream_after: Optional[int] = None,
    ) -> None:
        # stream=False answers WriteToLogStream UNIMPLEMENTED, as a wald without it.
        self._stream = stream
        # The first stream ends with UNAVAILABLE after answering this many writes,
        # the rest of what it read left unanswered.
        self._break_stream_after = break_stream_after
        self.streams = 0
        self._script = list(script)
        # decide(request, attempt) picks the step by content (attempt counts from 1
        # per idempotency key), for concurrent tests where call order is not fixed.
        self._decide = decide
        self._attempts: Dict[str, int] = {}
        self.metadata: List[Tuple[Tuple[str, str], ...]] = []
        # Once the script is used up, every call takes `then` (TRUE with the next id if None).
        self._then = then
        self._hold = hold
        self._lock = threading.Lock()
        self._in_flight = 0
        self.max_in_flight = 0
        self.requests: List[wal_pb2.WriteToLogRequest] = []
        self._next_id = 0

    def _step(self, request, context):
        with self._lock:
            self.requests.append(request)
            self.metadata.append(tuple((item.key, item.value) for item in context.invocation_metadata()))
            attempt = self._attempts[request.idempotency_key] = self._attempts.get(request.idempotency_key, 0) + 1
            if self._decide is not None:
                step = self._decide(request, attempt)
            else:
                step = self._script.pop(0) if self._script else self._then
            if step is None:
                step = Answer(wal_pb2.TRUE, self._next_id)
                self._next_id += 1
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            # Holding each call shows whether the client keeps several outstanding.
            if self._hold:
                time.sleep(self._hold)
            return step
        finally:
            with self._lock:
                self._in_flight -= 1

    def WriteToLog(self, request, context):  # noqa: N802 (the generated servicer's name)
        step = self._step(request, context)
        if isinstance(step, Refuse):
            context.abort(step.code, step.details)
        return wal_pb2.WriteToLogResponse(durable=step.durable, id=step.id, message=step.message)

    def WriteToLogStream(self, request_iterator, context):  # noqa: N802
        if not self._stream:
            context.abort(grpc.StatusCode.UNIMPLEMENTED, "Method not found!")
        with self._lock:
            self.streams += 1
            breaking = self.streams == 1 and self._break_stream_after is not None
        answered = 0
        for message in request_iterator:
            if breaking and answered == self._break_stream_after:
                context.abort(grpc.StatusCode.UNAVAILABLE, "connection reset")
            step = self._step(message.write, context)
            if isinstance(step, Refuse):
                result = wal_pb2.WriteResult(refused=status_pb2.Status(code=step.code.value[0], message=step.details))
            elif step.durable == -1:
                continue  # never answered: the client's timeout must end it
            else:
                result = wal_pb2.WriteResult(
                    written=wal_pb2.WriteToLogResponse(durable=step.durable, id=step.id, message=step.message)
                )
            answered += 1
            yield wal_pb2.WriteToLogStreamResponse(sequence=message.sequence, result=result)


class FakeServer:
    """Serves a FakeWald on a free loopback port; use as a context manager."""

    def __init__(self, fake: FakeWald) -> None:
        self.fake = fake
        self._server = grpc.server(concurrent.futures.ThreadPoolExecutor(max_workers=32))
        wal_pb2_grpc.add_WriteAheadLogServicer_to_server(fake, self._server)
        self.port = self._server.add_insecure_port("127.0.0.1:0")

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> "FakeServer":
        self._server.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.stop(grace=None)


def by_body(false_on: bytes = b"", unknown_on: bytes = b"") -> Callable[[wal_pb2.WriteToLogRequest, int], Step]:
    """A `decide` for payloads that are numbers: TRUE with that number as the id,
    INVALID_ARGUMENT for b"bad", and on the first attempt FALSE for bodies ending
    in `false_on`, UNKNOWN for those ending in `unknown_on`."""

    def decide(request: wal_pb2.WriteToLogRequest, attempt: int) -> Step:
        body = request.payload.opaque
        if body == b"bad":
            return Refuse(grpc.StatusCode.INVALID_ARGUMENT, "payload: bad")
        if attempt == 1 and false_on and body.endswith(false_on):
            return Answer(wal_pb2.FALSE, message="try again")
        if attempt == 1 and unknown_on and body.endswith(unknown_on):
            return Answer(wal_pb2.UNKNOWN, message="fsync failed")
        return Answer(wal_pb2.TRUE, id=int(body))

    return decide
