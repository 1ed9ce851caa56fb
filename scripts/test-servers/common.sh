# Helpers shared by the test-server scripts; sourced, not run.

# Prints the pid in pidfile $1 if that process is alive and its command name
# contains $2 (so a stale pidfile whose pid was reused is not trusted).
live_pid() {
  local pidfile=$1 name=$2 pid
  [ -s "$pidfile" ] || return 1
  pid=$(cat "$pidfile")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  grep -q "$name" "/proc/$pid/comm" 2>/dev/null || return 1
  echo "$pid"
}

# Stops the process named in pidfile $1 (command name $2): SIGTERM, then
# SIGKILL after ~5 s. Succeeds when nothing is running (idempotent).
stop_by_pidfile() {
  local pidfile=$1 name=$2 pid
  if ! pid=$(live_pid "$pidfile" "$name"); then
    rm -f "$pidfile"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; return 0; }
    sleep 0.1
  done
  echo "$name (pid $pid) ignored SIGTERM; sending SIGKILL" >&2
  kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 1 20); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  rm -f "$pidfile"
}

usage_and_exit() {
  echo "usage: $0 start|stop DIR PORT" >&2
  exit 2
}
