#!/bin/bash
# The ticket list with 100k tickets: server time of the console's queue and of the API's list and
# search, on PostgreSQL seeded by bench/seed.sql (400,000 articles = 100,000 tickets).
#   bash bench/console-list.sh        (needs PostgreSQL at 127.0.0.1:5432, trust auth)
set -euo pipefail
cd "$(dirname "$0")/.."
PG=postgres://postgres@127.0.0.1:5432
DB=mailroom_bench_console
TOKEN=bench-console-token-0123456789abcdef
DATA=$(mktemp -d)
psql "$PG/postgres" -qc "drop database if exists $DB with (force)" -qc "create database $DB" >/dev/null
export DATABASE_URL=$PG/$DB MAILROOM_SECRET=$(printf 's%.0s' {1..40}) MAILROOM_OUTBOUND=outbox MAILROOM_DATA_DIR=$DATA
node bin/mailroom.js migrate >/dev/null
echo "seeding 100,000 tickets…"
psql "$DATABASE_URL" -q -v articles=400000 -f bench/seed.sql >/dev/null
psql "$DATABASE_URL" -qc "analyze" >/dev/null
PORT=$((20000 + RANDOM % 20000))
MAILROOM_API_TOKEN=$TOKEN MAILROOM_SMTP_PORT=0 MAILROOM_HTTP_PORT=$PORT MAILROOM_LOG_LEVEL=warn node bin/mailroom.js start >"$DATA/daemon.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; psql "$PG/postgres" -qc "drop database if exists $DB with (force)" >/dev/null; rm -rf "$DATA"' EXIT
until curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null; do sleep 0.5; done
measure() { # LABEL URL [curl args…]: median and worst of 20 (after 3 warm-ups), time to the first byte
  local label=$1 url=$2; shift 2
  for _ in 1 2 3; do curl -s -o /dev/null "$@" "$url"; done
  for _ in $(seq 20); do curl -s -o /dev/null -w '%{time_starttransfer}\n' "$@" "$url"; done | sort -n |
    awk -v label="$label" '{ t[NR] = $1 * 1000 } END { printf "%-44s median %6.1f ms   worst %6.1f ms\n", label, t[int((NR + 1) / 2)], t[NR] }'
}
measure "console queue (/tickets, 100 rows)" "http://127.0.0.1:$PORT/tickets" -b "mailroom_session=$TOKEN"
measure "console queue, status=open" "http://127.0.0.1:$PORT/tickets?status=open" -b "mailroom_session=$TOKEN"
measure "API list (limit 50, by update)" "http://127.0.0.1:$PORT/api/v1/tickets?limit=50" -H "authorization: Bearer $TOKEN"
measure "API search q=envíos (limit 50)" "http://127.0.0.1:$PORT/api/v1/tickets?limit=50&q=env%C3%ADos" -H "authorization: Bearer $TOKEN"
measure "console ticket page" "http://127.0.0.1:$PORT/tickets/50000" -b "mailroom_session=$TOKEN"
