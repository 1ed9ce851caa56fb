#!/usr/bin/env bash
# Section: the write paths side by side (unary gRPC, stream, batch, HTTP) with
# each server's CPU per write, against Redis (appendfsync always, unpipelined
# and -P 16) and raw batched fdatasync on the same disk.
# Called by bench/run.sh with the build dir and a scratch dir; prints Markdown.
set -euo pipefail
build_dir="$1"; work="$2"
source "$(dirname "$0")/../lib.sh"

seconds="${BENCH_SECONDS:-10}"
payload="${BENCH_PAYLOAD_BYTES:-1024}"
warmup=2

cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
# Microseconds of CPU per write: ticks (1/100 s) over a count of writes.
us_per_write() { python3 -c "w=float($2); print(round(($1)*10000/w, 1) if w > 0 else 'n/a')"; }
# writes/s times the measured seconds: the writes a rate stands for.
writes_of() { python3 -c "print(float($1)*$2)"; }

mkdir -p "$work/wal/namespaces"
printf 'name: bench\nbackend: {type: local}\n' > "$work/wal/namespaces/bench.yaml"
start_wald "$build_dir" "$work/wal"

# One measured run against wald: prints the tool's JSON, then the wald CPU
# ticks it used on the next line.
measure_wald() {
  local before after result
  before=$(cpu_ticks "$wald_pid")
  result=$("$@")
  after=$(cpu_ticks "$wald_pid")
  echo "$result"
  echo $((after - before))
}

log "bench: write paths, ${payload}-byte payloads, ${seconds}s each"
declare -A rate p50 p99 cpu
run_grpc() {  # name, tool args...
  local name="$1"; shift
  local out; out=$(measure_wald "$@")
  local json; json=$(echo "$out" | head -1)
  local ticks; ticks=$(echo "$out" | tail -1)
  log "  $name: $json (wald ticks $ticks)"
  rate[$name]=$(json_field "$json" durable_writes_per_sec)
  p50[$name]=$(json_field "$json" p50_ms)
  p99[$name]=$(json_field "$json" p99_ms)
  # The warm-up's writes cost CPU too: count them at the measured rate.
  cpu[$name]=$(us_per_write "$ticks" "$(writes_of "${rate[$name]}" "$((seconds + warmup))")")
}
loadgen() { "$build_dir/bench/wal_loadgen" --server "127.0.0.1:$wald_grpc" --namespace bench \
  --payload-bytes "$payload" --seconds "$seconds" --warmup "$warmup" --json "$@"; }
streamgen() { "$build_dir/bench/wal_streamgen" --server "127.0.0.1:$wald_grpc" --namespace bench \
  --payload-bytes "$payload" --seconds "$seconds" --warmup "$warmup" --json "$@"; }

run_grpc unary1 loadgen --in-flight 1 --channels 1
run_grpc unary16 loadgen --in-flight 16
run_grpc unary64 loadgen --in-flight 64
run_grpc stream streamgen --mode stream --streams 2 --in-flight 512
run_grpc batch streamgen --mode batch --threads 4 --batch 256

# HTTP: wrk POSTs the same 1 KiB opaque write on keep-alive connections.
body=$(python3 -c "import base64; print('{\"payload\":{\"opaque\":\"' + base64.b64encode(b'w'*$payload).decode() + '\"}}')")
cat > "$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
LUA
run_http() {  # name, connections
  local name="$1" connections="$2" threads=$(( $2 < 2 ? 1 : 2 ))
  local before after out
  # wrk has no warm-up: a short unmeasured run first.
  wrk -t "$threads" -c "$connections" -d "${warmup}s" -s "$work/post.lua" \
    "http://127.0.0.1:$wald_http/v1/namespaces/bench/log:write" >/dev/null
  before=$(cpu_ticks "$wald_pid")
  out=$(wrk -t "$threads" -c "$connections" -d "${seconds}s" --latency -s "$work/post.lua" \
    "http://127.0.0.1:$wald_http/v1/namespaces/bench/log:write")
  after=$(cpu_ticks "$wald_pid")
  log "$out"
  if echo "$out" | grep -q 'Non-2xx'; then log "  $name: some answers were not 200 (durable=TRUE)"; fi
  rate[$name]=$(echo "$out" | awk '/^Requests\/sec:/ {printf "%d", $2}')
  p50[$name]=$(echo "$out" | awk '$1 == "50%" {print $2}')
  p99[$name]=$(echo "$out" | awk '$1 == "99%" {print $2}')
  cpu[$name]=$(us_per_write "$((after - before))" "$(writes_of "${rate[$name]}" "$seconds")")
}
run_http http1 1
run_http http16 16
run_http http64 64
wald_rss_kib=$(awk '/^VmHWM/ {print $2}' "/proc/$wald_pid/status")
kill "$wald_pid"; wait "$wald_pid" || true

log "bench: raw append + fdatasync, per record and in batches of 64 and 512"
raw1=$("$build_dir/bench/raw_fsync" --path "$work/raw.dat" --record-bytes "$payload" --batch 1 --seconds 5 --json)
raw1_rps=$(json_field "$raw1" records_per_sec)
raw64=$("$build_dir/bench/raw_fsync" --path "$work/raw.dat" --record-bytes "$payload" --batch 64 --seconds 5 --json)
raw512=$("$build_dir/bench/raw_fsync" --path "$work/raw.dat" --record-bytes "$payload" --batch 512 --seconds 5 --json)
log "  $raw64"; log "  $raw512"
raw64_rps=$(json_field "$raw64" records_per_sec)
raw512_rps=$(json_field "$raw512" records_per_sec)

