#!/usr/bin/env bash
# A real single-node Apache Cassandra for tests, on loopback.
#
#   cassandra.sh fetch                resolve cassandra-all and its jars from Maven Central
#                                     into the cache (idempotent; ~/.m2 caches downloads)
#   cassandra.sh start DIR PORT [auth]
#                                     start a node whose native (CQL) port is 127.0.0.1:PORT,
#                                     data in DIR (kept across restarts; the storage port is a
#                                     free port remembered in DIR); returns once the native
#                                     port answers. With `auth`: PasswordAuthenticator and
#                                     CassandraAuthorizer, superuser cassandra/cassandra (the
#                                     script waits until that role exists). The native port
#                                     takes plain and TLS clients; the node's self-signed
#                                     certificate (its own CA) is DIR/tls/node.pem.
#   cassandra.sh stop DIR             SIGTERM via DIR/cassandra.pid, SIGKILL after ~5 s
#   cassandra.sh kill DIR             SIGKILL via DIR/cassandra.pid (crash tests)
#   cassandra.sh libs                 print the jar directory
#   cassandra.sh pydriver             create (once) a venv with the pinned Python
#                                     cassandra-driver and print its python path
#
# Environment: WAL_CASSANDRA_VERSION (default 5.0.4), WAL_CASSANDRA_HOME (default
# ~/.cache/wal/cassandra-<version>), JAVA_HOME (Java 17), WAL_CASSANDRA_START_TIMEOUT
# (s, 90), WAL_CASSANDRA_HEAP (default 512m), WAL_VENV (default ~/.cache/wal/venv).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "${HERE}/common.sh"
VERSION="${WAL_CASSANDRA_VERSION:-5.0.4}"
CASSANDRA_HOME="${WAL_CASSANDRA_HOME:-${HOME}/.cache/wal/cassandra-${VERSION}}"
LIBS="${CASSANDRA_HOME}/libs"
JAVA="${JAVA_HOME:+${JAVA_HOME}/bin/}java"
START_TIMEOUT="${WAL_CASSANDRA_START_TIMEOUT:-90}"
HEAP="${WAL_CASSANDRA_HEAP:-512m}"
VENV="${WAL_VENV:-${HOME}/.cache/wal/venv}"
PYDRIVER_VERSION="3.29.2"
KEYSTORE_PASSWORD="wal-test-keystore"

die() { echo "cassandra.sh: $*" >&2; exit 1; }

fetch() {
  maven_fetch "${HERE}/cassandra/pom.xml" "${LIBS}" "${VERSION}" -Dcassandra.version="${VERSION}" \
    || die "maven could not resolve cassandra-all:${VERSION}"
}

pydriver() {
  if [[ -x "${VENV}/bin/python" ]] && "${VENV}/bin/python" -c \
      "import cassandra, sys; sys.exit(cassandra.__version__ != '${PYDRIVER_VERSION}')" 2>/dev/null; then
    echo "${VENV}/bin/python"; return 0
  fi
  command -v python3 >/dev/null || die "python3 not found"
  python3 -m venv "${VENV}" >&2 || die "could not create the venv ${VENV}"
  "${VENV}/bin/pip" install -q "cassandra-driver==${PYDRIVER_VERSION}" >&2 \
    || die "pip could not install cassandra-driver==${PYDRIVER_VERSION}"
  echo "${VENV}/bin/python"
}

pid_alive() {  # dir; kill -0 only: right after the launch the process may not be named java yet
  [[ -f "$1/cassandra.pid" ]] && kill -0 "$(cat "$1/cassandra.pid")" 2>/dev/null
}

