#!/usr/bin/env bash
# bash bench/cli-start.sh [CHECKOUT…]        (default: this checkout; BENCHMARKS.md, "CLI start-up")
#
# Wall time of one CLI command from a checkout, as an agent types it: `node bin/mailroom.js …`,
# the median of REPS [5] runs after one warm-up, the checkouts alternating run by run so the
# machine's drift hits them alike. Two set-ups, each with one ticket in it:
#   embedded  no DATABASE_URL, a daemon (this checkout) running: database commands are forwarded to it
#   postgres  DATABASE_URL: the command opens its own connection (BENCH_PG [postgres://postgres@127.0.0.1:5432])
# Another checkout (e.g. `git archive <commit> | tar -x -C /tmp/old`) needs node_modules: a symlink
# to this one's will do. Ports 2741-2744 on 127.0.0.1; the data folder and database are removed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
REPS=${REPS:-5}
PGBASE=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
CHECKOUTS=("${@:-$ROOT}")
WORK=$(mktemp -d /tmp/mailroom-cli-start.XXXXXX)
DB=mailroom_cli_start_$$
SECRET=bench-secret-0123456789abcdef0123456789abcdef
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql "$PGBASE/postgres" -XAtqc "drop database if exists $DB with (force)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# start_daemon NAME SMTP_PORT HTTP_PORT [VAR=value…]: a daemon from this checkout, one ticket filed.
start_daemon() {
  local name=$1 smtp=$2 http=$3
  shift 3
  mkdir -p "$WORK/$name"
  env -u DATABASE_URL -u REDIS_URL MAILROOM_DATA_DIR="$WORK/$name" MAILROOM_SMTP_PORT="$smtp" MAILROOM_HTTP_PORT="$http" \
    MAILROOM_LOG_LEVEL=warn "$@" node bin/mailroom.js start >"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$http/readyz" >/dev/null && break || sleep 0.5; done
  node -e "require('nodemailer').createTransport({ host: '127.0.0.1', port: $smtp, secure: false, ignoreTLS: true })
    .sendMail({ from: 'ana@cliente.es', to: 'soporte@example.com', subject: 'No me llegan los envíos', text: 'Desde ayer.' })
    .catch((err) => { console.error(err); process.exit(1); })"
}

# measure LABEL ENV-ARGS… -- CLI-ARGS…: one line per checkout, median and each run in ms.
measure() {
  local label=$1
  shift
  local envs=() args=()
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  args=("$@")
  declare -A times=()
  # warm-up; a checkout without the command (an old one and --version) is still timed, and said so
  for checkout in "${CHECKOUTS[@]}"; do (cd "$checkout" && env "${envs[@]}" node bin/mailroom.js "${args[@]}" >/dev/null 2>&1) || echo "$label ${args[*]}: exit $? in $checkout" >&2; done
  for _ in $(seq 1 "$REPS"); do
    for checkout in "${CHECKOUTS[@]}"; do
      local start end
      start=$(date +%s%N)
      (cd "$checkout" && env "${envs[@]}" node bin/mailroom.js "${args[@]}" >/dev/null 2>&1) || true
      end=$(date +%s%N)
      times[$checkout]+="$(((end - start) / 1000000)) "
    done
  done
  for checkout in "${CHECKOUTS[@]}"; do
    local sorted
    sorted=($(tr ' ' '\n' <<<"${times[$checkout]}" | sed '/^$/d' | sort -n))
    printf '%-10s %-28s median %5d ms  runs: %s (%s)\n' "$label" "${args[*]}" "${sorted[$((REPS / 2))]}" "${times[$checkout]% }" "$checkout"
  done
}

psql "$PGBASE/postgres" -XAtqc "create database $DB" >/dev/null
start_daemon embedded 2741 2743
start_daemon postgres 2742 2744 DATABASE_URL="$PGBASE/$DB" MAILROOM_SECRET=$SECRET MAILROOM_OUTBOUND=outbox
sleep 2 # the two mails filed
EMBEDDED=(-u DATABASE_URL -u REDIS_URL MAILROOM_DATA_DIR="$WORK/embedded")
POSTGRES=(-u REDIS_URL DATABASE_URL="$PGBASE/$DB" MAILROOM_SECRET=$SECRET MAILROOM_DATA_DIR="$WORK/postgres")
for setup in EMBEDDED POSTGRES; do
  declare -n vars=$setup
  echo "$setup: $(env "${vars[@]}" node bin/mailroom.js tickets list --json | grep -c '"number"') ticket(s) listed"
done
measure embedded "${EMBEDDED[@]}" -- tickets list
measure postgres "${POSTGRES[@]}" -- tickets list
measure embedded "${EMBEDDED[@]}" -- --version
