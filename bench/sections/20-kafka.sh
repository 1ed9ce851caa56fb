#!/usr/bin/env bash
# Section: the Kafka backend. Durable WriteToLog on a Kafka namespace against the raw
# librdkafka producer (acks=all) on the same broker, and cross-region replication lag
# (3 regions: 3 memcached + 3 wald --region, one broker).
# Called by bench/run.sh with the build dir and a scratch dir; prints Markdown.
set -euo pipefail
build_dir="$1"; work="$2"
source "$(dirname "$0")/../lib.sh"
root="$(cd "$(dirname "$0")/../.." && pwd)"

seconds="${BENCH_SECONDS:-10}"
in_flight="${BENCH_IN_FLIGHT:-64}"
payload="${BENCH_PAYLOAD_BYTES:-1024}"
lag_writes="${BENCH_LAG_WRITES:-1000}"
lag_rate="${BENCH_LAG_RATE:-100}"   # writes/s, steady

kafka_dir="$work/kafka"
mc_ports=()
cleanup_kafka() {
  kill_tracked
  for port in "${mc_ports[@]:-}"; do
    [ -n "$port" ] && bash "$root/scripts/test-servers/memcached.sh" stop "$work/mc" "$port" >/dev/null 2>&1 || true
  done
  bash "$root/scripts/test-servers/kafka.sh" stop "$kafka_dir" >/dev/null 2>&1 || true
}
trap cleanup_kafka EXIT

broker_port=$(free_port)
log "bench: starting a Kafka broker (KRaft, single node) on 127.0.0.1:$broker_port"
bash "$root/scripts/test-servers/kafka.sh" start "$kafka_dir" "$broker_port" >&2
brokers="127.0.0.1:$broker_port"

# Starts wald on the namespaces in $1/namespaces; sets started_pid/started_grpc/started_http.
start_kafka_wald() {  # dir role [region]
  local dir="$1" role="$2" region="${3:-}"
  started_grpc=$(free_port); started_http=$(free_port)
  "$build_dir/src/wald/wald" --data-dir "$dir/data" --namespaces "$dir/namespaces" --role "$role" \
    ${region:+--region "$region"} --grpc-listen "127.0.0.1:$started_grpc" --http-listen "127.0.0.1:$started_http" \
    --log-level warn >"$dir/wald.log" 2>&1 &
  started_pid=$!; track_pid "$started_pid"
  for _ in $(seq 300); do curl -sf "http://127.0.0.1:$started_http/healthz" >/dev/null && return 0; sleep 0.1; done
  log "wald did not start: $(tail -5 "$dir/wald.log")"; return 1
}

log "bench: wald WriteToLog, kafka backend, ${in_flight} in flight, ${payload}-byte payloads, ${seconds}s"
mkdir -p "$work/writes/namespaces"
cat > "$work/writes/namespaces/bench.yaml" <<YAML
name: bench
backend:
  type: kafka
  kafka:
    bootstrap_servers: $brokers
    topics: [bench_wal]
YAML
# --role producer: only the write path runs.
start_kafka_wald "$work/writes" producer
wald_pid=$started_pid; wald_grpc=$started_grpc
cpu_before=$(awk '{print $14+$15}' "/proc/$wald_pid/stat")
wal_result=$("$build_dir/bench/wal_loadgen" --server "127.0.0.1:$wald_grpc" --namespace bench \
  --in-flight "$in_flight" --payload-bytes "$payload" --seconds "$seconds" --json)
cpu_after=$(awk '{print $14+$15}' "/proc/$wald_pid/stat")
log "  $wal_result"
kill "$wald_pid"; wait "$wald_pid" 2>/dev/null || true

log "bench: raw librdkafka producer, acks=all + idempotence, ${in_flight} in flight, same broker"
peer_result=$("$build_dir/bench/kafka_producer_peer" --brokers "$brokers" --topic bench_peer \
  --in-flight "$in_flight" --payload-bytes "$payload" --seconds "$seconds" --json)
log "  $peer_result"

