"""What a write comes back with: the durability answer, and the errors for refusals."""
from __future__ import annotations

import dataclasses
import enum
from typing import Optional

import grpc

from .v1 import wal_pb2


class Durable(enum.Enum):
    """wald's answer to a write (docs/api.md, "The durable outcomes").

    TRUE: stored; it will be delivered. FALSE: not stored; safe to send again.
    UNKNOWN: it may or may not have been stored; send again only with the same
    idempotency key, so that a copy that did survive is not written twice.
    """

    TRUE = wal_pb2.TRUE
    FALSE = wal_pb2.FALSE
    UNKNOWN = wal_pb2.UNKNOWN

    @classmethod
    def from_proto(cls, value: int) -> "Durable":
        # DURABLE_UNSPECIFIED is never sent by wald; a peer that sends it (or a
        # value newer than this client) has told us nothing, which is UNKNOWN.
        try:
            return cls(value)
        except ValueError:
            return cls.UNKNOWN


@dataclasses.dataclass(frozen=True)
class WriteResult:
    """The outcome of one logical write, after any retries.

    `durable` is the answer that counts: TRUE if any attempt was stored; UNKNOWN
    if the last answer was FALSE but an earlier attempt may have been stored;
    otherwise the last answer. `id` is the entry's position in the namespace's
    log (meaningful for TRUE, and for UNKNOWN as the id the entry would have).
    """

    durable: Durable
    id: int
    message: str
    idempotency_key: str
    attempts: int

    @property
    def ok(self) -> bool:
        return self.durable is Durable.TRUE

    @property
    def duplicate(self) -> bool:
        """True when wald had already stored this idempotency key and wrote nothing new."""
        return self.durable is Durable.TRUE and self.message.startswith("duplicate")


class WalError(Exception):
    """Base class of the errors this package raises."""


class WalRpcError(WalError):
    """wald (or the transport) refused or failed the call after the retries allowed.

    `maybe_written` is True when an attempt may have reached the log (a deadline,
    a dropped connection, or an earlier UNKNOWN answer): send again only with the
    same `idempotency_key`. A plain refusal such as INVALID_ARGUMENT wrote nothing.
    """

    def __init__(
        self,
        code: grpc.StatusCode,
        details: str,
        *,
        idempotency_key: str = "",
        attempts: int = 1,
        maybe_written: bool = False,
        shard_address: Optional[str] = None,
    ) -> None:
        super().__init__(f"{code.name}: {details}")
        self.code = code
        self.details = details
        self.idempotency_key = idempotency_key
        self.attempts = attempts
        self.maybe_written = maybe_written
        # Set on FAILED_PRECONDITION when the namespace is served by another shard.
        self.shard_address = shard_address
