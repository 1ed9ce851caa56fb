from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetShardMapRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ApplyShardMapRequest(_message.Message):
    __slots__ = ("map",)
    MAP_FIELD_NUMBER: _ClassVar[int]
    map: str
    def __init__(self, map: _Optional[str] = ...) -> None: ...

class ShardMapResponse(_message.Message):
    __slots__ = ("map", "source", "shard")
    MAP_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    SHARD_FIELD_NUMBER: _ClassVar[int]
    map: str
    source: str
    shard: str
    def __init__(self, map: _Optional[str] = ..., source: _Optional[str] = ..., shard: _Optional[str] = ...) -> None: ...

class ListNamespacesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListNamespacesResponse(_message.Message):
    __slots__ = ("names",)
    NAMES_FIELD_NUMBER: _ClassVar[int]
    names: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, names: _Optional[_Iterable[str]] = ...) -> None: ...

class GetNamespaceRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class NamespaceResponse(_message.Message):
    __slots__ = ("config", "change")
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    config: _struct_pb2.Struct
    change: str
    def __init__(self, config: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., change: _Optional[str] = ...) -> None: ...

class ApplyNamespaceRequest(_message.Message):
    __slots__ = ("config", "name", "validate_only")
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    config: _struct_pb2.Struct
    name: str
    validate_only: bool
    def __init__(self, config: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., name: _Optional[str] = ..., validate_only: _Optional[bool] = ...) -> None: ...

class DeleteNamespaceRequest(_message.Message):
    __slots__ = ("name", "purge_data")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PURGE_DATA_FIELD_NUMBER: _ClassVar[int]
    name: str
    purge_data: bool
    def __init__(self, name: _Optional[str] = ..., purge_data: _Optional[bool] = ...) -> None: ...

class DeleteNamespaceResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetStatusRequest(_message.Message):
    __slots__ = ("namespace",)
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    def __init__(self, namespace: _Optional[str] = ...) -> None: ...

class NamespaceStatus(_message.Message):
    __slots__ = ("name", "backend", "first_id", "log_end", "consumed", "pending", "segments", "bytes", "writable", "error", "pending_delayed", "in_flight", "dead_letters", "role", "delivery_paused")
    NAME_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    FIRST_ID_FIELD_NUMBER: _ClassVar[int]
    LOG_END_FIELD_NUMBER: _ClassVar[int]
    CONSUMED_FIELD_NUMBER: _ClassVar[int]
    PENDING_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    WRITABLE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    PENDING_DELAYED_FIELD_NUMBER: _ClassVar[int]
    IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    DEAD_LETTERS_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_PAUSED_FIELD_NUMBER: _ClassVar[int]
    name: str
    backend: str
    first_id: int
    log_end: int
    consumed: int
    pending: int
    segments: int
    bytes: int
    writable: bool
    error: str
    pending_delayed: int
    in_flight: int
    dead_letters: int
    role: str
    delivery_paused: bool
    def __init__(self, name: _Optional[str] = ..., backend: _Optional[str] = ..., first_id: _Optional[int] = ..., log_end: _Optional[int] = ..., consumed: _Optional[int] = ..., pending: _Optional[int] = ..., segments: _Optional[int] = ..., bytes: _Optional[int] = ..., writable: _Optional[bool] = ..., error: _Optional[str] = ..., pending_delayed: _Optional[int] = ..., in_flight: _Optional[int] = ..., dead_letters: _Optional[int] = ..., role: _Optional[str] = ..., delivery_paused: _Optional[bool] = ...) -> None: ...

class GetStatusResponse(_message.Message):
    __slots__ = ("namespaces",)
    NAMESPACES_FIELD_NUMBER: _ClassVar[int]
    namespaces: _containers.RepeatedCompositeFieldContainer[NamespaceStatus]
    def __init__(self, namespaces: _Optional[_Iterable[_Union[NamespaceStatus, _Mapping]]] = ...) -> None: ...

