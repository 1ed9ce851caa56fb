# Helpers shared by the benchmark sections (sourced, not run).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
json_field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }
ratio() { python3 -c "print(f'{float($1)/float($2):.2f}x')"; }
# Progress goes to stderr; stdout is the section's Markdown.
log() { echo "$@" >&2; }
# Processes a section starts are killed when it exits, however it exits.
tracked_pids=()
track_pid() { tracked_pids+=("$1"); }
kill_tracked() { for pid in "${tracked_pids[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap kill_tracked EXIT
# Starts wald on the embedded default with the namespace files in $2/namespaces; sets wald_grpc/wald_http.
# Extra arguments go to wald (e.g. --role producer).
start_wald() {
  local build_dir="$1" root="$2"
  shift 2
  wald_grpc=$(free_port); wald_http=$(free_port)
  "$build_dir/src/wald/wald" --data-dir "$root/data" --namespaces "$root/namespaces" \
    --grpc-listen "127.0.0.1:$wald_grpc" --http-listen "127.0.0.1:$wald_http" --log-level warn "$@" &
  wald_pid=$!; track_pid "$wald_pid"
  for _ in $(seq 200); do curl -sf "http://127.0.0.1:$wald_http/healthz" >/dev/null && return 0; sleep 0.1; done
  log "wald did not start"; return 1
}
