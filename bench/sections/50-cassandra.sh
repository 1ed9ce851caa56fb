#!/usr/bin/env bash
# Section: delivery to Cassandra through wald against the same node's own write
# ceiling, measured in the same run: an async loader on the Python driver
# (prepared INSERT ... USING TIMESTAMP, many in flight, the same row shape).
# Prints Markdown. Needs java + maven (or a filled cache) and PyPI for the driver.
set -euo pipefail
build_dir="$1"; work="$2"
source "$(dirname "$0")/../lib.sh"
root="$(cd "$(dirname "$0")/../.." && pwd)"
walctl="$build_dir/src/cli/walctl/walctl"
entries="${BENCH_CASSANDRA_ENTRIES:-50000}"
payload_bytes="${BENCH_CASSANDRA_PAYLOAD_BYTES:-256}"
loader_in_flight="${BENCH_CASSANDRA_IN_FLIGHT:-256}"
# One Python loader process is CPU-bound below what the node takes; two or more
# share the in-flight requests, so the ceiling measures the node.
loaders="${BENCH_CASSANDRA_LOADERS:-2}"
partitions=1000
# Each worker has one write outstanding, and a node with commitlog_sync: batch
# answers after an fsync: wald needs many workers in flight, as the loader does.
workers="${BENCH_CASSANDRA_WORKERS:-64}"
script="$root/scripts/test-servers/cassandra.sh"

pending_of() {
  "$walctl" --server "127.0.0.1:$wald_grpc" --json status "$1" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["namespaces"][0].get("pending","0"))'
}
cpu_seconds() {  # utime + stime of pid $1, in seconds
  python3 -c "import os; f=open('/proc/$1/stat').read().rsplit(')',1)[1].split(); print((int(f[11])+int(f[12]))/os.sysconf('SC_CLK_TCK'))"
}

load_at_start=$(cut -d' ' -f1 /proc/loadavg)
python=$(bash "$script" pydriver)
cassandra_port=$(free_port)
log "bench: starting Cassandra on 127.0.0.1:$cassandra_port"
bash "$script" start "$work/cassandra" "$cassandra_port" >&2
trap 'bash "$script" stop "$work/cassandra" >/dev/null 2>&1 || true; kill_tracked' EXIT
cassandra_pid=$(cat "$work/cassandra/cassandra.pid")
"$python" - "$cassandra_port" <<'PY'
import sys
from cassandra.cluster import Cluster
cluster = Cluster(["127.0.0.1"], port=int(sys.argv[1]), protocol_version=4)
session = cluster.connect()
session.execute("CREATE KEYSPACE IF NOT EXISTS bench WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}", timeout=60)
for table in ("bench", "ceiling"):
    session.execute(f"CREATE TABLE IF NOT EXISTS bench.{table} (partition_key text, sort_key blob, value blob, "
                    "PRIMARY KEY ((partition_key), sort_key))", timeout=60)
cluster.shutdown()
PY

log "bench: the node's own ceiling ($entries rows, $loader_in_flight in flight over $loaders processes, Python driver)"
"$python" "$root/bench/cassandra_ceiling.py" "$cassandra_port" bench ceiling 5000 "$payload_bytes" "$loader_in_flight" "$partitions" "$loaders" >/dev/null  # warm-up
node_before=$(cpu_seconds "$cassandra_pid")
ceiling=$("$python" "$root/bench/cassandra_ceiling.py" "$cassandra_port" bench ceiling "$entries" "$payload_bytes" "$loader_in_flight" "$partitions" "$loaders")
node_after=$(cpu_seconds "$cassandra_pid")
ceiling_node_cpu=$(python3 -c "print(f'{$node_after-$node_before:.1f}')")
log "  $ceiling; node CPU ${ceiling_node_cpu}s"

log "bench: $entries PUTs through wald to the cassandra target"
mkdir -p "$work/wald/namespaces"
printf 'name: cass\nbackend: {type: local}\ntarget: {type: cassandra, contact_points: ["127.0.0.1:%s"], keyspace: bench, table: bench}\nconsumer: {concurrency: %s, poll_interval: 10ms, max_entries_per_poll: 500}\n' \
  "$cassandra_port" "$workers" > "$work/wald/namespaces/cass.yaml"
