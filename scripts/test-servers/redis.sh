#!/usr/bin/env bash
# Starts or stops a throwaway redis-server for tests, on 127.0.0.1 only, with
# no persistence. Its pidfile, log and working files live in DIR.
#
#   redis.sh start DIR PORT   # returns once the server answers PING
#   redis.sh stop DIR PORT    # no-op when it is not running
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[ $# -eq 3 ] || usage_and_exit
command=$1 dir=$2 port=$3
[[ "$port" =~ ^[0-9]+$ ]] || usage_and_exit
pidfile="$dir/redis-$port.pid"
logfile="$dir/redis-$port.log"

case "$command" in
  start)
    mkdir -p "$dir"
    if pid=$(live_pid "$pidfile" redis-server); then
      echo "redis-server already running on port $port (pid $pid)"
      exit 0
    fi
    # save "" and appendonly no: test data must not outlive the test.
    redis-server --bind 127.0.0.1 --port "$port" --daemonize yes \
      --pidfile "$pidfile" --logfile "$logfile" --dir "$dir" \
      --save "" --appendonly no --protected-mode yes
    for _ in $(seq 1 100); do
      if [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = "PONG" ]; then
        exit 0
      fi
      sleep 0.1
    done
    echo "redis-server on port $port did not answer PING within 10 s; log tail:" >&2
    tail -n 20 "$logfile" >&2 || true
    stop_by_pidfile "$pidfile" redis-server
    exit 1
    ;;
  stop)
    stop_by_pidfile "$pidfile" redis-server
    ;;
  *)
    usage_and_exit
    ;;
esac