log "bench: replication lag, 3 regions, ${lag_writes} writes at ${lag_rate}/s through us-east-1"
regions=(us-east-1 us-west-2 eu-west-1)
for region in "${regions[@]}"; do
  port=$(free_port); mc_ports+=("$port")
  bash "$root/scripts/test-servers/memcached.sh" start "$work/mc" "$port" >&2
done
repl_yaml="name: cache
backend:
  type: kafka
  kafka:
    bootstrap_servers: $brokers
    topics: [bench_replication]
    consumer_group: bench-replication
backoff: {initial: 100ms, max: 1s}
max_retries: 100
target:
  type: replication
  regions:
    us-east-1: {servers: [\"127.0.0.1:${mc_ports[0]}\"]}
    us-west-2: {servers: [\"127.0.0.1:${mc_ports[1]}\"]}
    eu-west-1: {servers: [\"127.0.0.1:${mc_ports[2]}\"]}
consumer: {concurrency: 4, poll_interval: 10ms, max_entries_per_poll: 100}"
declare -A region_http
for region in "${regions[@]}"; do
  mkdir -p "$work/$region/namespaces"
  echo "$repl_yaml" > "$work/$region/namespaces/cache.yaml"
  start_kafka_wald "$work/$region" both "$region"
  region_http[$region]=$started_http
done
lag_result=$(python3 - "${region_http[us-east-1]}" "$lag_writes" "$lag_rate" "${mc_ports[@]}" <<'PY'
# Writes N puts at a steady rate through one region's HTTP API and polls every
# region's memcached (multi-key get) until each key shows up. Lag of a write in a
# region = first time its value was seen there - time the write request was sent.
import base64, http.client, json, socket, sys, threading, time
http_port, n, rate = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
mc_ports = [int(p) for p in sys.argv[4:]]
run = "r%d" % int(time.time())
keys = ["%s-%d" % (run, i) for i in range(n)]
sent = [None] * n
seen = [dict() for _ in mc_ports]
failed = []
start = time.time() + 0.5

def writer(worker, workers):
    conn = http.client.HTTPConnection("127.0.0.1", http_port, timeout=10)
    for i in range(worker, n, workers):
        delay = start + i / rate - time.time()
        if delay > 0: time.sleep(delay)
        body = json.dumps({"payload": {"mutation": {"op": "PUT", "key": base64.b64encode(keys[i].encode()).decode(),
                                                    "value": base64.b64encode(b"v").decode()}}})
        sent[i] = time.time()
        conn.request("POST", "/v1/namespaces/cache/log:write", body, {"Content-Type": "application/json"})
        reply = json.loads(conn.getresponse().read() or b"{}")
        if reply.get("durable") != "TRUE": failed.append(reply)

def poller(index, port):
    sock = socket.create_connection(("127.0.0.1", port)); sock.settimeout(5)
    pending = set(range(n))
    deadline = start + n / rate + 60
    while pending and time.time() < deadline:
        batch = [i for i in sorted(pending) if sent[i] is not None][:100]
        if not batch:
            time.sleep(0.001); continue
        sock.sendall(("get " + " ".join(keys[i] for i in batch) + "\r\n").encode())
        data = b""
        while not data.endswith(b"END\r\n"): data += sock.recv(65536)
        now = time.time()
        for line in data.split(b"\r\n"):
            if line.startswith(b"VALUE "):
                i = int(line.split()[1].decode().rsplit("-", 1)[1])
                if i in pending: pending.discard(i); seen[index][i] = now
        time.sleep(0.001)

# Warm-up (not measured): the three consumer groups join and get their partitions.
def visible_everywhere(key):
    for port in mc_ports:
        s = socket.create_connection(("127.0.0.1", port)); s.sendall(("get %s\r\n" % key).encode())
        data = b""
        while not data.endswith(b"END\r\n"): data += s.recv(4096)
        s.close()
        if not data.startswith(b"VALUE"): return False
    return True
warm = http.client.HTTPConnection("127.0.0.1", http_port, timeout=10)
for w in range(20):
    key = "%s-warm-%d" % (run, w)
    warm.request("POST", "/v1/namespaces/cache/log:write", json.dumps({"payload": {"mutation": {"op": "PUT",
                 "key": base64.b64encode(key.encode()).decode(), "value": base64.b64encode(b"w").decode()}}}),
                 {"Content-Type": "application/json"})
    warm.getresponse().read()
    deadline = time.time() + 30
    while not visible_everywhere(key) and time.time() < deadline: time.sleep(0.05)
start = time.time() + 0.5

workers = [threading.Thread(target=writer, args=(w, 16)) for w in range(16)]
pollers = [threading.Thread(target=poller, args=(k, p)) for k, p in enumerate(mc_ports)]
for t in workers + pollers: t.start()
for t in workers + pollers: t.join()
def pct(values, f):
    values = sorted(values); return values[int(f * (len(values) - 1))] if values else float("nan")
result = {"failed_writes": len(failed), "regions": []}
everything = []
for k, port in enumerate(mc_ports):
    lags = [(seen[k][i] - sent[i]) * 1000 for i in seen[k]]
    everything += lags
    result["regions"].append({"applied": len(lags), "p50_ms": round(pct(lags, .5), 1), "p99_ms": round(pct(lags, .99), 1),
                              "max_ms": round(max(lags), 1) if lags else None})
result["p50_ms"] = round(pct(everything, .5), 1); result["p99_ms"] = round(pct(everything, .99), 1)
print(json.dumps(result))
PY
)
log "  $lag_result"

wal_rps=$(json_field "$wal_result" durable_writes_per_sec)
wal_p50=$(json_field "$wal_result" p50_ms)
wal_p99=$(json_field "$wal_result" p99_ms)
peer_rps=$(json_field "$peer_result" writes_per_sec)
peer_p50=$(json_field "$peer_result" p50_ms)
peer_p99=$(json_field "$peer_result" p99_ms)
wald_cores=$(python3 -c "print(round(($cpu_after-$cpu_before)/100/($seconds+2), 2))")
lag_rows=$(python3 -c "
import json, sys
r = json.loads(sys.argv[1])
for name, region in zip(['us-east-1 (writing region)', 'us-west-2', 'eu-west-1'], r['regions']):
    print(f\"| {name} | {region['applied']} / $lag_writes | {region['p50_ms']} ms | {region['p99_ms']} ms | {region['max_ms']} ms |\")
print(f\"| **all regions** | | **{r['p50_ms']} ms** | **{r['p99_ms']} ms** | |\")
" "$lag_result")

cat <<DOC
## Kafka backend

One single-node Kafka 4.1 broker (KRaft, \`scripts/test-servers/kafka.sh\`) on the same machine
and disk. Kafka acknowledges from the page cache (no fsync per write); with acks=all on one
broker that is the one replica.

| system | durable writes/s | p50 | p99 | ratio to wal |
|---|---:|---:|---:|---:|
| **wal** (gRPC WriteToLog, \`backend.type: kafka\`, \`--role producer\`) | **${wal_rps}** | ${wal_p50} ms | ${wal_p99} ms | 1.00x |
| raw librdkafka producer, acks=all + idempotence, linger.ms=5 (\`bench/kafka_producer_peer\`) | ${peer_rps} | ${peer_p50} ms | ${peer_p99} ms | $(ratio "$peer_rps" "$wal_rps") |

Both keep ${in_flight} writes of ${payload} bytes in flight for ${seconds} s after a 2 s warm-up;
wal counts a write when it answered \`durable=TRUE\` (after the delivery report), the peer when
the delivery report arrived. wal vs the raw producer: **$(ratio "$wal_rps" "$peer_rps")**. During the
wal run wald used ${wald_cores} cores; the broker (a JVM) and the load generator shared the rest.

### Cross-region replication lag

Three wald instances (\`--region us-east-1|us-west-2|eu-west-1\`), each consuming the topic in
its own group and applying to its own memcached; after 20 unmeasured warm-up writes (the
groups have joined), ${lag_writes} puts at a steady ${lag_rate}/s sent
through us-east-1's HTTP API. Lag = the first moment a poller (memcached multi-key \`get\`, a
1 ms loop per region) saw the value in that region's memcached minus the moment the write
request was sent, so it includes the durable write itself (produce, acks=all) and the
poller's resolution.

| region | applied | p50 | p99 | max |
|---|---:|---:|---:|---:|
${lag_rows}

DOC
