#!/usr/bin/env bash
# A real single-node Apache Kafka broker (KRaft, broker+controller) for tests.
#
#   kafka.sh fetch                 resolve the broker jars from Maven Central into the
#                                  cache (idempotent; ~/.m2 caches the downloads)
#   kafka.sh start DIR PORT [CPORT] format DIR (first time only) and start a broker on
#                                  127.0.0.1:PORT (controller on CPORT, default: a free
#                                  port, remembered in DIR); returns once it answers
#   kafka.sh stop DIR              SIGTERM via DIR/kafka.pid, SIGKILL after a bound
#   kafka.sh kill DIR              SIGKILL via DIR/kafka.pid (crash tests)
#   kafka.sh libs                  print the jar directory
#
# Environment: WAL_KAFKA_VERSION (default 4.1.1), WAL_KAFKA_HOME (default
# ~/.cache/wal/kafka-<version>), JAVA_HOME (Java 17+), WAL_KAFKA_START_TIMEOUT (s, 60).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VERSION="${WAL_KAFKA_VERSION:-4.1.1}"
KAFKA_HOME="${WAL_KAFKA_HOME:-${HOME}/.cache/wal/kafka-${VERSION}}"
LIBS="${KAFKA_HOME}/libs"
JAVA="${JAVA_HOME:+${JAVA_HOME}/bin/}java"
START_TIMEOUT="${WAL_KAFKA_START_TIMEOUT:-60}"

die() { echo "kafka.sh: $*" >&2; exit 1; }

fetch() {
  if [[ -f "${LIBS}/.complete-${VERSION}" ]]; then return 0; fi
  command -v mvn >/dev/null || die "mvn not found (apt-get install maven)"
  local tmp="${LIBS}.tmp.$$"
  rm -rf "${tmp}"
  mkdir -p "${tmp}"
  # Offline first (everything already in ~/.m2), then online.
  local args=(-q -B -f "${HERE}/kafka/pom.xml" -Dkafka.version="${VERSION}"
              dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="${tmp}")
  if ! mvn -o "${args[@]}" >/dev/null 2>&1; then
    mvn "${args[@]}" || { rm -rf "${tmp}"; die "maven could not resolve kafka_2.13:${VERSION}"; }
  fi
  touch "${tmp}/.complete-${VERSION}"
  rm -rf "${LIBS}"
  mv "${tmp}" "${LIBS}"
}

port_open() {  # host port
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$(( 20000 + RANDOM % 40000 ))
    if ! port_open 127.0.0.1 "${p}"; then echo "${p}"; return 0; fi
  done
  die "no free port found"
}

pid_alive() {  # dir
  [[ -f "$1/kafka.pid" ]] && kill -0 "$(cat "$1/kafka.pid")" 2>/dev/null
}

start() {
  local dir="$1" port="$2" cport="${3:-}"
  [[ -n "${dir}" && -n "${port}" ]] || die "usage: kafka.sh start DIR PORT [CPORT]"
  [[ -f "${LIBS}/.complete-${VERSION}" ]] || fetch
  mkdir -p "${dir}"
  dir="$(cd "${dir}" && pwd)"
  if pid_alive "${dir}"; then die "a broker already runs from ${dir} (pid $(cat "${dir}/kafka.pid"))"; fi
  if port_open 127.0.0.1 "${port}"; then die "port ${port} is already in use"; fi
  if [[ -z "${cport}" ]]; then
    if [[ -f "${dir}/controller.port" ]]; then cport="$(cat "${dir}/controller.port")"; else cport="$(free_port)"; fi
  fi
  echo "${cport}" > "${dir}/controller.port"

  sed -e "s|@DIR@|${dir}|g" -e "s|@PORT@|${port}|g" -e "s|@CPORT@|${cport}|g" \
    "${HERE}/kafka/server.properties.template" > "${dir}/server.properties"
  cat > "${dir}/log4j2.properties" <<L4J
status = error
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = ${dir}/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.state.name = state.change.logger
logger.state.level = WARN
L4J

  local jvm=(-Xms128m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:-UsePerfData
             -Djava.awt.headless=true -Dlog4j2.configurationFile="${dir}/log4j2.properties"
             -cp "${LIBS}/*")
  if [[ ! -f "${dir}/data/meta.properties" ]]; then
    local cluster_id
    cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
    "${JAVA}" "${jvm[@]}" kafka.tools.StorageTool format -t "${cluster_id}" \
      -c "${dir}/server.properties" >"${dir}/format.log" 2>&1 \
      || { cat "${dir}/format.log" >&2; die "storage format failed"; }
  fi

  : > "${dir}/server.log"
  setsid nohup "${JAVA}" "${jvm[@]}" kafka.Kafka "${dir}/server.properties" \
    >"${dir}/stdout.log" 2>&1 < /dev/null &
  echo $! > "${dir}/kafka.pid"

  local deadline=$(( SECONDS + START_TIMEOUT ))
  while (( SECONDS < deadline )); do
    if ! pid_alive "${dir}"; then
      tail -n 30 "${dir}/stdout.log" "${dir}/server.log" >&2 || true
      die "broker exited during start"
    fi
    if port_open 127.0.0.1 "${port}" && grep -q "Kafka Server started" "${dir}/server.log" 2>/dev/null; then
      echo "kafka ${VERSION} listening on 127.0.0.1:${port} (pid $(cat "${dir}/kafka.pid"), dir ${dir})"
      return 0
    fi
    sleep 0.2
  done
  tail -n 30 "${dir}/server.log" >&2 || true
  stop "${dir}" || true
  die "broker did not start within ${START_TIMEOUT}s"
}

stop() {
  local dir="$1" sig="${2:-TERM}"
  [[ -n "${dir}" ]] || die "usage: kafka.sh stop DIR"
  [[ -f "${dir}/kafka.pid" ]] || return 0
  local pid; pid="$(cat "${dir}/kafka.pid")"
  if kill -0 "${pid}" 2>/dev/null; then
    kill "-${sig}" "${pid}" 2>/dev/null || true
    for _ in $(seq 1 150); do  # 15 s
      kill -0 "${pid}" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "${pid}" 2>/dev/null; then
      kill -KILL "${pid}" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "${pid}" 2>/dev/null || break; sleep 0.1; done
    fi
  fi
  rm -f "${dir}/kafka.pid"
}

cmd="${1:-}"; shift || true
case "${cmd}" in
  fetch) fetch ;;
  libs) echo "${LIBS}" ;;
  start) start "${1:-}" "${2:-}" "${3:-}" ;;
  stop) stop "${1:-}" ;;
  kill) stop "${1:-}" KILL ;;
  *) die "usage: kafka.sh fetch | start DIR PORT [CPORT] | stop DIR | kill DIR | libs" ;;
esac
