#!/usr/bin/env bash
# Demo: the delayed-queue persona on SQS (ElasticMQ), end to end.
#
#   bash scripts/demo/delayed-queue-sqs.sh
#
# Starts ElasticMQ on a free loopback port, creates the queues, starts wald with
# config/examples/delayed-queue/delayed-deletes-sqs.yaml (endpoint, SQLite path and
# jitter adapted for a one-minute run), writes N puts, then a burst of N deletes with
# `walctl write --delay`, and prints a per-second histogram of when the deletes landed
# in SQLite: the namespace's plus_minus jitter spreads the burst over
# [delay - jitter, delay + jitter]. Everything it started is stopped at the end.
#
# Knobs (environment): WAL_BUILD_DIR (default build/release, else any build/*/ with
# wald), DEMO_N (100), DEMO_DELAY (15s), DEMO_JITTER (10s), DEMO_KEEP=1 keeps the
# demo directory. Needs java + maven (or a filled ElasticMQ cache), curl, sqlite3.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
n="${DEMO_N:-100}"
delay_s="${DEMO_DELAY:-15}"; delay_s="${delay_s%s}"
jitter_s="${DEMO_JITTER:-10}"; jitter_s="${jitter_s%s}"

build="${WAL_BUILD_DIR:-build/release}"
if [[ ! -x "$build/src/wald/wald" ]]; then
  for candidate in build/*/; do
    if [[ -x "$candidate/src/wald/wald" && -x "$candidate/src/cli/walctl/walctl" ]]; then build="${candidate%/}"; break; fi
  done
fi
wald_bin="$build/src/wald/wald"; walctl_bin="$build/src/cli/walctl/walctl"
[[ -x "$wald_bin" && -x "$walctl_bin" ]] || { echo "demo: build wald and walctl first (cmake --preset release && cmake --build build/release)" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "demo: sqlite3 CLI not found" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
now() { date +%s.%N; }
demo="$(mktemp -d "${TMPDIR:-/tmp}/wal-demo-sqs-XXXXXX")"
wald_pid=""
cleanup() {
  [[ -n "$wald_pid" ]] && kill "$wald_pid" 2>/dev/null && wait "$wald_pid" 2>/dev/null || true
  bash scripts/test-servers/elasticmq.sh stop "$demo/elasticmq" >/dev/null 2>&1 || true
  if [[ "${DEMO_KEEP:-0}" == 1 ]]; then echo "demo: kept $demo"; else rm -rf "$demo"; fi
}
trap cleanup EXIT

# ElasticMQ does not check signatures, but wald needs credentials to sign with.
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-AKIDDEMO}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-demo-secret}"

sqs_port=$(free_port)
echo "== ElasticMQ"
bash scripts/test-servers/elasticmq.sh start "$demo/elasticmq" "$sqs_port"
sqs() {  # sqs ACTION JSON
  curl -sf -X POST "http://127.0.0.1:$sqs_port/" -H 'Content-Type: application/x-amz-json-1.0' \
    -H "X-Amz-Target: AmazonSQS.$1" \
    -H 'Authorization: AWS4-HMAC-SHA256 Credential=AKIDDEMO/20240101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0' \
    --data "$2"
}
for queue in delayed-deletes delayed-deletes-dlq; do
  sqs CreateQueue "{\"QueueName\":\"$queue\"}" >/dev/null
  echo "created queue $queue"
done

echo "== wald with config/examples/delayed-queue/delayed-deletes-sqs.yaml"
mkdir -p "$demo/namespaces" "$demo/data"
db="$demo/kv.db"
sed -e "s#endpoint: http://127.0.0.1:9324#endpoint: http://127.0.0.1:$sqs_port#" \
    -e "s#path: targets/delayed-deletes.db.*#path: $db#" \
    -e "s#^  jitter: 30s#  jitter: ${jitter_s}s#" \
    config/examples/delayed-queue/delayed-deletes-sqs.yaml > "$demo/namespaces/delayed-deletes-sqs.yaml"
grep -E "^ +[a-z].*(endpoint|jitter|path|queue)" "$demo/namespaces/delayed-deletes-sqs.yaml" | sed 's/^/  /'
grpc_port=$(free_port); http_port=$(free_port)
"$wald_bin" --data-dir "$demo/data" --namespaces "$demo/namespaces" --grpc-listen "127.0.0.1:$grpc_port" \
  --http-listen "127.0.0.1:$http_port" --log-level warn 2>"$demo/wald.log" &
wald_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$http_port/healthz" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$http_port/healthz" >/dev/null || { cat "$demo/wald.log" >&2; echo "demo: wald did not start" >&2; exit 1; }
walctl() { "$walctl_bin" --server "127.0.0.1:$grpc_port" "$@"; }
export -f walctl 2>/dev/null || true

echo "== $n puts (the namespace's jitter spreads them too: delay 0 + U[-${jitter_s}s, ${jitter_s}s], never below 0)"
seq 1 "$n" | xargs -P 8 -I{} "$walctl_bin" --server "127.0.0.1:$grpc_port" write delayed-deletes-sqs \
  --op put --key "user-{}" "profile-{}" >/dev/null
for _ in $(seq $((jitter_s * 10 + 100))); do
  rows=$(sqlite3 "$db" "SELECT count(*) FROM kv;" 2>/dev/null || echo 0)
  [[ "$rows" == "$n" ]] && break
  sleep 0.1
done
echo "rows in SQLite: $rows"
[[ "$rows" == "$n" ]] || { echo "demo: the puts did not all land" >&2; exit 1; }

# Record the exact time of every delete SQLite applies.
sqlite3 "$db" "CREATE TABLE deletions (key BLOB, at REAL);
  CREATE TRIGGER log_deletions AFTER DELETE ON kv
  BEGIN INSERT INTO deletions VALUES (old.key, (julianday('now') - 2440587.5) * 86400.0); END;"

echo "== burst: $n deletes written at once with --delay ${delay_s}s (jitter ±${jitter_s}s from the namespace)"
burst_start=$(now)
seq 1 "$n" | xargs -P 8 -I{} "$walctl_bin" --server "127.0.0.1:$grpc_port" write delayed-deletes-sqs \
  --op delete --key "user-{}" --delay "${delay_s}s" >/dev/null
burst_end=$(now)
printf 'burst written in %.2f s; waiting for the deletes to land (at most %s s)\n' \
  "$(echo "$burst_end - $burst_start" | bc)" $((delay_s + jitter_s + 3))
deadline=$(( $(date +%s) + delay_s + jitter_s + 5 ))
while (( $(date +%s) < deadline )); do
  left=$(sqlite3 "$db" "SELECT count(*) FROM kv;")
  [[ "$left" == 0 ]] && break
  sleep 0.5
done

echo "== when the deletes landed in SQLite (seconds after the burst started)"
sqlite3 -separator ' ' "$db" "SELECT CAST(at - $burst_start AS INTEGER), count(*) FROM deletions GROUP BY 1 ORDER BY 1;" |
  while read -r second count; do
    printf '  +%2ss %3d %s\n' "$second" "$count" "$(printf '#%.0s' $(seq 1 "$count"))"
  done
sqlite3 -separator ' ' "$db" "SELECT count(*), printf('%.2f', min(at) - $burst_start), printf('%.2f', max(at) - $burst_start) FROM deletions;" |
  { read -r landed first last
    echo "landed: $landed of $n deletes; first +${first}s, last +${last}s; requested ${delay_s}s ± ${jitter_s}s"
    echo "rows left in SQLite: $(sqlite3 "$db" 'SELECT count(*) FROM kv;')"; }
walctl status delayed-deletes-sqs || true
