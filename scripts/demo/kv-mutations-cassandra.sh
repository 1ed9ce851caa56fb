#!/usr/bin/env bash
# Demo: the multi-partition-mutations persona on Cassandra, end to end.
#
#   bash scripts/demo/kv-mutations-cassandra.sh
#
# Starts one Cassandra node (with PasswordAuthenticator) and a Redis on free
# loopback ports, creates the keyspace, the two tables and a login role, and
# starts wald with config/examples/multi-partition-mutations/kv-mutations-cassandra.yaml
# (ports adapted, and the embedded log instead of Kafka so that the demo needs no
# broker). It writes mutation sets over HTTP, each spanning the two Cassandra
# tables and the cache, reads the rows back with the Python cassandra-driver and
# redis-cli, then replays an older write and shows it does not overwrite the
# newer one. Everything it started is stopped at the end.
#
# Knobs (environment): WAL_BUILD_DIR (default build/release), DEMO_ORDERS (3),
# DEMO_KEEP=1 keeps the demo directory. Needs java + maven (or a filled
# Cassandra cache), PyPI for the driver (cached in a venv), redis-server, curl.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
orders="${DEMO_ORDERS:-3}"
build="${WAL_BUILD_DIR:-build/release}"
wald_bin="$build/src/wald/wald"; walctl_bin="$build/src/cli/walctl/walctl"
[[ -x "$wald_bin" && -x "$walctl_bin" ]] || { echo "demo: build wald and walctl first (cmake --preset release && cmake --build build/release)" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
b64() { printf '%s' "$1" | base64 -w0; }
demo="$(mktemp -d "${TMPDIR:-/tmp}/wal-demo-cassandra-XXXXXX")"
wald_pid=""
cassandra_port=$(free_port); redis_port=$(free_port)
cleanup() {
  [[ -n "$wald_pid" ]] && kill "$wald_pid" 2>/dev/null && wait "$wald_pid" 2>/dev/null || true
  bash scripts/test-servers/cassandra.sh stop "$demo/cassandra" >/dev/null 2>&1 || true
  bash scripts/test-servers/redis.sh stop "$demo/redis" "$redis_port" >/dev/null 2>&1 || true
  if [[ "${DEMO_KEEP:-0}" == 1 ]]; then echo "demo: kept $demo"; else rm -rf "$demo"; fi
}
trap cleanup EXIT

python=$(bash scripts/test-servers/cassandra.sh pydriver)
cql() {  # cql USER PASSWORD STATEMENT: runs one statement with the Python driver, prints rows as JSON
  "$python" scripts/test-servers/cassandra/read_rows.py "$cassandra_port" "$1" "$2" "$3"
}

echo "== Cassandra on 127.0.0.1:$cassandra_port (this takes a while) and Redis on 127.0.0.1:$redis_port"
bash scripts/test-servers/cassandra.sh start "$demo/cassandra" "$cassandra_port" auth
bash scripts/test-servers/redis.sh start "$demo/redis" "$redis_port"
export WAL_CASSANDRA_PASSWORD="demo-$RANDOM$RANDOM"
for statement in \
    "CREATE KEYSPACE kv WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}" \
    "CREATE TABLE kv.orders_by_id (id text, field blob, value blob, PRIMARY KEY ((id), field))" \
    "CREATE TABLE kv.order_items (order_id text, item blob, line blob, PRIMARY KEY ((order_id), item))" \
    "CREATE ROLE wal WITH PASSWORD = '$WAL_CASSANDRA_PASSWORD' AND LOGIN = true" \
    "GRANT MODIFY ON KEYSPACE kv TO wal" "GRANT SELECT ON KEYSPACE kv TO wal" "GRANT CREATE ON KEYSPACE kv TO wal"; do
  cql cassandra cassandra "$statement" >/dev/null
  echo "  ${statement%% WITH PASSWORD*}"
done

echo "== wald with config/examples/multi-partition-mutations/kv-mutations-cassandra.yaml"
mkdir -p "$demo/namespaces" "$demo/data"
# The backend block becomes the embedded log; the ports become the demo's.
awk -v local='backend: {type: local}' '
  /^backend:/ { print local; skipping = 1; next }
  skipping && /^[^ ]/ { skipping = 0 }
  !skipping' config/examples/multi-partition-mutations/kv-mutations-cassandra.yaml |
  sed -e "s#127.0.0.1:9042#127.0.0.1:$cassandra_port#g" -e "s#127.0.0.1:6379#127.0.0.1:$redis_port#" \
  > "$demo/namespaces/kv-mutations-cassandra.yaml"
grpc_port=$(free_port); http_port=$(free_port)
"$wald_bin" --data-dir "$demo/data" --namespaces "$demo/namespaces" --grpc-listen "127.0.0.1:$grpc_port" \
  --http-listen "127.0.0.1:$http_port" --log-level warn 2>"$demo/wald.log" &
wald_pid=$!
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$http_port/healthz" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$http_port/healthz" >/dev/null || { cat "$demo/wald.log" >&2; echo "demo: wald did not start" >&2; exit 1; }
write() {  # write JSON-PAYLOAD [LIFECYCLE-JSON]
  curl -sf -X POST "http://127.0.0.1:$http_port/v1/namespaces/kv-mutations-cassandra/log:write" \
    -H 'Content-Type: application/json' --data "{\"payload\": $1${2:+, \"lifecycle\": $2}}"
  echo
}
put() {  # put SEQUENCE TARGET TABLE PARTITION KEY VALUE
  printf '{"op": "PUT", "sequence": "%s", "target": "%s", "table": "%s", "partition_key": "%s", "key": "%s", "value": "%s"}' \
    "$1" "$2" "$3" "$4" "$(b64 "$5")" "$(b64 "$6")"
}

echo "== $orders mutation sets: an order header, two line items and a cache entry each"
for i in $(seq 1 "$orders"); do
  order="order-$i"
  write "{\"mutation_set\": {\"mutations\": [$(put 1 "" orders "$order" total "$((i * 30))"),
    $(put 2 "" order_items "$order" line-1 "2 x widget"), $(put 3 "" order_items "$order" line-2 "$i x gadget"),
    $(put 4 cache orders "$order" total "cached $((i * 30))")]}}"
