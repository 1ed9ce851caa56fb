"""A Python client for wal's wald: durable writes with idempotency keys and retries.

    from wal_client import WalClient, Durable
    with WalClient("127.0.0.1:7400") as client:
        result = client.write("orders", b"hello", delay=30)
        assert result.durable is Durable.TRUE
"""
from .admin import LogEntry, NamespaceStatus
from .client import DEFAULT_ADDRESS, WalClient, new_idempotency_key
from .connection import TlsConfig
from .payloads import Mutation, Op, Payload, Target, Write
from .pipeline import Clock
from .results import Durable, WalError, WalRpcError, WriteResult
from .retry import RetryPolicy

__all__ = [
    "Clock",
    "DEFAULT_ADDRESS",
    "Durable",
    "LogEntry",
    "Mutation",
    "NamespaceStatus",
    "Op",
    "Payload",
    "RetryPolicy",
    "Target",
    "TlsConfig",
    "WalClient",
    "WalError",
    "WalRpcError",
    "Write",
    "WriteResult",
    "new_idempotency_key",
]
__version__ = "0.1.0"