# A self-signed certificate for 127.0.0.1/localhost, made once per DIR, in PEM (for
# clients) and PKCS#12 (the node's keystore).
make_tls() {  # dir
  local tls="$1/tls"
  [[ -f "${tls}/node.p12" ]] && return 0
  command -v openssl >/dev/null || die "openssl not found"
  mkdir -p "${tls}"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "${tls}/node.key" -out "${tls}/node.pem" >/dev/null 2>&1 || die "openssl req failed"
  openssl pkcs12 -export -in "${tls}/node.pem" -inkey "${tls}/node.key" -name node \
    -passout "pass:${KEYSTORE_PASSWORD}" -out "${tls}/node.p12" || die "openssl pkcs12 failed"
}

# The JPMS flags of Cassandra's conf/jvm17-server.options, which Cassandra needs on Java 17.
JPMS=(
  -Djdk.attach.allowAttachSelf=true
  --add-exports java.base/jdk.internal.misc=ALL-UNNAMED
  --add-exports java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED
  --add-exports java.rmi/sun.rmi.registry=ALL-UNNAMED
  --add-exports java.rmi/sun.rmi.server=ALL-UNNAMED
  --add-exports java.sql/java.sql=ALL-UNNAMED
  --add-exports java.base/java.lang.ref=ALL-UNNAMED
  --add-exports jdk.unsupported/sun.misc=ALL-UNNAMED
  --add-exports jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
  --add-exports jdk.attach/sun.tools.attach=ALL-UNNAMED
  --add-opens java.base/java.lang.module=ALL-UNNAMED
  --add-opens java.base/jdk.internal.loader=ALL-UNNAMED
  --add-opens java.base/jdk.internal.ref=ALL-UNNAMED
  --add-opens java.base/jdk.internal.reflect=ALL-UNNAMED
  --add-opens java.base/jdk.internal.math=ALL-UNNAMED
  --add-opens java.base/jdk.internal.module=ALL-UNNAMED
  --add-opens java.base/jdk.internal.util.jar=ALL-UNNAMED
  --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED
  --add-opens java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens java.base/java.io=ALL-UNNAMED
  --add-opens java.base/java.lang.reflect=ALL-UNNAMED
  --add-opens jdk.compiler/com.sun.tools.javac=ALL-UNNAMED
  --add-opens java.base/java.lang=ALL-UNNAMED
  --add-opens java.base/java.util=ALL-UNNAMED
  -Dio.netty.tryReflectionSetAccessible=true
  -Dio.netty.allocator.useCacheForAllThreads=true
  -Dio.netty.allocator.maxOrder=11
)

