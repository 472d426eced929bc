#!/usr/bin/env bash
# One command for the whole local stack in sandbox mode.
#   up:     Kafka + Postgres + schemas/roles + topics + migrations, then every service
#   down:   every service, then Kafka (Postgres is the machine's and stays up)
#   status: what runs where
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
export NX_DAEMON=false
case "${1:-}" in
  up)
    started=$SECONDS
    bash deploy/local/infra.sh
    node -r ./tools/ts-register.cjs tools/stack.ts up
    echo "whole stack (infrastructure + services) up in $((SECONDS - started)) s"
    ;;
  down)
    node -r ./tools/ts-register.cjs tools/stack.ts down
    bash deploy/local/kafka.sh stop
    ;;
  status)
    bash deploy/local/kafka.sh status || true
    node -r ./tools/ts-register.cjs tools/stack.ts status
    ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
