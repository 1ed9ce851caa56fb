import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.rpc import status_pb2 as _status_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Durable(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DURABLE_UNSPECIFIED: _ClassVar[Durable]
    TRUE: _ClassVar[Durable]
    FALSE: _ClassVar[Durable]
    UNKNOWN: _ClassVar[Durable]
DURABLE_UNSPECIFIED: Durable
TRUE: Durable
FALSE: Durable
UNKNOWN: Durable

class Lifecycle(_message.Message):
    __slots__ = ("delay", "write_time")
    DELAY_FIELD_NUMBER: _ClassVar[int]
    WRITE_TIME_FIELD_NUMBER: _ClassVar[int]
    delay: _duration_pb2.Duration
    write_time: _timestamp_pb2.Timestamp
    def __init__(self, delay: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., write_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Mutation(_message.Message):
    __slots__ = ("op", "table", "partition_key", "key", "value", "ttl", "target", "sequence")
    class Operation(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        OPERATION_UNSPECIFIED: _ClassVar[Mutation.Operation]
        PUT: _ClassVar[Mutation.Operation]
        DELETE: _ClassVar[Mutation.Operation]
    OPERATION_UNSPECIFIED: Mutation.Operation
    PUT: Mutation.Operation
    DELETE: Mutation.Operation
    OP_FIELD_NUMBER: _ClassVar[int]
    TABLE_FIELD_NUMBER: _ClassVar[int]
    PARTITION_KEY_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    op: Mutation.Operation
    table: str
    partition_key: str
    key: bytes
    value: bytes
    ttl: _duration_pb2.Duration
    target: str
    sequence: int
    def __init__(self, op: _Optional[_Union[Mutation.Operation, str]] = ..., table: _Optional[str] = ..., partition_key: _Optional[str] = ..., key: _Optional[bytes] = ..., value: _Optional[bytes] = ..., ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., target: _Optional[str] = ..., sequence: _Optional[int] = ...) -> None: ...

class MutationSet(_message.Message):
    __slots__ = ("mutations",)
    MUTATIONS_FIELD_NUMBER: _ClassVar[int]
    mutations: _containers.RepeatedCompositeFieldContainer[Mutation]
    def __init__(self, mutations: _Optional[_Iterable[_Union[Mutation, _Mapping]]] = ...) -> None: ...

class Payload(_message.Message):
    __slots__ = ("opaque", "mutation", "mutation_set")
    OPAQUE_FIELD_NUMBER: _ClassVar[int]
    MUTATION_FIELD_NUMBER: _ClassVar[int]
    MUTATION_SET_FIELD_NUMBER: _ClassVar[int]
    opaque: bytes
    mutation: Mutation
    mutation_set: MutationSet
    def __init__(self, opaque: _Optional[bytes] = ..., mutation: _Optional[_Union[Mutation, _Mapping]] = ..., mutation_set: _Optional[_Union[MutationSet, _Mapping]] = ...) -> None: ...

class Target(_message.Message):
    __slots__ = ("type", "settings")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    type: str
    settings: _struct_pb2.Struct
    def __init__(self, type: _Optional[str] = ..., settings: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class WriteToLogRequest(_message.Message):
    __slots__ = ("namespace", "lifecycle", "payload", "target", "idempotency_key")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    LIFECYCLE_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    lifecycle: Lifecycle
    payload: Payload
    target: Target
    idempotency_key: str
    def __init__(self, namespace: _Optional[str] = ..., lifecycle: _Optional[_Union[Lifecycle, _Mapping]] = ..., payload: _Optional[_Union[Payload, _Mapping]] = ..., target: _Optional[_Union[Target, _Mapping]] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class WriteToLogResponse(_message.Message):
    __slots__ = ("durable", "message", "id")
    DURABLE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    durable: Durable
    message: str
    id: int
    def __init__(self, durable: _Optional[_Union[Durable, str]] = ..., message: _Optional[str] = ..., id: _Optional[int] = ...) -> None: ...

class WriteResult(_message.Message):
    __slots__ = ("written", "refused")
    WRITTEN_FIELD_NUMBER: _ClassVar[int]
    REFUSED_FIELD_NUMBER: _ClassVar[int]
    written: WriteToLogResponse
    refused: _status_pb2.Status
    def __init__(self, written: _Optional[_Union[WriteToLogResponse, _Mapping]] = ..., refused: _Optional[_Union[_status_pb2.Status, _Mapping]] = ...) -> None: ...

class WriteToLogStreamRequest(_message.Message):
    __slots__ = ("sequence", "write")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    WRITE_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    write: WriteToLogRequest
    def __init__(self, sequence: _Optional[int] = ..., write: _Optional[_Union[WriteToLogRequest, _Mapping]] = ...) -> None: ...

class WriteToLogStreamResponse(_message.Message):
    __slots__ = ("sequence", "result")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    result: WriteResult
    def __init__(self, sequence: _Optional[int] = ..., result: _Optional[_Union[WriteResult, _Mapping]] = ...) -> None: ...

class WriteToLogBatchRequest(_message.Message):
    __slots__ = ("writes",)
    WRITES_FIELD_NUMBER: _ClassVar[int]
    writes: _containers.RepeatedCompositeFieldContainer[WriteToLogRequest]
    def __init__(self, writes: _Optional[_Iterable[_Union[WriteToLogRequest, _Mapping]]] = ...) -> None: ...

class WriteToLogBatchResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[WriteResult]
    def __init__(self, results: _Optional[_Iterable[_Union[WriteResult, _Mapping]]] = ...) -> None: ...
