"""The write ceiling of one Cassandra node, for bench/sections/50-cassandra.sh:
the same rows wald's cassandra target writes (text partition key, blob
clustering key, blob value, USING TIMESTAMP), as fast as the Python driver's
async API can send them, from PROCESSES loader processes at once (default 2):
one Python process is CPU-bound well below what a node takes, so a single one
measures the loader, not the node.

  python cassandra_ceiling.py PORT KEYSPACE TABLE COUNT PAYLOAD_BYTES IN_FLIGHT PARTITIONS [PROCESSES]

COUNT rows and IN_FLIGHT requests are split across the processes; row numbers
do not overlap. Prints one JSON object: rows, errors, seconds (the first start
to the last finish), rows_per_sec, loader_cpu_seconds (every process).
"""
import json
import multiprocessing
import os
import sys
import threading
import time

from cassandra import ConsistencyLevel
from cassandra.cluster import Cluster, ExecutionProfile, EXEC_PROFILE_DEFAULT


def load(port, keyspace, table, first, count, payload_bytes, in_flight, partitions, start, results):
    """Writes rows first..first+count-1 once every loader is ready (`start`, a barrier); puts (errors, cpu seconds) on results."""
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
            number = first + state["next"]
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

    start.wait(timeout=120)
    cpu_before = os.times()
    for _ in range(min(in_flight, count)):
        issue()
    if count > 0:
        done.wait()
    cpu_after = os.times()
    cluster.shutdown()
    cpu = (cpu_after.user - cpu_before.user) + (cpu_after.system - cpu_before.system)
    results.put((state["errors"], cpu))


def main():
    port, keyspace, table = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    count, payload_bytes, in_flight, partitions = (int(value) for value in sys.argv[4:8])
    processes = int(sys.argv[8]) if len(sys.argv) > 8 else 2
    start = multiprocessing.Barrier(processes + 1)  # every loader connected and prepared, then the clock starts
    results = multiprocessing.Queue()
    workers = []
    for index in range(processes):
        first = count * index // processes
        share = count * (index + 1) // processes - first
        worker = multiprocessing.Process(target=load, args=(port, keyspace, table, first, share, payload_bytes,
                                                            max(1, in_flight // processes), partitions, start, results))
        worker.start()
        workers.append(worker)
    start.wait(timeout=120)
    started = time.monotonic()
    outcomes = [results.get() for _ in workers]
    seconds = time.monotonic() - started
    for worker in workers:
        worker.join()
    errors = sum(errors for errors, _ in outcomes)
    cpu = sum(cpu for _, cpu in outcomes)
    print(json.dumps({"rows": count - errors, "errors": errors, "seconds": round(seconds, 2),
                      "rows_per_sec": round(count / seconds), "loader_cpu_seconds": round(cpu, 1),
                      "processes": processes}))


if __name__ == "__main__":
    main()
