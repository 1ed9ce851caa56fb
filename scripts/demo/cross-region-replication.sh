#!/usr/bin/env bash
# Cross-region replication, end to end on one machine:
#
#   one Kafka broker (KRaft)           the shared log (topic demo_evcache_<n>)
#   three memcached instances          the EVCache clusters of us-east-1, us-west-2, eu-west-1
#   three wald instances               one per region (--region R), the same namespace file;
#                                      each takes writes and consumes the topic in its own
#                                      consumer group "wal-evcache-replication.<R>",
#                                      applying to its own region's memcached only
#
# It writes and deletes through different regions and prints what every region's
# memcached holds, then freezes eu-west-1's memcached (SIGSTOP), shows that region
# lagging while the others keep up, thaws it and shows it catch up.
#
#   scripts/demo/cross-region-replication.sh [BUILD_DIR]     (default build/release)
#
# Needs: memcached, Java 17+ and the Kafka jars (scripts/test-servers/kafka.sh fetch).
# Bounded (~90 s) and cleans up everything it started, also on Ctrl-C or failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="$(cd "${1:-${WAL_BUILD_DIR:-${ROOT}/build/release}}" && pwd)"
WALD="${BUILD}/src/wald/wald"
WALCTL="${BUILD}/src/cli/walctl/walctl"
SERVERS="${ROOT}/scripts/test-servers"
for binary in "${WALD}" "${WALCTL}"; do
  [[ -x "${binary}" ]] || { echo "missing ${binary}: build wald and walctl first (cmake --build ${BUILD} --target wald walctl)" >&2; exit 1; }
done
command -v memcached >/dev/null || { echo "memcached not found (apt-get install memcached)" >&2; exit 1; }

REGIONS=(us-east-1 us-west-2 eu-west-1)
NS=evcache-replication
WORK="$(mktemp -d "${TMPDIR:-/tmp}/wal-xregion-demo-XXXXXX")"
START=${SECONDS}
LIMIT=${WAL_DEMO_LIMIT:-90}
declare -A MC_PORT GRPC WALD_PID

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$(( 20000 + RANDOM % 40000 ))
    port_open "${p}" || { echo "${p}"; return 0; }
  done
  echo "no free port" >&2; return 1
}
elapsed() { echo $(( SECONDS - START )); }
over_budget() { (( SECONDS - START >= LIMIT )); }

cleanup() {
  local rc=$?
  set +e
  for region in "${REGIONS[@]}"; do
    local pid="${WALD_PID[${region}]:-}"
    if [[ -n "${pid}" ]] && kill -0 "${pid}" 2>/dev/null; then
      kill -TERM "${pid}" 2>/dev/null
      for _ in $(seq 1 50); do kill -0 "${pid}" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "${pid}" 2>/dev/null
    fi
    local mc="${MC_PORT[${region}]:-}"
    if [[ -n "${mc}" ]]; then
      local mcpid; mcpid="$(cat "${WORK}/mc/memcached-${mc}.pid" 2>/dev/null)"
      [[ -n "${mcpid}" ]] && kill -CONT "${mcpid}" 2>/dev/null
      "${SERVERS}/memcached.sh" stop "${WORK}/mc" "${mc}" >/dev/null 2>&1
    fi
  done
  [[ -d "${WORK}/kafka" ]] && "${SERVERS}/kafka.sh" stop "${WORK}/kafka" >/dev/null 2>&1
  if (( rc != 0 )); then
    echo "demo failed (exit ${rc}); last wald log lines:" >&2
    for region in "${REGIONS[@]}"; do tail -n 5 "${WORK}/${region}/wald.log" 2>/dev/null | sed "s/^/  [${region}] /" >&2; done
  fi
  rm -rf "${WORK}"
  exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Prints memcached's value for key $2 on port $1, "-" when absent, "(unreachable)"
# when the server does not answer within 0.5 s. Plain bash /dev/tcp.
mc_get() {
  local port=$1 key=$2 fd line value="" ended=0
  if ! exec {fd}<>"/dev/tcp/127.0.0.1/${port}"; then echo "(unreachable)"; return 0; fi 2>/dev/null
  printf 'get %s\r\n' "${key}" >&"${fd}"
  while IFS= read -r -t 0.5 line <&"${fd}"; do
    line=${line%$'\r'}
    case "${line}" in
      END) ended=1; break ;;
      VALUE*) IFS= read -r -t 0.5 value <&"${fd}"; value=${value%$'\r'} ;;
    esac
  done
  exec {fd}>&-
  if (( ended )); then echo "${value:--}"; else echo "(unreachable)"; fi
}

