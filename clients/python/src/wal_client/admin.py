"""Typed views of the admin calls the client offers: status and log reads."""
from __future__ import annotations

import dataclasses
from typing import Any, Dict, Optional

from google.protobuf import json_format

from .v1 import admin_pb2


@dataclasses.dataclass(frozen=True)
class NamespaceStatus:
    """One namespace in GetStatus (docs/api.md, Admin API): ids and counts of its log."""

    name: str
    backend: str
    first_id: int
    log_end: int
    consumed: int
    pending: int
    pending_delayed: int
    in_flight: int
    dead_letters: int
    segments: int
    bytes: int
    writable: bool
    error: str
    role: str
    delivery_paused: bool = False  # flags.delivery_paused: writes are kept, nothing is delivered

    @classmethod
    def from_proto(cls, message: admin_pb2.NamespaceStatus) -> "NamespaceStatus":
        return cls(**{field.name: getattr(message, field.name) for field in dataclasses.fields(cls)})


@dataclasses.dataclass(frozen=True)
class LogEntry:
    """One stored entry: its id and the stored wal.v1.LogRecord in protobuf's JSON form.

    `record` is None and `unparsed` holds the stored bytes when they are not a
    valid LogRecord.
    """

    id: int
    record: Optional[Dict[str, Any]]
    unparsed: bytes

    @classmethod
    def from_proto(cls, message: admin_pb2.LogRecordView) -> "LogEntry":
        record = json_format.MessageToDict(message.record) if message.HasField("record") else None
        return cls(message.id, record, message.unparsed)
