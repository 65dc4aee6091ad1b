#!/bin/bash
# The statements PostgreSQL is sent for one new-customer mail with its auto-reply, from intake to
# sent (the second of two mails; log_statement on a database of its own, mailroom_stmts, dropped
# after): prints their count, the list goes to /tmp/stmts/stmts.txt. Reads the server log at
# /var/log/postgresql/postgresql-15-main.log.  bash bench/statements-per-mail.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${NOBUILD:-}" ] || npm run --silent build >/dev/null
PG=postgres://postgres@127.0.0.1:5432; DB=mailroom_stmts; W=/tmp/stmts; rm -rf $W; mkdir -p $W
sed 's/support@example\.com/rcpt@bench.example.test/g' examples/support.en.yaml > $W/rules.yaml
printf '\nsecurity:\n  unverified_sender: trust\n' >> $W/rules.yaml
psql $PG/postgres -XqAtc "drop database if exists $DB with (force)" 2>/dev/null; psql $PG/postgres -XqAtc "create database $DB"
export DATABASE_URL=$PG/$DB REDIS_URL=redis://127.0.0.1:6379/4 MAILROOM_SECRET=bench-secret-0123456789abcdef0123456789abcdef MAILROOM_CONFIG=$W/rules.yaml
redis-cli -n 4 flushdb >/dev/null
node dist/daemon/main.js migrate > $W/migrate.log 2>&1
psql $DATABASE_URL -XqAtc "alter database $DB set log_statement='all'"
MAILROOM_SMTP_PORT=2793 MAILROOM_HTTP_PORT=28793 MAILROOM_DATA_DIR=$W/data MAILROOM_HOSTNAME=mx.bench.example.test MAILROOM_WORKER_CONCURRENCY=4 MAILROOM_TRUSTED_RELAYS=127.0.0.0/8 MAILROOM_OUTBOUND=outbox node dist/daemon/main.js start > $W/d.log 2>&1 &
P=$!
trap 'kill $P 2>/dev/null || true' EXIT
for i in $(seq 100); do ss -Hltn 'sport = :2793' | grep -q . && break; sleep 0.2; done
node bench/smtp-client.mjs --port 2793 --count 1 --sessions 1 --tag one$$ >/dev/null; sleep 2
LOG=/var/log/postgresql/postgresql-15-main.log; L0=$(wc -l < $LOG)
node bench/smtp-client.mjs --port 2793 --count 1 --sessions 1 --tag two$$ >/dev/null; sleep 2
tail -n +$L0 $LOG | grep -o "statement: .*\|execute [^:]*: .*" | cut -c1-160 > $W/stmts.txt
kill $P; wait $P 2>/dev/null || true
psql $PG/postgres -XqAtc "drop database if exists $DB with (force)"
redis-cli -n 4 flushdb >/dev/null
wc -l < $W/stmts.txt