show() {  # key...
  printf '  %-10s' "key"
  for region in "${REGIONS[@]}"; do printf ' %-22s' "${region}"; done
  echo
  for key in "$@"; do
    printf '  %-10s' "${key}"
    for region in "${REGIONS[@]}"; do printf ' %-22s' "$(mc_get "${MC_PORT[${region}]}" "${key}")"; done
    echo
  done
}

# Waits until every region in $3.. shows value $2 for key $1 ("-" = absent), bounded.
wait_for() {
  local key=$1 want=$2; shift 2
  local deadline=$(( SECONDS + ${WAIT:-15} ))
  while (( SECONDS < deadline )) && ! over_budget; do
    local all=1
    for region in "$@"; do
      [[ "$(mc_get "${MC_PORT[${region}]}" "${key}")" == "${want}" ]] || { all=0; break; }
    done
    (( all )) && return 0
    sleep 0.1
  done
  return 1
}

walctl() { local region=$1; shift; "${WALCTL}" --server "${GRPC[${region}]}" "$@"; }

write() {  # region op key [value]
  local region=$1 op=$2 key=$3 value=${4:-}
  local t0=$(date +%s%N)
  if [[ "${op}" == put ]]; then
    walctl "${region}" write "${NS}" --op put --key "${key}" "${value}" >/dev/null
  else
    walctl "${region}" write "${NS}" --op delete --key "${key}" >/dev/null
  fi
  echo "  ${op} ${key}${value:+=${value}} via ${region}: durable in Kafka after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
}

echo "== starting one Kafka broker, three memcached (one per region), three wald (work dir ${WORK})"
KAFKA_PORT="$(free_port)"
"${SERVERS}/kafka.sh" start "${WORK}/kafka" "${KAFKA_PORT}" | sed 's/^/  /'
TOPIC="demo_evcache_${RANDOM}"
for region in "${REGIONS[@]}"; do
  MC_PORT[${region}]="$(free_port)"
  "${SERVERS}/memcached.sh" start "${WORK}/mc" "${MC_PORT[${region}]}"
  echo "  memcached for ${region} on 127.0.0.1:${MC_PORT[${region}]}"
done

# The one namespace file every region runs (config/examples/cross-region-replication/
# evcache-replication.yaml with this demo's ports).
cat > "${WORK}/${NS}.yaml" <<YAML
name: ${NS}
backend:
  type: kafka
  kafka:
    bootstrap_servers: 127.0.0.1:${KAFKA_PORT}
    wal-kafka-topics: [${TOPIC}]
    consumer_group: wal-evcache-replication   # each region consumes in wal-evcache-replication.<region>
    properties:
      producer.linger.ms: "1"
backoff: {initial: 100ms, multiplier: 2.0, max: 1s}
max_retries: 1000               # a region may be down for a while: keep retrying, never DLQ
target:
  type: replication
  skip_local_region: false      # the demo writes only through the WAL, so the writing region is applied too
  timeout: 300ms
  regions:
    us-east-1: {servers: ["127.0.0.1:${MC_PORT[us-east-1]}"]}
    us-west-2: {servers: ["127.0.0.1:${MC_PORT[us-west-2]}"]}
    eu-west-1: {servers: ["127.0.0.1:${MC_PORT[eu-west-1]}"]}
consumer: {concurrency: 4, poll_interval: 10ms, max_entries_per_poll: 200}
YAML

