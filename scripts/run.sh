#!/usr/bin/env bash
# What `make run` runs after the build: seeds the run directory with the
# personas' embedded samples, starts on loopback the caches two of them deliver
# to (memcached on 11211-11213 for the replication sample's regions, Redis on
# 6379 for the mutation sample's cache target) unless something already
# listens there, then runs wald in the foreground. The caches stop with it.
#   scripts/run.sh BUILD_DIR RUN_DIR [wald arguments...]
set -euo pipefail
build_dir="$1"; run_dir="$2"; shift 2
bash scripts/prepare-run-dir.sh "$run_dir"

cache_pids=()
stop_caches() {
  for pid in "${cache_pids[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
}
trap stop_caches EXIT
trap 'exit 130' INT TERM
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

for port in 11211 11212 11213; do
  if listening "$port"; then
    echo "run: port $port is taken; the samples will use what listens there" >&2
  else
    memcached -l 127.0.0.1 -p "$port" -U 0 -m 64 -u "$(id -un)" &
    cache_pids+=($!)
  fi
done
if listening 6379; then
  echo "run: port 6379 is taken; the samples will use what listens there" >&2
else
  redis-server --bind 127.0.0.1 --port 6379 --save '' --appendonly no --dir "$run_dir" \
    --logfile "$run_dir/redis.log" --daemonize no &
  cache_pids+=($!)
fi

"$build_dir/src/wald/wald" --config config/examples/server.yaml --data-dir "$run_dir" \
  --namespaces "$run_dir/namespaces" "$@" &
wald_pid=$!
# wald gets the signal and shuts down gracefully; the caches stop after it.
trap 'kill -TERM "$wald_pid" 2>/dev/null || true' INT TERM
wait "$wald_pid" || status=$?
trap - INT TERM
exit "${status:-0}"