log "bench: Redis SET, appendfsync always, 64 clients, unpipelined and -P 16"
redis_port=$(free_port)
mkdir -p "$work/redis"
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work/redis" --appendonly yes --appendfsync always \
  --save "" --daemonize no --logfile "$work/redis/redis.log" &
redis_pid=$!; track_pid "$redis_pid"
for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
run_redis() {  # name, requests, extra redis-benchmark args
  local name="$1" requests="$2"; shift 2
  local before after csv line
  before=$(cpu_ticks "$redis_pid")
  csv=$(redis-benchmark -h 127.0.0.1 -p "$redis_port" -t set -d "$payload" -c 64 -n "$requests" -r 1000000 --csv "$@")
  after=$(cpu_ticks "$redis_pid")
  log "  $name: $csv"
  line=$(echo "$csv" | grep '^"SET"')
  rate[$name]=$(echo "$line" | cut -d, -f2 | tr -d '"' | cut -d. -f1)
  p50[$name]=$(echo "$line" | cut -d, -f5 | tr -d '"')
  p99[$name]=$(echo "$line" | cut -d, -f7 | tr -d '"')
  cpu[$name]=$(us_per_write "$((after - before))" "$requests")
}
run_redis redis $((seconds * 30000))
run_redis redis_p16 $((seconds * 150000)) -P 16
kill "$redis_pid"; wait "$redis_pid" || true

best_many=$(python3 -c "print(max(${rate[stream]}, ${rate[batch]}))")
cat <<DOC
## Write paths

Every row: durable ${payload}-byte writes on the embedded log, ${seconds} s measured (after a
${warmup} s warm-up for wal), load generator and server on the same 2 cores. *CPU per write* is the
server process's user+system CPU over the writes it answered (\`/proc/PID/stat\`), so it includes
the fsync path's own cost. HTTP is measured with \`wrk\` (keep-alive, POST); gRPC with
\`wal_loadgen\` (unary) and \`wal_streamgen\` (stream, batch).

| path | concurrency | durable writes/s | p50 | p99 | server CPU per write |
|---|---|---:|---:|---:|---:|
| wal gRPC unary | 1 call | ${rate[unary1]} | ${p50[unary1]} ms | ${p99[unary1]} ms | ${cpu[unary1]} µs |
| wal gRPC unary | 16 calls | ${rate[unary16]} | ${p50[unary16]} ms | ${p99[unary16]} ms | ${cpu[unary16]} µs |
| wal gRPC unary | 64 calls | ${rate[unary64]} | ${p50[unary64]} ms | ${p99[unary64]} ms | ${cpu[unary64]} µs |
| wal \`WriteToLogStream\` | 2 streams × 512 | ${rate[stream]} | ${p50[stream]} ms | ${p99[stream]} ms | ${cpu[stream]} µs |
| wal \`WriteToLogBatch\` | 4 calls × 256 writes | ${rate[batch]} | ${p50[batch]} ms | ${p99[batch]} ms | ${cpu[batch]} µs |
| wal HTTP | 1 connection | ${rate[http1]} | ${p50[http1]} | ${p99[http1]} | ${cpu[http1]} µs |
| wal HTTP | 16 connections | ${rate[http16]} | ${p50[http16]} | ${p99[http16]} | ${cpu[http16]} µs |
| wal HTTP | 64 connections | ${rate[http64]} | ${p50[http64]} | ${p99[http64]} | ${cpu[http64]} µs |
| Redis 7 \`appendfsync always\`, unpipelined | 64 clients | ${rate[redis]} | ${p50[redis]} ms | ${p99[redis]} ms | ${cpu[redis]} µs |
| Redis 7 \`appendfsync always\`, \`-P 16\` | 64 clients | ${rate[redis_p16]} | ${p50[redis_p16]} ms | ${p99[redis_p16]} ms | ${cpu[redis_p16]} µs |
| raw append + \`fdatasync\` per record | | ${raw1_rps} | | | |
| raw append + \`fdatasync\` per 64 records | | ${raw64_rps} | | | |
| raw append + \`fdatasync\` per 512 records | | ${raw512_rps} | | | |

| measure | ratio |
|---|---:|
| unary (64 calls) vs Redis unpipelined, throughput | $(ratio "${rate[unary64]}" "${rate[redis]}") |
| unary (64 calls) CPU per write vs Redis's | $(ratio "${cpu[unary64]}" "${cpu[redis]}") |
| best of stream and batch vs raw \`fdatasync\` per 64 | $(ratio "$best_many" "$raw64_rps") |
| best of stream and batch vs raw \`fdatasync\` per 512 | $(ratio "$best_many" "$raw512_rps") |
| best of stream and batch vs Redis \`-P 16\` | $(ratio "$best_many" "${rate[redis_p16]}") |
| HTTP vs gRPC unary, 16 connections / calls | $(ratio "${rate[http16]}" "${rate[unary16]}") |
| HTTP vs gRPC unary, 64 connections / calls | $(ratio "${rate[http64]}" "${rate[unary64]}") |

wald's peak RSS over these runs: $((wald_rss_kib / 1024)) MiB.

- The per-record raw figure is what a queue that fsyncs each write could reach at best on this
  disk; group commit is why every wal path is far above it. The batched raw figures are the
  disk's ceiling with no network, protocol or RPC CPU.
- Redis with \`appendfsync always\` also group-commits (one fsync per event-loop pass), and its
  RESP protocol costs far less CPU per request than HTTP/2 and protobuf; on two shared cores the
  CPU per write decides most rows.

DOC
