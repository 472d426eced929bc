#!/usr/bin/env bash
# Brings up the shared infrastructure (Kafka, Postgres, schemas, roles, topics, migrations).
# Used by the stack command, by CI and by developers before `npm test`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
bash deploy/local/kafka.sh start
DATABASE_ADMIN_URL="$(bash deploy/local/postgres.sh ensure)"
export DATABASE_ADMIN_URL
node -r ./tools/ts-register.cjs tools/infra.ts up
