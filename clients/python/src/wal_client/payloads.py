"""Typed write inputs and their translation into wal.v1.WriteToLogRequest."""
from __future__ import annotations

import dataclasses
import datetime
import enum
from typing import Any, Mapping, Optional, Sequence, Union

from google.protobuf import struct_pb2

from .v1 import wal_pb2

Seconds = Union[int, float, datetime.timedelta]


class Op(enum.Enum):
    PUT = wal_pb2.Mutation.PUT
    DELETE = wal_pb2.Mutation.DELETE


def _as_bytes(value: Union[bytes, bytearray, memoryview, str]) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


@dataclasses.dataclass(frozen=True)
class Mutation:
    """One put or delete (docs/api.md, `Mutation`). Build with Mutation.put / Mutation.delete."""

    op: Op
    key: bytes
    value: Optional[bytes] = None
    table: str = ""
    partition_key: str = ""
    ttl: Optional[Seconds] = None
    target: str = ""
    sequence: Optional[int] = None

    @classmethod
    def put(cls, key: Union[bytes, str], value: Union[bytes, str], **fields: Any) -> "Mutation":
        return cls(Op.PUT, _as_bytes(key), _as_bytes(value), **fields)

    @classmethod
    def delete(cls, key: Union[bytes, str], **fields: Any) -> "Mutation":
        return cls(Op.DELETE, _as_bytes(key), None, **fields)


@dataclasses.dataclass(frozen=True)
class Target:
    """A per-write override of the namespace's target: its type and the target section's keys."""

    type: str
    settings: Mapping[str, Any] = dataclasses.field(default_factory=dict)


# Opaque bytes (a str is sent as UTF-8), one mutation, or an ordered mutation set.
Payload = Union[bytes, bytearray, memoryview, str, Mutation, Sequence[Mutation]]


@dataclasses.dataclass(frozen=True)
class Write:
    """One logical write for WalClient.write_many; the fields mirror WriteToLogRequest."""

    namespace: str
    payload: Payload
    delay: Optional[Seconds] = None
    write_time: Optional[datetime.datetime] = None
    target: Optional[Target] = None
    idempotency_key: Optional[str] = None


def _seconds(value: Seconds) -> float:
    return value.total_seconds() if isinstance(value, datetime.timedelta) else float(value)


def _set_duration(field: Any, value: Seconds) -> None:
    # Whole nanoseconds: FromTimedelta keeps only microseconds, and a float of
    # seconds would lose the nanoseconds of long delays.
    total = round(_seconds(value) * 1e9)
    seconds, nanos = divmod(total, 1_000_000_000)
    if total < 0 and nanos:
        # Duration wants seconds and nanos of the same sign.
        seconds, nanos = seconds + 1, nanos - 1_000_000_000
    field.seconds = seconds
    field.nanos = nanos


def _fill_mutation(message: wal_pb2.Mutation, mutation: Mutation, sequence: int) -> None:
    message.op = mutation.op.value
    message.key = mutation.key
    if mutation.value is not None:
        message.value = mutation.value
    message.table = mutation.table
    message.partition_key = mutation.partition_key
    if mutation.ttl is not None:
        _set_duration(message.ttl, mutation.ttl)
    message.target = mutation.target
    message.sequence = sequence


def _fill_payload(message: wal_pb2.Payload, payload: Payload) -> None:
    if isinstance(payload, (bytes, bytearray, memoryview, str)):
        message.opaque = _as_bytes(payload)
    elif isinstance(payload, Mutation):
        _fill_mutation(message.mutation, payload, payload.sequence or 0)
    else:
        mutations = list(payload)
        if not all(isinstance(item, Mutation) for item in mutations):
            raise TypeError("payload: expected bytes, str, a Mutation or a sequence of Mutation")
        # wald applies a set in `sequence` order and wants each sequence once;
        # mutations that leave it unset keep the order they were given in.
        message.mutation_set.SetInParent()
        for position, mutation in enumerate(mutations):
            sequence = position if mutation.sequence is None else mutation.sequence
            _fill_mutation(message.mutation_set.mutations.add(), mutation, sequence)


def build_request(write: Write, idempotency_key: str) -> wal_pb2.WriteToLogRequest:
    request = wal_pb2.WriteToLogRequest(namespace=write.namespace, idempotency_key=idempotency_key)
    _fill_payload(request.payload, write.payload)
    if write.delay is not None:
        _set_duration(request.lifecycle.delay, write.delay)
    if write.write_time is not None:
        request.lifecycle.write_time.FromDatetime(write.write_time)
    if write.target is not None:
        request.target.type = write.target.type
        settings = struct_pb2.Struct()
        settings.update(dict(write.target.settings))
        request.target.settings.CopyFrom(settings)
    return request
