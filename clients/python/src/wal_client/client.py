"""WalClient: writes to wald over gRPC with idempotency keys and retries, plus status and log reads."""
from __future__ import annotations

import datetime
import random
import uuid
from typing import Any, Iterable, Iterator, List, Literal, Optional, Sequence, Tuple

import grpc

from .admin import LogEntry, NamespaceStatus
from .connection import TlsConfig, call_metadata, make_channel, token_from_environment
from .payloads import Payload, Seconds, Target, Write, build_request
from .pipeline import Clock, Outcome, Pipeline, UnaryTransport, WriteTransport
from .results import WalRpcError, WriteResult
from .retry import RetryPolicy
from .stream_transport import StreamTransport
from .v1 import admin_pb2, admin_pb2_grpc, wal_pb2_grpc

DEFAULT_ADDRESS = "127.0.0.1:7400"


def new_idempotency_key() -> str:
    """A fresh key for one logical write; every attempt of that write reuses it."""
    return str(uuid.uuid4())


class WalClient:
    """A client of one wald instance.

    Threading: safe to share between threads; each call blocks its caller only.
    Ownership: the client owns the channel it makes and closes it in close();
    a channel passed in stays the caller's.
    Failure: write() returns a WriteResult for every answer wald gave (TRUE,
    FALSE, UNKNOWN, after retries) and raises WalRpcError when the call was
    refused or failed; write_many() returns either per write, in input order.
    Arguments that cannot make a request (a wrong payload type) raise TypeError
    or ValueError before anything is sent.
    """

    def __init__(
        self,
        address: str = DEFAULT_ADDRESS,
        *,
        tls: Optional[TlsConfig] = None,
        token: Optional[str] = None,
        retry: RetryPolicy = RetryPolicy(),
        timeout: float = 10.0,
        metadata: Sequence[Tuple[str, str]] = (),
        interceptors: Sequence[grpc.UnaryUnaryClientInterceptor] = (),
        channel: Optional[grpc.Channel] = None,
        channel_options: Sequence[Tuple[str, object]] = (),
        clock: Clock = Clock(),
        rng: Optional[random.Random] = None,
    ) -> None:
        """
        address: wald's gRPC address, HOST:PORT.
        tls: None for plaintext; TlsConfig() for TLS with the system roots.
        token: the bearer token; None reads $WAL_TOKEN.
        retry: the policy for writes (admin reads are not retried).
        timeout: seconds for one attempt (a write's retries are also bounded by retry.deadline).
        metadata: extra gRPC metadata on every call, e.g. ("x-request-id", ...).
        interceptors: gRPC client interceptors, applied to the channel.
        channel: use this channel instead of making one from address and tls.
        """
        self._owns_channel = channel is None
        base = channel if channel is not None else make_channel(address, tls, channel_options)
        self._base_channel = base
        self._channel = grpc.intercept_channel(base, *interceptors) if interceptors else base
        self._metadata = call_metadata(token if token is not None else token_from_environment(), metadata)
        self._retry = retry
        self._timeout = timeout
        self._clock = clock
        self._rng = rng if rng is not None else random.Random()
        self._wal = wal_pb2_grpc.WriteAheadLogStub(self._channel)
        self._admin = admin_pb2_grpc.AdminStub(self._channel)

    def close(self) -> None:
        if self._owns_channel:
            self._base_channel.close()

    def __enter__(self) -> "WalClient":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- writes -------------------------------------------------------------

    def write(
        self,
        namespace: str,
        payload: Payload,
        *,
        delay: Optional[Seconds] = None,
        write_time: Optional[datetime.datetime] = None,
        target: Optional[Target] = None,
        idempotency_key: Optional[str] = None,
        retry: Optional[RetryPolicy] = None,
    ) -> WriteResult:
        """Writes one entry; the fields mirror WriteToLogRequest (docs/api.md).

        payload: bytes (or str, sent as UTF-8) for an opaque payload, a Mutation,
            or a sequence of Mutation for a mutation set.
        delay: seconds (or a timedelta) until the entry is due; None: the namespace's default.
        idempotency_key: None makes a new uuid4 for this write.
        """
        write = Write(namespace, payload, delay, write_time, target, idempotency_key)
        outcome = self._run([write], 1, retry, "unary")[0]
        if isinstance(outcome, WalRpcError):
            raise outcome
        return outcome

    def write_many(
        self,
        writes: Iterable[Write],
        *,
        max_in_flight: int = 256,
        retry: Optional[RetryPolicy] = None,
        via: Literal["stream", "unary"] = "stream",
    ) -> List[Outcome]:
        """Writes every entry, with up to `max_in_flight` writes outstanding at once.

        via="stream" sends them as messages on one WriteToLogStream call (falling
        back to unary calls against a wald without it); via="unary" sends each as
        its own WriteToLog call, pipelined. Each write is retried on its own under
        the policy; one write's failure does not stop the others. Returns, in
        input order, a WriteResult or the WalRpcError of each write; nothing is
        raised for a single write's refusal.
        """
        return self._run(list(writes), max_in_flight, retry, via)

    def _transport(self, via: str) -> WriteTransport:
        unary = UnaryTransport(self._wal.WriteToLog, self._metadata)
        if via == "unary":
            return unary
        if via == "stream":
            return StreamTransport(self._wal.WriteToLogStream, self._metadata, fallback=unary)
        raise ValueError(f"via: 'stream' or 'unary', got {via!r}")

    def _run(self, writes: List[Write], max_in_flight: int, retry: Optional[RetryPolicy], via: str) -> List[Outcome]:
        # Built before anything is sent, so a bad argument fails the whole call cleanly.
        requests = [build_request(write, write.idempotency_key or new_idempotency_key()) for write in writes]
        pipeline = Pipeline(self._transport(via), retry or self._retry, self._timeout, self._clock, self._rng)
        return pipeline.run(requests, max_in_flight)

    # --- admin reads ---------------------------------------------------------

    def status(self, namespace: str = "") -> List[NamespaceStatus]:
        """GetStatus: every namespace, or the one named. Needs the `read` scope when auth is on."""
        response = self._admin_call(self._admin.GetStatus, admin_pb2.GetStatusRequest(namespace=namespace))
        return [NamespaceStatus.from_proto(item) for item in response.namespaces]

    def read_log(self, namespace: str, from_id: int = 0, limit: Optional[int] = None) -> Iterator[LogEntry]:
        """Stored entries with id >= from_id, page by page, until the log's end or `limit` entries."""
        remaining = limit
        while remaining is None or remaining > 0:
            page_size = 1000 if remaining is None else min(remaining, 1000)
            request = admin_pb2.ReadLogRequest(namespace=namespace, from_id=from_id, limit=page_size)
            response = self._admin_call(self._admin.ReadLog, request)
            if not response.entries:
                return
            for entry in response.entries:
                yield LogEntry.from_proto(entry)
            if remaining is not None:
                remaining -= len(response.entries)
            from_id = response.next_id

    def _admin_call(self, method: grpc.UnaryUnaryMultiCallable, request: object) -> Any:
        try:
            return method(request, timeout=self._timeout, metadata=self._metadata)
        except grpc.RpcError as error:
            raise WalRpcError(error.code(), error.details() or "") from None