start() {
  local dir="$1" port="$2" mode="${3:-}"
  [[ -n "${dir}" && -n "${port}" ]] || die "usage: cassandra.sh start DIR PORT [auth]"
  [[ -z "${mode}" || "${mode}" == auth ]] || die "unknown start option '${mode}' (expected: auth)"
  [[ -f "${LIBS}/.complete-${VERSION}" ]] || fetch
  mkdir -p "${dir}"
  dir="$(cd "${dir}" && pwd)"
  if live_pid "${dir}/cassandra.pid" java >/dev/null; then die "a node already runs from ${dir} (pid $(cat "${dir}/cassandra.pid"))"; fi
  if port_open 127.0.0.1 "${port}"; then die "port ${port} is already in use"; fi
  local sport
  if [[ -f "${dir}/storage.port" ]]; then sport="$(cat "${dir}/storage.port")"; else sport="$(free_port)" || die "no free port for the storage port"; fi
  echo "${sport}" > "${dir}/storage.port"
  make_tls "${dir}"

  local authenticator=AllowAllAuthenticator authorizer=AllowAllAuthorizer
  if [[ "${mode}" == auth ]]; then authenticator=PasswordAuthenticator; authorizer=CassandraAuthorizer; fi
  sed -e "s|@DIR@|${dir}|g" -e "s|@PORT@|${port}|g" -e "s|@SPORT@|${sport}|g" \
      -e "s|@AUTHENTICATOR@|${authenticator}|g" -e "s|@AUTHORIZER@|${authorizer}|g" \
      -e "s|@KEYSTORE_PASSWORD@|${KEYSTORE_PASSWORD}|g" \
    "${HERE}/cassandra/cassandra.yaml.template" > "${dir}/cassandra.yaml"

  # C1 only: a test node lives for minutes, and C2 compiling at start costs seconds on
  # a small machine.
  local jvm=(-Xms"${HEAP}" -Xmx"${HEAP}" -XX:+UseG1GC -XX:TieredStopAtLevel=1 -XX:-UsePerfData
             -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true "${JPMS[@]}"
             -javaagent:"$(ls "${LIBS}"/jamm-*.jar | head -n1)"
             -Dcassandra.config="file://${dir}/cassandra.yaml"
             -Dcassandra.storagedir="${dir}"
             -Dcassandra.logdir="${dir}"
             -Dlogback.configurationFile="${HERE}/cassandra/logback.xml"
             # A one-node test cluster has no gossip to wait for, and the auth tests
             # want the default superuser at once rather than after 10 s.
             -Dcassandra.skip_wait_for_gossip_to_settle=0
             -Dcassandra.ring_delay_ms=0
             -Dcassandra.superuser_setup_delay_ms=0
             -Dcassandra.native_transport_startup_delay_seconds=0
             # Not -Dcassandra.unsafesystem: it would start faster, but it skips the
             # flush after each schema change, so a node killed with -9 comes back
             # without the keyspaces created since (the crash tests need them).
             -Dcassandra.skip_paxos_state_rebuild=true
             -cp "${LIBS}/*")

  echo "=== cassandra.sh start $(date -Is)" >> "${dir}/system.log"
  setsid nohup "${JAVA}" "${jvm[@]}" org.apache.cassandra.service.CassandraDaemon \
    >"${dir}/stdout.log" 2>&1 < /dev/null &
  echo $! > "${dir}/cassandra.pid"

  local deadline=$(( SECONDS + START_TIMEOUT ))
  while (( SECONDS < deadline )); do
    if ! pid_alive "${dir}"; then
      tail -n 40 "${dir}/stdout.log" "${dir}/system.log" >&2 || true
      die "node exited during start"
    fi
    # The default superuser is created once per data directory (whatever the
    # authenticator), shortly after start; system.log is appended across starts, so
    # the line is found on a restart too.
    if port_open 127.0.0.1 "${port}" &&
       { [[ "${mode}" != auth ]] || grep -q "Created default superuser role" "${dir}/system.log" 2>/dev/null; }; then
      echo "cassandra ${VERSION} listening on 127.0.0.1:${port} (pid $(cat "${dir}/cassandra.pid"), dir ${dir}${mode:+, ${mode}})"
      return 0
    fi
    sleep 0.2
  done
  tail -n 40 "${dir}/system.log" >&2 || true
  stop "${dir}" || true
  die "node did not start within ${START_TIMEOUT}s"
}

stop() {
  local dir="$1"
  [[ -n "${dir}" ]] || die "usage: cassandra.sh stop DIR"
  stop_by_pidfile "${dir}/cassandra.pid" java
}

kill_node() {  # SIGKILL, for crash tests; returns once the JVM is gone
  local dir="$1" pid
  [[ -n "${dir}" ]] || die "usage: cassandra.sh kill DIR"
  if pid=$(live_pid "${dir}/cassandra.pid" java); then
    kill -KILL "${pid}" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "${pid}" 2>/dev/null || break; sleep 0.05; done
  fi
  rm -f "${dir}/cassandra.pid"
}

cmd="${1:-}"; shift || true
case "${cmd}" in
  fetch) fetch ;;
  libs) echo "${LIBS}" ;;
  pydriver) pydriver ;;
  start) start "${1:-}" "${2:-}" "${3:-}" ;;
  stop) stop "${1:-}" ;;
  kill) kill_node "${1:-}" ;;
  *) die "usage: cassandra.sh fetch | start DIR PORT [auth] | stop DIR | kill DIR | libs | pydriver" ;;
esac
