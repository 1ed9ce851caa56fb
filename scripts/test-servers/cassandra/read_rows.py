"""Reads rows with the Python cassandra-driver: an independent client for
checking what wal's own CQL client wrote.

  python read_rows.py PORT USER PASSWORD CQL

Prints one JSON object per row (column name -> value; blobs as hex, UUIDs and
timestamps as strings) and exits 0, or prints the error and exits 1.
"""
import datetime
import json
import sys
import uuid

from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import Cluster


def plain(value):
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if isinstance(value, (uuid.UUID, datetime.datetime)):
        return str(value)
    return value


def main():
    port, user, password, query = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    cluster = Cluster(["127.0.0.1"], port=port, auth_provider=PlainTextAuthProvider(user, password),
                      connect_timeout=10, control_connection_timeout=10)
    try:
        session = cluster.connect()
        for row in session.execute(query, timeout=10):
            print(json.dumps({name: plain(value) for name, value in row._asdict().items()}, sort_keys=True))
    finally:
        cluster.shutdown()


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # the test prints whatever went wrong
        print(f"read_rows.py: {type(error).__name__}: {error}")
        sys.exit(1)
