#!/usr/bin/env bash
# Starts or stops a throwaway PostgreSQL 15 for tests, listening on 127.0.0.1
# only, trust authentication, fsync off (test data must not outlive the
# test), with a database `wal` owned by user `wal`. Its cluster, socket dir
# and log live in DIR/pg-PORT.
#
#   postgres.sh start DIR PORT   # returns once `wal` accepts connections
#   postgres.sh stop DIR PORT    # no-op when it is not running
#
# PostgreSQL refuses to run as root: when run as root, the cluster belongs to
# the `postgres` user and the binaries run through runuser.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[ $# -eq 3 ] || usage_and_exit
command=$1 dir=$2 port=$3
[[ "$port" =~ ^[0-9]+$ ]] || usage_and_exit

bin=${PG_BIN:-}
if [ -z "$bin" ]; then
  for candidate in /usr/lib/postgresql/*/bin; do [ -x "$candidate/initdb" ] && bin=$candidate; done
fi
[ -n "$bin" ] && [ -x "$bin/pg_ctl" ] || { echo "postgres.sh: PostgreSQL server binaries not found (set PG_BIN)" >&2; exit 1; }

cluster="$dir/pg-$port"
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$command" in
  start)
    mkdir -p "$cluster"
    if [ "$(id -u)" -eq 0 ]; then
      chown postgres: "$cluster"
      chmod o+x "$dir" 2>/dev/null || true
    fi
    if [ -s "$cluster/data/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$cluster/data" status >/dev/null 2>&1; then
      echo "postgres already running on port $port"
      exit 0
    fi
    if [ ! -s "$cluster/data/PG_VERSION" ]; then
      as_owner "$bin/initdb" -D "$cluster/data" -U postgres --auth=trust -E UTF8 --no-locale >"$cluster/initdb.log" 2>&1 || {
        echo "initdb failed:" >&2; tail -n 20 "$cluster/initdb.log" >&2; exit 1; }
    fi
    as_owner "$bin/pg_ctl" -D "$cluster/data" -l "$cluster/postgres.log" -w -t 30 start \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $cluster -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >/dev/null || {
      echo "postgres on port $port did not start; log tail:" >&2; tail -n 20 "$cluster/postgres.log" >&2; exit 1; }
    for _ in $(seq 1 100); do
      if as_owner "$bin/pg_isready" -h 127.0.0.1 -p "$port" -q; then break; fi
      sleep 0.1
    done
    as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -q \
      -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'wal') THEN CREATE ROLE wal LOGIN SUPERUSER; END IF; END \$\$;" >/dev/null
    if ! as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAq -c "SELECT 1 FROM pg_database WHERE datname = 'wal'" | grep -q 1; then
      as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres -O wal wal
    fi
    ;;
  stop)
    if [ -d "$cluster/data" ]; then
      # fsync and synchronous_commit are off for speed, and the stop below is
      # crash-like; a checkpoint first keeps what was committed, as a real
      # PostgreSQL would across a restart.
      timeout 10 "$bin/psql" -h 127.0.0.1 -p "$port" -U wal -d wal -q -c CHECKPOINT >/dev/null 2>&1 || true
      as_owner "$bin/pg_ctl" -D "$cluster/data" -m immediate -w -t 10 stop >/dev/null 2>&1 || true
    fi
    ;;
  *)
    usage_and_exit
    ;;
esac
