#!/bin/bash
# One daemon from dist/ (real mode: PostgreSQL and BullMQ), 300 new customers to warm up, then N
# more (node bench/smtp-client.mjs); prints mails/s end to end and CPU per mail of the daemon and of
# all postgres processes. Database mailroom_prof and Redis DB 6 are its own (dropped, flushed).
#   N=1500 CONC=16 [PROF_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof"] [NOBUILD=1] [ROOT=checkout] bash bench/new-customers.sh
set -euo pipefail
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}; cd "$ROOT"
N=${N:-1500}; CONC=${CONC:-16}
PROF_FLAGS=${PROF_FLAGS:-}
PG=postgres://postgres@127.0.0.1:5432; DB=mailroom_prof; RDB=6
W=/tmp/profb; rm -rf $W; mkdir -p $W
[ "${NOBUILD:-}" ] || npm run --silent build >/dev/null
sed 's/support@example\.com/rcpt@bench.example.test/g' examples/support.en.yaml > $W/rules.yaml
printf '\nsecurity:\n  unverified_sender: trust\n' >> $W/rules.yaml
psql $PG/postgres -XqAtc "drop database if exists $DB with (force)" ; psql $PG/postgres -XqAtc "create database $DB"
redis-cli -n $RDB flushdb >/dev/null
export DATABASE_URL=$PG/$DB REDIS_URL=redis://127.0.0.1:6379/$RDB MAILROOM_SECRET=bench-secret-0123456789abcdef0123456789abcdef MAILROOM_CONFIG=$W/rules.yaml
node dist/daemon/main.js migrate > $W/migrate.log 2>&1
MAILROOM_SMTP_PORT=2792 MAILROOM_HTTP_PORT=28792 MAILROOM_DATA_DIR=$W/data MAILROOM_HOSTNAME=mx.bench.example.test MAILROOM_WORKER_CONCURRENCY=$CONC MAILROOM_TRUSTED_RELAYS=127.0.0.0/8 MAILROOM_OUTBOUND=outbox \
  node $PROF_FLAGS dist/daemon/main.js start > $W/daemon.log 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for i in $(seq 100); do ss -Hltn 'sport = :2792' | grep -q . && break; sleep 0.2; done
node bench/smtp-client.mjs --port 2792 --count 300 --tag warm$$ > /dev/null
w=$(node bench/db-tool.mjs watermark $DATABASE_URL)
node bench/db-tool.mjs wait $DATABASE_URL 0 300 120 $PID >/dev/null
w=$(node bench/db-tool.mjs watermark $DATABASE_URL)
pgt() { awk '$2 == "(postgres)" { s += $14 + $15 } END { print s + 0 }' /proc/[0-9]*/stat 2>/dev/null; }
dt() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' /proc/$PID/stat; }
t0=$(date +%s%3N); c0=$(dt); p0=$(pgt)
node bench/smtp-client.mjs --port 2792 --count $N --sessions 20 --tag m$$ | tail -n1 > $W/client.json
waitj=$(node bench/db-tool.mjs wait $DATABASE_URL $w $N 300 $PID)
t1=$(sed -n 's/.*"seen_ms":\([0-9]*\).*/\1/p' <<<"$waitj"); c1=$(dt); p1=$(pgt)
awk -v hz="$(getconf CLK_TCK)" -v n=$N -v ms=$((t1-t0)) -v c=$((c1-c0)) -v p=$((p1-p0)) 'BEGIN { printf "mails/s %.1f  daemon %.2f ms/mail  pg %.2f ms/mail\n", n*1000/ms, c*1000/hz/n, p*1000/hz/n }'
kill -TERM $PID; wait $PID || true
psql $PG/postgres -XqAtc "drop database if exists $DB with (force)"; redis-cli -n $RDB flushdb >/dev/null
