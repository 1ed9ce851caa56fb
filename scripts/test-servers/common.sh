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

# Succeeds when something accepts TCP connections on host $1 port $2.
port_open() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# Prints a loopback TCP port nothing listens on right now.
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$(( 20000 + RANDOM % 40000 ))
    if ! port_open 127.0.0.1 "$p"; then echo "$p"; return 0; fi
  done
  echo "no free port found" >&2
  return 1
}

# Copies the runtime dependencies of pom $1 into directory $2 (replaced only when
# the copy is complete, marked by $2/.complete-$3); further arguments go to mvn
# (e.g. -Dversion properties). Offline first (everything already in ~/.m2), then
# online. Idempotent.
maven_fetch() {
  local pom=$1 out=$2 tag=$3; shift 3
  [[ -f "$out/.complete-$tag" ]] && return 0
  command -v mvn >/dev/null || { echo "mvn not found (apt-get install maven)" >&2; return 1; }
  local tmp="$out.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  local args=(-q -B -f "$pom" "$@" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp")
  if ! mvn -o "${args[@]}" >/dev/null 2>&1; then
    mvn "${args[@]}" || { rm -rf "$tmp"; return 1; }
  fi
  touch "$tmp/.complete-$tag"
  rm -rf "$out"
  mv "$tmp" "$out"
}