start_wald "$build_dir" "$work/wald" --role producer
"$build_dir/bench/wal_loadgen" --server "127.0.0.1:$wald_grpc" --namespace cass --mutation --partitions "$partitions" \
  --payload-bytes "$payload_bytes" --count "$entries" --in-flight 64 --json >/dev/null
kill "$wald_pid"; wait "$wald_pid" || true
start_wald "$build_dir" "$work/wald" --role both
node_before=$(cpu_seconds "$cassandra_pid"); wald_before=$(cpu_seconds "$wald_pid")
started=$(date +%s.%N)
while [ "$(pending_of cass)" != "0" ]; do sleep 0.05; done
finished=$(date +%s.%N)
node_after=$(cpu_seconds "$cassandra_pid"); wald_after=$(cpu_seconds "$wald_pid")
dead=$("$walctl" --server "127.0.0.1:$wald_grpc" --json status cass |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["namespaces"][0].get("dead_letters","0"))')
kill "$wald_pid"; wait "$wald_pid" || true
rows=$("$python" "$root/scripts/test-servers/cassandra/read_rows.py" "$cassandra_port" cassandra cassandra \
  "SELECT COUNT(*) AS n FROM bench.bench" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["n"])')

wal_rate=$(python3 -c "print(f'{$entries/($finished-$started):.0f}')")
wal_seconds=$(python3 -c "print(f'{$finished-$started:.1f}')")
wal_node_cpu=$(python3 -c "print(f'{$node_after-$node_before:.1f}')")
wal_cpu=$(python3 -c "print(f'{$wald_after-$wald_before:.1f}')")
ceiling_rate=$(json_field "$ceiling" rows_per_sec)
ceiling_seconds=$(json_field "$ceiling" seconds)
loader_cpu=$(json_field "$ceiling" loader_cpu_seconds)
share=$(python3 -c "print(f'{100*$wal_rate/$ceiling_rate:.0f}%')")
per_row() { python3 -c "print(f'{1000*$1/$entries:.2f}')"; }  # CPU ms per row
wal_cpu_row=$(per_row "$wal_cpu"); loader_cpu_row=$(per_row "$loader_cpu")
wal_node_row=$(per_row "$wal_node_cpu"); ceiling_node_row=$(per_row "$ceiling_node_cpu")
log "  wald $wal_rate/s ($share of the ceiling), rows $rows, dead letters $dead"

cat <<DOC
## Delivery to Cassandra

One Cassandra 5.0.4 node (\`scripts/test-servers/cassandra.sh\`: 512 MiB heap, \`commitlog_sync: batch\`)
on the same machine. The ceiling is the node's own write rate in the same run: an async loader on
the Python \`cassandra-driver\` in ${loaders} processes (\`execute_async\`, ${loader_in_flight} in flight in all, a prepared
\`INSERT ... USING TIMESTAMP\` of the same row shape: text partition key over ${partitions} partitions,
blob clustering key, ${payload_bytes}-byte blob value, LOCAL_QUORUM). wald delivers ${entries} PUTs
queued beforehand on the embedded log (written by a producer-only wald, then drained by a
producer+consumer wald with ${workers} consumer workers, each with one write outstanding) through the
\`cassandra\` target. CPU is user+system seconds
over each run. Both sides share the 2 cores with the node (and, on this machine, other work: the
load average when the section started was ${load_at_start}).

| measure | wald → cassandra target | node's ceiling (${loaders} Python loaders) |
|---|---:|---:|
| **rows/s** | **${wal_rate}** | ${ceiling_rate} |
| share of the ceiling | **${share}** | 100% |
| seconds for ${entries} rows | ${wal_seconds} | ${ceiling_seconds} |
| CPU of the client side (wald / loader) | ${wal_cpu} s | ${loader_cpu} s |
| CPU of the Cassandra node | ${wal_node_cpu} s | ${ceiling_node_cpu} s |
| CPU per row: client side / node | ${wal_cpu_row} ms / ${wal_node_row} ms | ${loader_cpu_row} ms / ${ceiling_node_row} ms |

A share above 100% means the loader, not the node, was the limit: compare the node's CPU per row,
which is the work each row costs Cassandra whoever sends it.

Rows in \`bench.bench\` afterwards: ${rows}; dead letters: ${dead}.

DOC