class ReadLogRequest(_message.Message):
    __slots__ = ("namespace", "from_id", "limit")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    FROM_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    from_id: int
    limit: int
    def __init__(self, namespace: _Optional[str] = ..., from_id: _Optional[int] = ..., limit: _Optional[int] = ...) -> None: ...

class LogRecordView(_message.Message):
    __slots__ = ("id", "entry_id", "state", "record", "unparsed")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNKNOWN: _ClassVar[LogRecordView.State]
        DELAYED: _ClassVar[LogRecordView.State]
        DUE: _ClassVar[LogRecordView.State]
        IN_FLIGHT: _ClassVar[LogRecordView.State]
        DONE: _ClassVar[LogRecordView.State]
        DEAD: _ClassVar[LogRecordView.State]
        DELIVERED: _ClassVar[LogRecordView.State]
        SUPERSEDED: _ClassVar[LogRecordView.State]
    STATE_UNKNOWN: LogRecordView.State
    DELAYED: LogRecordView.State
    DUE: LogRecordView.State
    IN_FLIGHT: LogRecordView.State
    DONE: LogRecordView.State
    DEAD: LogRecordView.State
    DELIVERED: LogRecordView.State
    SUPERSEDED: LogRecordView.State
    ID_FIELD_NUMBER: _ClassVar[int]
    ENTRY_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    RECORD_FIELD_NUMBER: _ClassVar[int]
    UNPARSED_FIELD_NUMBER: _ClassVar[int]
    id: int
    entry_id: int
    state: LogRecordView.State
    record: _struct_pb2.Struct
    unparsed: bytes
    def __init__(self, id: _Optional[int] = ..., entry_id: _Optional[int] = ..., state: _Optional[_Union[LogRecordView.State, str]] = ..., record: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., unparsed: _Optional[bytes] = ...) -> None: ...

class ReadLogResponse(_message.Message):
    __slots__ = ("entries", "next_id")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_ID_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[LogRecordView]
    next_id: int
    def __init__(self, entries: _Optional[_Iterable[_Union[LogRecordView, _Mapping]]] = ..., next_id: _Optional[int] = ...) -> None: ...

class ListDeadLettersRequest(_message.Message):
    __slots__ = ("namespace", "from_id", "limit")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    FROM_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    from_id: int
    limit: int
    def __init__(self, namespace: _Optional[str] = ..., from_id: _Optional[int] = ..., limit: _Optional[int] = ...) -> None: ...

class ListDeadLettersResponse(_message.Message):
    __slots__ = ("entries", "next_id")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_ID_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[LogRecordView]
    next_id: int
    def __init__(self, entries: _Optional[_Iterable[_Union[LogRecordView, _Mapping]]] = ..., next_id: _Optional[int] = ...) -> None: ...

class RedriveDeadLettersRequest(_message.Message):
    __slots__ = ("namespace", "ids", "to_namespace")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    IDS_FIELD_NUMBER: _ClassVar[int]
    TO_NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    ids: _containers.RepeatedScalarFieldContainer[int]
    to_namespace: str
    def __init__(self, namespace: _Optional[str] = ..., ids: _Optional[_Iterable[int]] = ..., to_namespace: _Optional[str] = ...) -> None: ...

class RedriveDeadLettersResponse(_message.Message):
    __slots__ = ("redriven",)
    REDRIVEN_FIELD_NUMBER: _ClassVar[int]
    redriven: int
    def __init__(self, redriven: _Optional[int] = ...) -> None: ...

class PurgeDeadLettersRequest(_message.Message):
    __slots__ = ("namespace", "ids", "all")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    IDS_FIELD_NUMBER: _ClassVar[int]
    ALL_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    ids: _containers.RepeatedScalarFieldContainer[int]
    all: bool
    def __init__(self, namespace: _Optional[str] = ..., ids: _Optional[_Iterable[int]] = ..., all: _Optional[bool] = ...) -> None: ...

class PurgeDeadLettersResponse(_message.Message):
    __slots__ = ("purged",)
    PURGED_FIELD_NUMBER: _ClassVar[int]
    purged: int
    def __init__(self, purged: _Optional[int] = ...) -> None: ...
