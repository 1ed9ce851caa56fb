#!/usr/bin/env bash
# ElasticMQ (an SQS-compatible server on the JVM) for the SQS backend's integration tests.
#
#   elasticmq.sh fetch               resolve the server from Maven Central (idempotent; cached
#                                    in ~/.m2 and $WAL_ELASTICMQ_CACHE)
#   elasticmq.sh start DIR PORT      start on 127.0.0.1:PORT with state under DIR (conf, log,
#                                    pidfile, H2 message store); waits until it answers
#   elasticmq.sh stop DIR [PORT]     stop the server started in DIR (SIGTERM, then SIGKILL)
#   elasticmq.sh kill DIR [PORT]     SIGKILL it (crash simulation)
#
# No queues are pre-created: tests create them. Messages and queue metadata are persisted
# (messages-storage in an H2 file, queues-storage in a conf file) so a restart on the same
# DIR keeps them.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VERSION="1.6.11"
CACHE="${WAL_ELASTICMQ_CACHE:-$HOME/.cache/wal/elasticmq-$VERSION}"
JAVA="${JAVA:-java}"
START_TIMEOUT_SECS="${ELASTICMQ_START_TIMEOUT:-90}"

die() { echo "elasticmq.sh: $*" >&2; exit 1; }

fetch() {
  if [[ -f "$CACHE/.complete" ]]; then return 0; fi
  command -v mvn >/dev/null || die "mvn not found (install maven)"
  mkdir -p "$CACHE"
  mvn -q -B -f "$HERE/elasticmq/pom.xml" \
    org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$CACHE" >&2 \
    || die "could not resolve org.elasticmq:elasticmq-server_2.13:$VERSION from Maven Central"
  ls "$CACHE"/elasticmq-server_2.13-*.jar >/dev/null 2>&1 || die "server jar missing in $CACHE"
  touch "$CACHE/.complete"
}

ready() {  # any HTTP answer from the SQS endpoint means it is up
  curl -s -o /dev/null --max-time 2 -X POST \
    -H 'Content-Type: application/x-amz-json-1.0' -H 'X-Amz-Target: AmazonSQS.ListQueues' \
    --data '{}' "http://127.0.0.1:$1/"
}

start() {
  local dir="$1" port="$2"
  [[ -n "$dir" && -n "$port" ]] || die "usage: start DIR PORT"
  fetch
  mkdir -p "$dir/data"
  dir="$(cd "$dir" && pwd)"
  if [[ -f "$dir/elasticmq.pid" ]] && kill -0 "$(cat "$dir/elasticmq.pid")" 2>/dev/null; then
    die "already running in $dir (pid $(cat "$dir/elasticmq.pid"))"
  fi
  [[ -f "$dir/data/queues.conf" ]] || : > "$dir/data/queues.conf"
  cat > "$dir/elasticmq.conf" <<CONF
include classpath("application.conf")
node-address {
  protocol = http
  host = "127.0.0.1"
  port = $port
  context-path = ""
}
rest-sqs {
  enabled = true
  bind-port = $port
  bind-hostname = "127.0.0.1"
  sqs-limits = strict
}
rest-stats {
  enabled = false
}
generate-node-address = false
queues {}
queues-storage {
  enabled = true
  path = "$dir/data/queues.conf"
}
messages-storage {
  enabled = true
  uri = "jdbc:h2:file:$dir/data/elasticmq-h2;WRITE_DELAY=0"
}
CONF
  # setsid: the server gets its own process group, so stop/kill reach only it.
  setsid "$JAVA" -Xmx256m -XX:+UseSerialGC -Dconfig.file="$dir/elasticmq.conf" \
    -cp "$CACHE/*" org.elasticmq.server.Main >"$dir/elasticmq.log" 2>&1 < /dev/null &
  echo $! > "$dir/elasticmq.pid"
  local pid; pid="$(cat "$dir/elasticmq.pid")"
  local deadline=$((SECONDS + START_TIMEOUT_SECS))
  while (( SECONDS < deadline )); do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 30 "$dir/elasticmq.log" >&2 || true
      die "server exited during start-up (log: $dir/elasticmq.log)"
    fi
    if ready "$port"; then echo "elasticmq $VERSION on 127.0.0.1:$port (pid $pid)"; return 0; fi
    sleep 0.2
  done
  kill -KILL "$pid" 2>/dev/null || true
  die "not ready on port $port after ${START_TIMEOUT_SECS}s (log: $dir/elasticmq.log)"
}

stop() {
  local dir="$1" signal="${2:-TERM}"
  [[ -f "$dir/elasticmq.pid" ]] || return 0
  local pid; pid="$(cat "$dir/elasticmq.pid")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "-$signal" "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$dir/elasticmq.pid"
}

case "${1:-}" in
  fetch) fetch ;;
  start) start "${2:-}" "${3:-}" ;;
  stop)  stop "${2:?usage: stop DIR}" TERM ;;
  kill)  stop "${2:?usage: kill DIR}" KILL ;;
  *) die "usage: $0 fetch | start DIR PORT | stop DIR | kill DIR" ;;
esac
