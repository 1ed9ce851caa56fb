#!/usr/bin/env bash
# Seeds a run directory with the embedded-backed sample namespaces of the three
# personas, once. Later admin changes are saved there, so they are never
# overwritten here.
set -euo pipefail
run_dir="${1:-data}"
mkdir -p "$run_dir/namespaces"
if [ -z "$(ls -A "$run_dir/namespaces")" ]; then
  cp config/examples/delayed-queue/delayed-deletes.yaml \
     config/examples/cross-region-replication/evcache-replication-local.yaml \
     config/examples/multi-partition-mutations/kv-mutations-local.yaml \
     "$run_dir/namespaces/"
  echo "prepare-run-dir: seeded $run_dir/namespaces with the personas' embedded samples"
fi
