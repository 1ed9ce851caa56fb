"""Generated protobuf and gRPC modules for wal.v1 (tools/generate_protos.py writes them).

Use these for fields the typed client does not expose; the typed API is in wal_client.
"""
