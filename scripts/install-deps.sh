#!/usr/bin/env bash
# Installs every Debian package wal needs to build, test and benchmark.
# Idempotent: it only calls apt-get when a package is missing, so `make run`
# and `make test` can both call it first on every invocation.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ccache
  protobuf-compiler libprotobuf-dev protobuf-compiler-grpc libgrpc++-dev libgrpc-dev
  libyaml-cpp-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev
  libsqlite3-dev libgtest-dev libgmock-dev libbenchmark-dev libcpp-httplib-dev
  librdkafka-dev libmemcached-dev libhiredis-dev libpq-dev libcurl4-openssl-dev libssl-dev
  golang-github-gogo-googleapis-dev
  redis-server redis-tools memcached postgresql sqlite3 curl python3 python3-venv openssl
  clang libclang-rt-14-dev libfuzzer-14-dev
  wrk
  openjdk-17-jre-headless maven
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The Debian packages enable and start their daemons; tests start their own on
# loopback ports, so the system-wide ones are stopped to free the default ports.
for service in redis-server memcached postgresql; do
  $SUDO service "$service" stop >/dev/null 2>&1 || true
done
