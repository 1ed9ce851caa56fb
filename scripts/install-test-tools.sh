#!/usr/bin/env bash
# Installs test-only tools that Debian does not package: grpcurl (to show that
# server reflection works with no .proto file) from the Go module proxy, and the
# Kafka, ElasticMQ and Cassandra servers from Maven Central, and the Python
# cassandra-driver from PyPI. Idempotent and cached.
set -euo pipefail
export PATH="$HOME/go/bin:$PATH"
root="$(cd "$(dirname "$0")/.." && pwd)"
if ! command -v grpcurl >/dev/null 2>&1; then
  echo "install-test-tools: installing grpcurl"
  GOFLAGS=-mod=mod go install github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.1
fi
# The brokers the integration tests run, from Maven Central (cached in ~/.m2 and ~/.cache/wal).
for server in elasticmq kafka cassandra; do
  if [ -x "$root/scripts/test-servers/$server.sh" ]; then
    bash "$root/scripts/test-servers/$server.sh" fetch
  fi
done
# The Python cassandra-driver (pinned, from PyPI, in ~/.cache/wal/venv) that reads back what the CQL client wrote.
bash "$root/scripts/test-servers/cassandra.sh" pydriver >/dev/null
