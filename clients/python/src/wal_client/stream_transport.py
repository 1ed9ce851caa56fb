"""Sends attempts on one WriteToLogStream call instead of one unary call each.

Threading: send() may be called from any thread. One reader thread per open
stream takes the answers and completes the attempts; one reaper thread ends
attempts whose timeout passed without an answer (a stream has no per-message
deadline of its own). Both end when the stream does.
Failure: when the stream ends with an error (the connection broke, wald shut
down), every attempt still waiting completes with that error, an outcome that
may have been written (the pipeline retries them with their keys); the next
send() opens a new stream.
"""
from __future__ import annotations

import heapq
import itertools
import queue
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import grpc

from .pipeline import CompletedCall, Done, WriteTransport
from .v1 import wal_pb2

_END = object()


class _Answer:
    """One write's answer from the stream, shaped as the completed call the pipeline judges."""

    def __init__(self, response: Optional[wal_pb2.WriteToLogResponse], code: grpc.StatusCode, details: str) -> None:
        self._response = response
        self._code = code
        self._details = details

    def result(self, timeout: Optional[float] = None) -> Any:
        return self._response

    def exception(self, timeout: Optional[float] = None) -> Optional[BaseException]:
        return None if self._response is not None else grpc.RpcError(self._details)

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> Optional[str]:
        return self._details

    def trailing_metadata(self) -> Any:
        return ()


def _code_of(number: int) -> grpc.StatusCode:
    for code in grpc.StatusCode:
        if code.value[0] == number:
            return code
    return grpc.StatusCode.UNKNOWN


def answer_of(result: Any) -> _Answer:
    """A WriteResult message (written or refused) as a completed attempt."""
    if result.HasField("written"):
        return _Answer(result.written, grpc.StatusCode.OK, "")
    return _Answer(None, _code_of(result.refused.code), result.refused.message)


_Waiting = Tuple[wal_pb2.WriteToLogRequest, float, Done]  # an attempt sent, not yet answered
_OnEnd = Callable[[List[_Waiting], _Answer], None]


class _Stream:
    """One WriteToLogStream call. `on_end` gets the attempts it left unanswered, and its final status."""

    def __init__(
        self, method: grpc.StreamStreamMultiCallable, metadata: Sequence[Tuple[str, str]], on_end: _OnEnd
    ) -> None:
        self._lock = threading.Lock()
        self._waiting: Dict[int, _Waiting] = {}
        self._on_end = on_end
        self._deadlines: List[Tuple[float, int]] = []
        self._changed = threading.Condition(self._lock)
        self._sequence = itertools.count()
        self._outgoing: "queue.Queue[Any]" = queue.Queue()
        self.open = True
        self._call = method(iter(self._outgoing.get, _END), metadata=tuple(metadata))
        threading.Thread(target=self._read, name="wal-stream-reader", daemon=True).start()
        threading.Thread(target=self._reap, name="wal-stream-reaper", daemon=True).start()

    def send(self, request: wal_pb2.WriteToLogRequest, timeout: float, done: Done) -> None:
        with self._lock:
            if not self.open:
                closed = True
            else:
                closed = False
                sequence = next(self._sequence)
                self._waiting[sequence] = (request, timeout, done)
        if closed:
            # The stream ended between the transport's check and now: as if it broke mid-call.
            done(_Answer(None, grpc.StatusCode.UNAVAILABLE, "the write stream had ended"))
            return
        with self._lock:
            heapq.heappush(self._deadlines, (time.monotonic() + timeout, sequence))
            self._changed.notify()
        self._outgoing.put(wal_pb2.WriteToLogStreamRequest(sequence=sequence, write=request))

    def close(self) -> None:
        self._outgoing.put(_END)  # half-close: wald answers what it has, then ends the call

    def _complete(self, sequence: int, answer: CompletedCall) -> None:
        with self._lock:
            waiting = self._waiting.pop(sequence, None)
        if waiting is not None:  # None: already timed out; the late answer is dropped
            waiting[2](answer)

    def _read(self) -> None:
        code, details = grpc.StatusCode.UNAVAILABLE, "the write stream ended before answering"
        try:
            for response in self._call:
                self._complete(response.sequence, answer_of(response.result))
        except grpc.RpcError as error:
            code, details = error.code(), error.details() or ""  # type: ignore[attr-defined]
        with self._lock:
            self.open = False
            left, self._waiting = self._waiting, {}
            self._changed.notify()
        self._on_end(list(left.values()), _Answer(None, code, details))

    def _reap(self) -> None:
        with self._lock:
            while self.open:
                now = time.monotonic()
                while self._deadlines and self._deadlines[0][0] <= now:
                    _, sequence = heapq.heappop(self._deadlines)
                    waiting = self._waiting.pop(sequence, None)
                    if waiting is not None:
                        self._lock.release()
                        try:
                            late = _Answer(None, grpc.StatusCode.DEADLINE_EXCEEDED, "no answer on the stream in time")
                            waiting[2](late)
                        finally:
                            self._lock.acquire()
                wait = self._deadlines[0][0] - now if self._deadlines else None
                self._changed.wait(wait)


class StreamTransport:
    """Attempts as messages on one WriteToLogStream call, reopened after it ends.

    Against a wald without the stream (UNIMPLEMENTED), the attempts it held and
    every later one go to `fallback` (the unary transport) instead.
    """

    def __init__(
        self,
        method: grpc.StreamStreamMultiCallable,
        metadata: Sequence[Tuple[str, str]],
        fallback: WriteTransport,
    ) -> None:
        self._method = method
        self._metadata = tuple(metadata)
        self._fallback = fallback
        self._lock = threading.Lock()
        self._stream: Optional[_Stream] = None
        self._unimplemented = False

    def send(self, request: wal_pb2.WriteToLogRequest, timeout: float, done: Done) -> None:
        with self._lock:
            if not self._unimplemented and (self._stream is None or not self._stream.open):
                self._stream = _Stream(self._method, self._metadata, self._ended)
            stream = None if self._unimplemented else self._stream
        if stream is None:
            self._fallback.send(request, timeout, done)
        else:
            stream.send(request, timeout, done)

    def _ended(self, left: List[_Waiting], answer: _Answer) -> None:
        if answer.code() is grpc.StatusCode.UNIMPLEMENTED:
            with self._lock:
                self._unimplemented = True
            # Nothing was written on a stream the server does not serve: send them again.
            for request, timeout, done in left:
                self._fallback.send(request, timeout, done)
            return
        for _, _, done in left:
            done(answer)

    def close(self) -> None:
        with self._lock:
            stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()
