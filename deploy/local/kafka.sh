#!/usr/bin/env bash
# Runs the real Apache Kafka 4.x broker from Maven Central jars as one KRaft node on loopback.
# Usage: deploy/local/kafka.sh start|stop|status|reset
# Data, logs and jars live in .local/kafka (git-ignored). Start is idempotent.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
state="${KAFKA_LOCAL_DIR:-$root/.local/kafka}"
libs="$state/libs"
data="$state/data"
pidfile="$state/kafka.pid"
logfile="$state/kafka.log"
port=9092

log() { printf '[kafka] %s\n' "$*" >&2; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

running_pid() {
  [ -f "$pidfile" ] || return 1
  local pid; pid="$(cat "$pidfile")"
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

fetch_jars() {
  local stamp="$libs/.pom.sha256" want
  want="$(sha256sum "$here/kafka/pom.xml" | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  log "resolving broker jars from Maven Central"
  rm -rf "$libs"; mkdir -p "$libs"
  mvn -q -B -f "$here/kafka/pom.xml" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$libs" >&2
  echo "$want" >"$stamp"
}

format_storage() {
  [ -f "$data/meta.properties" ] && return 0
  log "formatting KRaft storage in $data"
  mkdir -p "$data"
  cp "$here/kafka/server.properties" "$state/server.properties"
  echo "log.dirs=$data" >>"$state/server.properties"
  local id; id="$(java -cp "$libs/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)"
  java -cp "$libs/*" -Dlog4j2.configurationFile="$here/kafka/log4j2.properties" \
    kafka.tools.StorageTool format --standalone -t "$id" -c "$state/server.properties" >&2
}

start() {
  if pid="$(running_pid)"; then log "already running (pid $pid)"; wait_ready; return 0; fi
  if port_open; then log "port $port is already served by another process; using it"; return 0; fi
  mkdir -p "$state"
  fetch_jars
  format_storage
  log "starting broker on 127.0.0.1:$port"
  # setsid: the broker must outlive the shell that started it (the stack command, CI).
  setsid nohup java -Xms256m -Xmx${KAFKA_HEAP_MAX:-768m} -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$here/kafka/log4j2.properties" -Dkafka.logs.dir="$state/logs" \
    -cp "$libs/*" kafka.Kafka "$state/server.properties" >"$logfile" 2>&1 </dev/null &
  echo $! >"$pidfile"
  wait_ready
}

wait_ready() {
  local deadline=$((SECONDS + ${KAFKA_START_TIMEOUT:-90}))
  until port_open; do
    if ! running_pid >/dev/null; then log "broker exited; last log lines:"; tail -n 30 "$logfile" >&2; exit 1; fi
    if [ $SECONDS -ge $deadline ]; then log "broker not ready in time"; tail -n 30 "$logfile" >&2; exit 1; fi
    sleep 0.5
  done
  # The port opens before the controller has elected itself; kafkajs-level readiness is checked by
  # the topic bootstrap, which retries until metadata answers.
  log "ready on 127.0.0.1:$port"
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then log "not running"; rm -f "$pidfile"; return 0; fi
  log "stopping pid $pid"
  kill "$pid"
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -0 "$pid" 2>/dev/null && { log "forcing stop"; kill -9 "$pid"; }
  rm -f "$pidfile"
}

status() {
  if pid="$(running_pid)"; then echo "kafka: running (pid $pid) on 127.0.0.1:$port"; return 0; fi
  if port_open; then echo "kafka: port $port served by a process not started here"; return 0; fi
  echo "kafka: stopped"; return 3
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  reset) stop; rm -rf "$data" "$state/server.properties"; log "data removed" ;;
  *) echo "usage: $0 start|stop|status|reset" >&2; exit 2 ;;
esac
