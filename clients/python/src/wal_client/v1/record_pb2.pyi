import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from . import wal_pb2 as _wal_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LogRecord(_message.Message):
    __slots__ = ("namespace", "payload", "target", "write_time", "accepted_time", "due_time", "idempotency_key", "attempt", "errors", "origin_region", "set_ref", "set_status", "set_deferrals", "entry_id")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    WRITE_TIME_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_TIME_FIELD_NUMBER: _ClassVar[int]
    DUE_TIME_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_REGION_FIELD_NUMBER: _ClassVar[int]
    SET_REF_FIELD_NUMBER: _ClassVar[int]
    SET_STATUS_FIELD_NUMBER: _ClassVar[int]
    SET_DEFERRALS_FIELD_NUMBER: _ClassVar[int]
    ENTRY_ID_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    payload: _wal_pb2.Payload
    target: _wal_pb2.Target
    write_time: _timestamp_pb2.Timestamp
    accepted_time: _timestamp_pb2.Timestamp
    due_time: _timestamp_pb2.Timestamp
    idempotency_key: str
    attempt: int
    errors: _containers.RepeatedScalarFieldContainer[str]
    origin_region: str
    set_ref: MutationSetRef
    set_status: _containers.RepeatedCompositeFieldContainer[MutationStatus]
    set_deferrals: int
    entry_id: int
    def __init__(self, namespace: _Optional[str] = ..., payload: _Optional[_Union[_wal_pb2.Payload, _Mapping]] = ..., target: _Optional[_Union[_wal_pb2.Target, _Mapping]] = ..., write_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., accepted_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., due_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., idempotency_key: _Optional[str] = ..., attempt: _Optional[int] = ..., errors: _Optional[_Iterable[str]] = ..., origin_region: _Optional[str] = ..., set_ref: _Optional[_Union[MutationSetRef, _Mapping]] = ..., set_status: _Optional[_Iterable[_Union[MutationStatus, _Mapping]]] = ..., set_deferrals: _Optional[int] = ..., entry_id: _Optional[int] = ...) -> None: ...

class MutationSetRef(_message.Message):
    __slots__ = ("set_id", "storage", "order", "mutations", "chunks", "bytes")
    SET_ID_FIELD_NUMBER: _ClassVar[int]
    STORAGE_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    MUTATIONS_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    set_id: str
    storage: str
    order: int
    mutations: int
    chunks: int
    bytes: int
    def __init__(self, set_id: _Optional[str] = ..., storage: _Optional[str] = ..., order: _Optional[int] = ..., mutations: _Optional[int] = ..., chunks: _Optional[int] = ..., bytes: _Optional[int] = ...) -> None: ...

class MutationStatus(_message.Message):
    __slots__ = ("sequence", "state", "error", "target")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[MutationStatus.State]
        APPLIED: _ClassVar[MutationStatus.State]
        FAILED: _ClassVar[MutationStatus.State]
        NOT_ATTEMPTED: _ClassVar[MutationStatus.State]
    STATE_UNSPECIFIED: MutationStatus.State
    APPLIED: MutationStatus.State
    FAILED: MutationStatus.State
    NOT_ATTEMPTED: MutationStatus.State
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    state: MutationStatus.State
    error: str
    target: str
    def __init__(self, sequence: _Optional[int] = ..., state: _Optional[_Union[MutationStatus.State, str]] = ..., error: _Optional[str] = ..., target: _Optional[str] = ...) -> None: ...

class StoredSetRecord(_message.Message):
    __slots__ = ("kind", "set_id", "chunk_index", "chunk_count", "bytes", "applied_through", "total_bytes")
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        KIND_UNSPECIFIED: _ClassVar[StoredSetRecord.Kind]
        CHUNK: _ClassVar[StoredSetRecord.Kind]
        PROGRESS: _ClassVar[StoredSetRecord.Kind]
        DONE: _ClassVar[StoredSetRecord.Kind]
        DEAD: _ClassVar[StoredSetRecord.Kind]
        DISCARDED: _ClassVar[StoredSetRecord.Kind]
        REVIVED: _ClassVar[StoredSetRecord.Kind]
    KIND_UNSPECIFIED: StoredSetRecord.Kind
    CHUNK: StoredSetRecord.Kind
    PROGRESS: StoredSetRecord.Kind
    DONE: StoredSetRecord.Kind
    DEAD: StoredSetRecord.Kind
    DISCARDED: StoredSetRecord.Kind
    REVIVED: StoredSetRecord.Kind
    KIND_FIELD_NUMBER: _ClassVar[int]
    SET_ID_FIELD_NUMBER: _ClassVar[int]
    CHUNK_INDEX_FIELD_NUMBER: _ClassVar[int]
    CHUNK_COUNT_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    APPLIED_THROUGH_FIELD_NUMBER: _ClassVar[int]
    TOTAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    kind: StoredSetRecord.Kind
    set_id: str
    chunk_index: int
    chunk_count: int
    bytes: bytes
    applied_through: int
    total_bytes: int
    def __init__(self, kind: _Optional[_Union[StoredSetRecord.Kind, str]] = ..., set_id: _Optional[str] = ..., chunk_index: _Optional[int] = ..., chunk_count: _Optional[int] = ..., bytes: _Optional[bytes] = ..., applied_through: _Optional[int] = ..., total_bytes: _Optional[int] = ...) -> None: ...
