"""The write ceiling of one Cassandra node, for bench/sections/50-cassandra.sh:
the same rows wald's cassandra target writes (text partition key, blob
clustering key, blob value, USING TIMESTAMP), as fast as the Python driver's
async API can send them.

  python cassandra_ceiling.py PORT KEYSPACE TABLE COUNT PAYLOAD_BYTES IN_FLIGHT PARTITIONS

Prints one JSON object: rows, seconds, rows_per_sec, loader_cpu_seconds.
"""
import json
import os
import sys
import threading
import time

from cassandra import ConsistencyLevel
from cassandra.cluster import Cluster, ExecutionProfile, EXEC_PROFILE_DEFAULT


def main():
    port, keyspace, table = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    count, payload_bytes, in_flight, partitions = (int(value) for value in sys.argv[4:8])
    profile = ExecutionProfile(consistency_level=ConsistencyLevel.LOCAL_QUORUM, request_timeout=30)
    cluster = Cluster(["127.0.0.1"], port=port, execution_profiles={EXEC_PROFILE_DEFAULT: profile},
                      protocol_version=4, connect_timeout=10)
    session = cluster.connect()
    put = session.prepare(f'INSERT INTO "{keyspace}"."{table}" (partition_key, sort_key, value) '
                          'VALUES (?, ?, ?) USING TIMESTAMP ?')
    payload = b"x" * payload_bytes
    lock = threading.Lock()
    done = threading.Event()
    state = {"next": 0, "finished": 0, "errors": 0}

    def issue():
        with lock:
            if state["next"] >= count:
                return
            number = state["next"]
            state["next"] += 1
        future = session.execute_async(put, (f"p{number % partitions}", b"ceiling-%d" % number, payload,
                                             time.time_ns() // 1000))
        future.add_callbacks(finished, failed)

    def finished(_=None):
        with lock:
            state["finished"] += 1
            last = state["finished"] == count
        if last:
            done.set()
        else:
            issue()

    def failed(_error):
        with lock:
            state["errors"] += 1
        finished()

    cpu_before = os.times()
    started = time.monotonic()
    for _ in range(min(in_flight, count)):
        issue()
    done.wait()
    seconds = time.monotonic() - started
    cpu_after = os.times()
    cluster.shutdown()
    cpu = (cpu_after.user - cpu_before.user) + (cpu_after.system - cpu_before.system)
    print(json.dumps({"rows": count - state["errors"], "errors": state["errors"], "seconds": round(seconds, 2),
                      "rows_per_sec": round(count / seconds), "loader_cpu_seconds": round(cpu, 1)}))


if __name__ == "__main__":
    main()
