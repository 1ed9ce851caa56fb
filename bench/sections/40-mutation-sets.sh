#!/usr/bin/env bash
# Section: mutation sets end to end on the embedded log — sets of 10 PUTs
# written over gRPC, stored in the local durable storage, their markers
# enqueued, then rebuilt and applied to SQLite by the consumer. Prints Markdown.
set -euo pipefail
build_dir="$1"; work="$2"
source "$(dirname "$0")/../lib.sh"
walctl="$build_dir/src/cli/walctl/walctl"
sets="${BENCH_SETS:-2000}"
set_size="${BENCH_SET_SIZE:-10}"
value_bytes="${BENCH_SET_VALUE_BYTES:-256}"

pending_of() {
  "$walctl" --server "127.0.0.1:$wald_grpc" --json status "$1" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["namespaces"][0].get("pending","0"))'
}

log "bench: $sets mutation sets of $set_size PUTs (${value_bytes}-byte values) to SQLite, end to end"
mkdir -p "$work/sets/namespaces"
printf 'name: sets\nbackend: {type: local}\ntarget: {type: sqlite, path: %s/sets/kv.db}\ndurable_storage: {type: local}\nconsumer: {concurrency: 4, poll_interval: 10ms, max_entries_per_poll: 200}\n' \
  "$work" > "$work/sets/namespaces/sets.yaml"
start_wald "$build_dir" "$work/sets"
started=$(date +%s.%N)
accepted=$("$build_dir/bench/wal_loadgen" --server "127.0.0.1:$wald_grpc" --namespace sets --mutation-set "$set_size" \
  --payload-bytes "$value_bytes" --count "$sets" --in-flight 32 --json)
acked=$(date +%s.%N)
while [ "$(pending_of sets)" != "0" ]; do sleep 0.05; done
finished=$(date +%s.%N)
rows=$(python3 -c "import sqlite3; print(sqlite3.connect('$work/sets/kv.db').execute('select count(*) from bench').fetchone()[0])")
kill "$wald_pid"; wait "$wald_pid" || true
log "  $accepted; rows $rows"

accept_rate=$(json_field "$accepted" durable_writes_per_sec)
accept_p50=$(json_field "$accepted" p50_ms)
accept_p99=$(json_field "$accepted" p99_ms)
end_to_end=$(python3 -c "print(f'{$sets/($finished-$started):.0f}')")
mutations_per_sec=$(python3 -c "print(f'{$sets*$set_size/($finished-$started):.0f}')")
total_seconds=$(python3 -c "print(f'{$finished-$started:.1f}')")
ack_seconds=$(python3 -c "print(f'{$acked-$started:.1f}')")

cat <<DOC
## Mutation sets end to end

\`wal_loadgen --mutation-set ${set_size}\`: ${sets} sets of ${set_size} PUTs (${value_bytes}-byte values, distinct keys), 32 calls
in flight, against one \`wald\` (producer and consumer) on the embedded log. Each set is stored in the
namespace's local durable storage (fsynced) before its marker is enqueued (fsynced); the consumer
(4 workers) rebuilds each set, applies its ${set_size} PUTs to SQLite (\`synchronous=FULL\`) in sequence
order and records it done (fsynced) before completing the marker.

| measure | value |
|---|---:|
| **sets/s end to end** (first write to last set applied) | **${end_to_end}** |
| mutations/s applied | ${mutations_per_sec} |
| sets/s acknowledged (\`durable=TRUE\`) | ${accept_rate} |
| acknowledgement latency p50 / p99 | ${accept_p50} ms / ${accept_p99} ms |
| time to acknowledge all / to apply all | ${ack_seconds} s / ${total_seconds} s |
| rows in SQLite afterwards | ${rows} |

DOC
