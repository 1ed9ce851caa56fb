#!/usr/bin/env bash
# Installs test-only tools that Debian does not package. grpcurl (used to show
# that server reflection works with no .proto file) comes from the Go module proxy.
set -euo pipefail
export PATH="$HOME/go/bin:$PATH"
if command -v grpcurl >/dev/null 2>&1; then exit 0; fi
if ! command -v go >/dev/null 2>&1; then
  echo "install-test-tools: Go is not installed; installing golang-go" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go >/dev/null
fi
echo "install-test-tools: installing grpcurl"
GOFLAGS=-mod=mod go install github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.1