done
for _ in $(seq 300); do
  pending=$("$walctl_bin" --server "127.0.0.1:$grpc_port" --json status kv-mutations-cassandra |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["namespaces"][0].get("pending","0"))')
  [[ "$pending" == 0 ]] && break; sleep 0.1
done

echo "== read back with the Python cassandra-driver (blobs in hex) and redis-cli"
cql wal "$WAL_CASSANDRA_PASSWORD" "SELECT id, field, value, WRITETIME(value) AS written FROM kv.orders_by_id"
cql wal "$WAL_CASSANDRA_PASSWORD" "SELECT order_id, item, line FROM kv.order_items"
for i in $(seq 1 "$orders"); do echo "redis orders:order-$i:total = $(redis-cli -p "$redis_port" GET "orders:order-$i:total")"; done
echo "sets still stored in Cassandra (finished sets are deleted):"
cql wal "$WAL_CASSANDRA_PASSWORD" "SELECT set_id, status FROM kv.wal_sets_progress WHERE namespace = 'kv-mutations-cassandra'"

echo "== a replayed older write (write_time one hour ago) after a newer one: last write wins"
write "{\"mutation\": $(put 0 "" orders order-1 total "newest")}"
write "{\"mutation\": $(put 0 "" orders order-1 total "stale replay")}" \
  "{\"write_time\": \"$(date -u -d '1 hour ago' +%Y-%m-%dT%H:%M:%SZ)\"}"
sleep 2
cql wal "$WAL_CASSANDRA_PASSWORD" "SELECT id, value FROM kv.orders_by_id WHERE id = 'order-1' AND field = 0x$(printf total | od -An -tx1 | tr -d ' \n')"
echo "(value 6e6577657374 is \"newest\")"
echo "== done"
