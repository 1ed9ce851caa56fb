#!/usr/bin/env bash
# Starts or stops a throwaway memcached for tests, on 127.0.0.1 only (TCP, no
# UDP), with the default 1 MiB item limit. Its pidfile lives in DIR.
#
#   memcached.sh start DIR PORT   # returns once the server answers "version"
#   memcached.sh stop DIR PORT    # no-op when it is not running
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[ $# -eq 3 ] || usage_and_exit
command=$1 dir=$2 port=$3
[[ "$port" =~ ^[0-9]+$ ]] || usage_and_exit
pidfile="$dir/memcached-$port.pid"

# Answers when a "version" request gets a "VERSION ..." reply.
memcached_ready() {
  local reply
  reply=$(timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port && printf 'version\r\n' >&3 && head -c 8 <&3" \
    2>/dev/null) || return 1
  [ "$reply" = "VERSION " ]
}

case "$command" in
  start)
    mkdir -p "$dir"
    if pid=$(live_pid "$pidfile" memcached); then
      echo "memcached already running on port $port (pid $pid)"
      exit 0
    fi
    user_flag=()
    # memcached refuses to run as root unless told which user to be.
    if [ "$(id -u)" -eq 0 ]; then user_flag=(-u root); fi
    memcached -d -l 127.0.0.1 -p "$port" -U 0 -m 64 -I 1m -P "$pidfile" "${user_flag[@]}"
    for _ in $(seq 1 100); do
      if memcached_ready && live_pid "$pidfile" memcached >/dev/null; then
        exit 0
      fi
      sleep 0.1
    done
    echo "memcached on port $port did not answer within 10 s" >&2
    stop_by_pidfile "$pidfile" memcached
    exit 1
    ;;
  stop)
    stop_by_pidfile "$pidfile" memcached
    ;;
  *)
    usage_and_exit
    ;;
esac