for region in "${REGIONS[@]}"; do
  mkdir -p "${WORK}/${region}/namespaces" "${WORK}/${region}/data"
  cp "${WORK}/${NS}.yaml" "${WORK}/${region}/namespaces/"
  GRPC[${region}]="127.0.0.1:$(free_port)"
  http="127.0.0.1:$(free_port)"
  "${WALD}" --region "${region}" --data-dir "${WORK}/${region}/data" --namespaces "${WORK}/${region}/namespaces" \
    --grpc-listen "${GRPC[${region}]}" --http-listen "${http}" --log-level info \
    >"${WORK}/${region}/wald.log" 2>&1 &
  WALD_PID[${region}]=$!
done
for region in "${REGIONS[@]}"; do
  for _ in $(seq 1 150); do
    walctl "${region}" --timeout 1s status >/dev/null 2>&1 && break
    kill -0 "${WALD_PID[${region}]}" 2>/dev/null || { echo "wald ${region} exited" >&2; exit 1; }
    sleep 0.2
  done
  walctl "${region}" --timeout 1s status >/dev/null
  group="$(grep -o 'kafka group [^)]*' "${WORK}/${region}/wald.log" | head -1 || true)"
  echo "  wald --region ${region} on ${GRPC[${region}]} (${group:-consumer group pending})"
done
echo "  ready after $(elapsed) s"

echo
echo "== 1. a write in us-east-1 shows up in every region"
write us-east-1 put user:1 alice@us-east-1
wait_for user:1 alice@us-east-1 "${REGIONS[@]}" || echo "  (not everywhere yet)"
show user:1

echo
echo "== 2. a write in eu-west-1, an overwrite in us-west-2"
write eu-west-1 put user:2 bob@eu-west-1
write us-west-2 put user:1 alice-v2@us-west-2
wait_for user:2 bob@eu-west-1 "${REGIONS[@]}" || echo "  (user:2 not everywhere yet)"
wait_for user:1 alice-v2@us-west-2 "${REGIONS[@]}" || echo "  (user:1 v2 not everywhere yet)"
show user:1 user:2

echo
echo "== 3. a delete in us-west-2 removes the key in every region"
write us-west-2 delete user:1
wait_for user:1 - "${REGIONS[@]}" || echo "  (not gone everywhere yet)"
show user:1 user:2

echo
echo "== 4. eu-west-1's memcached stops answering (SIGSTOP): that region lags, the others do not"
EU_PID="$(cat "${WORK}/mc/memcached-${MC_PORT[eu-west-1]}.pid")"
kill -STOP "${EU_PID}"
for i in 1 2 3 4 5; do
  walctl us-east-1 write "${NS}" --op put --key "order:${i}" "order-${i}@us-east-1" >/dev/null
done
walctl us-west-2 write "${NS}" --op delete --key user:2 >/dev/null
echo "  wrote order:1..5 via us-east-1 and deleted user:2 via us-west-2"
wait_for order:5 order-5@us-east-1 us-east-1 us-west-2 || echo "  (healthy regions not caught up yet)"
wait_for user:2 - us-east-1 us-west-2 || true
sleep 2.5  # a few failed attempts; Kafka namespace stats are refreshed every 2 s
show order:1 order:5 user:2
echo "  eu-west-1's consumer (group wal-evcache-replication.eu-west-1) has them pending:"
walctl eu-west-1 status | sed 's/^/    /'

echo
echo "== 5. eu-west-1's memcached answers again (SIGCONT): it catches up, nothing lost"
t0=${SECONDS}
kill -CONT "${EU_PID}"
WAIT=30 wait_for order:5 order-5@us-east-1 eu-west-1 && WAIT=10 wait_for user:2 - eu-west-1 \
  && echo "  eu-west-1 caught up within $(( SECONDS - t0 + 1 )) s" || echo "  eu-west-1 did not catch up in time"
show order:1 order:2 order:3 order:4 order:5 user:2
sleep 2.5  # Kafka namespace stats are refreshed every 2 s
walctl eu-west-1 status | sed 's/^/    /'

echo
echo "== done in $(elapsed) s; stopping everything"
