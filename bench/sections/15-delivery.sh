#!/usr/bin/env bash
# Section: delivery on the embedded log — throughput to SQLite and memcached,
# lateness of delayed entries at a steady due rate, and the cost of ten million
# pending delayed entries (RSS and restart time). Prints Markdown.
set -euo pipefail
build_dir="$1"; work="$2"
source "$(dirname "$0")/../lib.sh"
root="$(cd "$(dirname "$0")/../.." && pwd)"
walctl="$build_dir/src/cli/walctl/walctl"
entries="${BENCH_DELIVERY_ENTRIES:-100000}"
pending_entries="${BENCH_PENDING_ENTRIES:-10000000}"

pending_of() {  # pending count of namespace $1 on the running wald
  "$walctl" --server "127.0.0.1:$wald_grpc" --json status "$1" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["namespaces"][0].get("pending","0"))'
}
rss_mib() { awk '/^VmRSS/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }

# Writes $entries PUTs with a producer-only wald, restarts it as producer+consumer
# and times the drain. Prints "deliveries/s seconds".
measure_drain() {
  local name="$1" target_yaml="$2" dir="$work/drain-$1"
  mkdir -p "$dir/namespaces"
  printf 'name: %s\nbackend: {type: local}\ntarget: %s\nconsumer: {concurrency: 4, poll_interval: 10ms, max_entries_per_poll: 500}\n' \
    "$name" "$target_yaml" > "$dir/namespaces/$name.yaml"
  start_wald "$build_dir" "$dir" --role producer
  "$build_dir/bench/wal_loadgen" --server "127.0.0.1:$wald_grpc" --namespace "$name" --mutation \
    --payload-bytes 256 --count "$entries" --in-flight 64 --json >/dev/null
  kill "$wald_pid"; wait "$wald_pid" || true
  local started; started=$(date +%s.%N)
  start_wald "$build_dir" "$dir" --role both
  while [ "$(pending_of "$name")" != "0" ]; do sleep 0.05; done
  local finished; finished=$(date +%s.%N)
  kill "$wald_pid"; wait "$wald_pid" || true
  python3 -c "d=$finished-$started; print(f'{$entries/d:.0f} {d:.1f}')"
}

log "bench: delivery throughput to SQLite ($entries PUTs)"
read -r sqlite_rate sqlite_seconds < <(measure_drain sqlite "{type: sqlite, path: $work/drain-sqlite/kv.db}")
log "  $sqlite_rate/s"

log "bench: delivery throughput to memcached ($entries PUTs)"
memcached_port=$(free_port)
bash "$root/scripts/test-servers/memcached.sh" start "$work/memcached" "$memcached_port" >/dev/null
read -r memcached_rate memcached_seconds < <(measure_drain memcached "{type: memcached, servers: [127.0.0.1:$memcached_port]}")
bash "$root/scripts/test-servers/memcached.sh" stop "$work/memcached" "$memcached_port" >/dev/null
log "  $memcached_rate/s"

log "bench: lateness at 5000 due entries/s"
mkdir -p "$work/lateness/namespaces"
start_wald "$build_dir" "$work/lateness"
lateness=$("$build_dir/bench/delivery_lateness" --server "127.0.0.1:$wald_grpc" --rate 5000 --seconds 10 --delay-ms 3000 --concurrency 8)
kill "$wald_pid"; wait "$wald_pid" || true
log "  $lateness"

log "bench: $pending_entries pending delayed entries"
mkdir -p "$work/pending/namespaces"
printf 'name: pending\nbackend: {type: local}\ntarget: {type: sqlite, path: %s/pending/kv.db}\n' "$work" \
  > "$work/pending/namespaces/pending.yaml"
start_wald "$build_dir" "$work/pending"
rss_empty=$(rss_mib "$wald_pid")
# Batches of 256 fill the backlog in minutes rather than the better part of an hour.
fill=$("$build_dir/bench/wal_streamgen" --server "127.0.0.1:$wald_grpc" --namespace pending --mode batch \
  --threads 4 --batch 256 --payload-bytes 100 --delay-ms 86400000 --count "$pending_entries" --json)
rss_loaded=$(rss_mib "$wald_pid")
status_started=$(date +%s.%N)
pending_of pending >/dev/null
status_seconds=$(python3 -c "print(f'{$(date +%s.%N)-$status_started:.2f}')")
kill "$wald_pid"; wait "$wald_pid" || true
restart_started=$(date +%s.%N)
start_wald "$build_dir" "$work/pending"
restart_ready=$(date +%s.%N)
pending_after=$(pending_of pending)
rss_restarted=$(rss_mib "$wald_pid")
restart_cpu=$(awk '{printf "%.1f", ($14+$15)/100}' "/proc/$wald_pid/stat")
pending_disk=$(du -sh "$work/pending/data" | cut -f1)
kill "$wald_pid"; wait "$wald_pid" || true
restart_seconds=$(python3 -c "print(f'{$restart_ready-$restart_started:.2f}')")
log "  rss empty ${rss_empty} MiB, loaded ${rss_loaded} MiB, restart ${restart_seconds}s, after restart ${rss_restarted} MiB, pending ${pending_after}"

cat <<DOC
## Delivery on the embedded log

$entries PUT mutations (256-byte values) were written by a producer-only \`wald\`, which was then
restarted as producer+consumer; the figure is entries delivered per second until nothing was
pending (4 consumer workers, 500 entries per poll). Each delivery is a real write to the store,
and each completion is made durable in the log (group-committed) before the entry counts as done.

| target | deliveries/s | drain time |
|---|---:|---:|
| SQLite (WAL journal, \`synchronous=FULL\`) | ${sqlite_rate} | ${sqlite_seconds} s |
| memcached 1.6 (loopback) | ${memcached_rate} | ${memcached_seconds} s |

### Lateness of delayed entries

\`delivery_lateness\`: 5,000 entries/s written for 10 s, each with a 3 s delay, so 5,000 entries
come due every second; an HTTP target on loopback records each arrival (8 consumer workers). Lateness = arrival −
(send time + delay), an upper bound on arrival − due time.

| due rate | p50 lateness | p99 lateness | max | delivered early |
|---:|---:|---:|---:|---:|
| $(json_field "$lateness" rate)/s (written at $(json_field "$lateness" achieved_write_rate)/s) | $(json_field "$lateness" lateness_p50_ms) ms | $(json_field "$lateness" lateness_p99_ms) ms | $(json_field "$lateness" lateness_max_ms) ms | $(json_field "$lateness" early) |

### $pending_entries pending delayed entries

$pending_entries entries with a 1-day delay (100-byte payloads) in one namespace, written with
\`WriteToLogBatch\` (4 threads, 256 writes a call: $(json_field "$fill" durable_writes_per_sec) durable writes/s).

| | |
|---|---:|
| wald RSS, empty | ${rss_empty} MiB |
| wald RSS with $pending_entries pending | ${rss_loaded} MiB |
| \`walctl status\` with them pending | ${status_seconds} s |
| restart (SIGTERM, start, until serving) | ${restart_seconds} s |
| CPU of the restarted wald until serving (user+system) | ${restart_cpu} s |
| wald RSS after restart | ${rss_restarted} MiB |
| pending after restart | ${pending_after} |
| data directory | ${pending_disk} |

The delay index costs 16 bytes per pending entry, one bit per id and two bits per stored record
(how retired ones ended); records stay on disk until due.

DOC
