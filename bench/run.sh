#!/usr/bin/env bash
# npm run bench [-- a b c d e]        (or: bash bench/run.sh [a] [b] [c] [d] [e]; no argument: all five)
#
# mailroom's benchmarks, each side by side with its baseline in the same run (BENCHMARKS.md):
#   a  durable accept: msgs/s of mailroom's SMTP intake vs the receivers of ../shared/bench
#   b  end to end: sustained mails/s from DATA to stored article; latency p50/p95/p99 at 100 mails/s
#   c  memory: peak RSS while ten 25 MiB messages arrive at once and are stored / processed
#   d  parsers: bounces/s and visible-reply extractions/s on one core
#   e  growth: b's sustained throughput with 1,000,000 articles stored vs an empty database
# Every step runs as a child process under `timeout`; every load is bounded in count and time;
# traffic stays on 127.0.0.1. Figures are printed and appended to bench/.work/results-<stamp>.md,
# raw records to bench/.work/run-<stamp>/records.jsonl.
#
# Needs: node + this checkout's node_modules, PostgreSQL on 127.0.0.1:5432 trusting user postgres,
# Redis on 127.0.0.1:6379, Postfix's smtp-source (installed here when missing and run as root).
# Environment (defaults in brackets):
#   BENCH_PG [postgres://postgres@127.0.0.1:5432]   BENCH_REDIS_DB [8]  BENCH_REDIS_DB2 [7] (step a's second daemon)
#   LOAD_MAX [1.5] LOAD_WAIT_S [300]: wait before a step while the 1-min load average is above LOAD_MAX
#   REPS [3]  A_COUNT_5K [10000] A_COUNT_100K [3000] A_FULL_COUNT_5K [1000] A_FULL_COUNT_100K [200]
#   B_COUNT [2500] B_CLIENT_COUNT [2000] B_CONCURRENCY [4] B_LAT_RATES ["100 30"] B_LAT_SECONDS [30]
#   C_REPS [3]  E_ARTICLES [1000000] E_COUNT [1500] E_INTAKE_COUNT [2000] E_REPS [3] E_KEEP_SEED [0: drop the seeded database at the end]
# Not part of the default run: `bash bench/run.sh profile` runs the daemon under `node --cpu-prof`
# (intake-only under smtp-source load, then the full daemon processing a backlog) and prints the top costs.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH=$ROOT/bench
WORK=$BENCH/.work
SHARED=${BENCH_SHARED:-$ROOT/../shared/bench}
PGBASE=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
RDB=${BENCH_REDIS_DB:-8}
RDB2=${BENCH_REDIS_DB2:-7}
REPS=${REPS:-3}
LOAD_MAX=${LOAD_MAX:-1.5}
LOAD_WAIT_S=${LOAD_WAIT_S:-300}
SECRET=bench-secret-0123456789abcdef0123456789abcdef
# Worker concurrency of the full daemons (MAILROOM_WORKER_CONCURRENCY; the daemon's default, 16).
CONC=${BENCH_CONCURRENCY:-16}

# ports: receivers of ../shared/bench and the mailroom instances (HTTP = SMTP + 26000)
P_SINK=2725 P_PGRAW=2726 P_PGGC=2729 P_MR_INTAKE=2731 P_MR_FULL=2732 P_MR_SECOND=2733
DB_TPL=mailroom_bench_tpl
DB_BASE=mailroom_bench_baseline

declare -A STEP_TIMEOUT=([a]=1200 [b]=900 [c]=600 [d]=300 [e]=1500 [profile]=900)
declare -A STEP_TITLE=([a]='a. Durable accept' [b]='b. End to end' [c]='c. Memory' [d]='d. Parsers' [e]='e. Growth' [profile]='profile. CPU profiles')

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

# ------------------------------------------------------------------ parent: run the steps
if [ "${1:-}" != --one ]; then
  STEPS=("$@"); [ ${#STEPS[@]} -eq 0 ] && STEPS=(a b c d e)
  for s in "${STEPS[@]}"; do [[ $s =~ ^([abcde]|profile)$ ]] || { echo "usage: $0 [a] [b] [c] [d] [e] [profile]" >&2; exit 2; }; done
  mkdir -p "$WORK"
  STAMP=$(date +%Y%m%d-%H%M%S)
  export BENCH_RUN=$WORK/run-$STAMP BENCH_RESULTS=$WORK/results-$STAMP.md
  mkdir -p "$BENCH_RUN"

  # Postfix's smtp-source drives the load; install it when missing, but never run its MTA.
  if ! command -v smtp-source >/dev/null && [ ! -x /usr/sbin/smtp-source ]; then
    [ "$(id -u)" = 0 ] || die "smtp-source missing (Debian package postfix) and not root to install it"
    log "installing postfix (for smtp-source)"
    listening25=$(ss -Hltn 'sport = :25' | wc -l)
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y postfix >/dev/null
    if [ "$listening25" = 0 ] && ss -Hltn 'sport = :25' | grep -q .; then
      log "the postfix package started an MTA on :25; stopping it"; postfix stop >/dev/null 2>&1 || true
    fi
  fi
  ss -Hltn 'sport = :25' | grep -q . && log "note: something listens on :25 (not ours); the benchmarks do not use it"

  # The daemon runs as in production (the Dockerfile): the compiled dist/, not tsx from source.
  log "building dist/ (npm run build)"
  npm run --silent build >"$BENCH_RUN/build.log" 2>&1 || die "npm run build failed (see $BENCH_RUN/build.log)"

  t_start=$SECONDS
  {
    echo "# mailroom benchmarks, run $STAMP"
    echo
    echo "Command: \`bash bench/run.sh ${STEPS[*]}\` (npm run bench$([ $# -gt 0 ] && echo " -- ${STEPS[*]}"))"
    echo
    echo "| machine | |"
    echo "| --- | --- |"
    echo "| CPU | $(nproc) × $(lscpu | sed -n 's/^Model name: *//p' | head -n1) |"
    echo "| RAM | $(free -g | awk '/^Mem:/ {print $2}') GiB |"
    echo "| OS | $(. /etc/os-release; echo "$PRETTY_NAME"), kernel $(uname -r) |"
    echo "| node | $(node --version) |"
    echo "| PostgreSQL | $(psql "$PGBASE/postgres" -XAtqc 'show server_version' 2>/dev/null) (shared_buffers $(psql "$PGBASE/postgres" -XAtqc 'show shared_buffers'), synchronous_commit $(psql "$PGBASE/postgres" -XAtqc 'show synchronous_commit')) |"
    echo "| Redis | $(redis-cli -h 127.0.0.1 -p 6379 info server 2>/dev/null | sed -n 's/^redis_version:\([^\r]*\).*/\1/p') |"
    echo "| mailroom | $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null) ($(git -C "$ROOT" status --porcelain 2>/dev/null | grep -vc '^?? bench/' || true) files changed or untracked outside bench/) |"
    echo
  } >"$BENCH_RESULTS"
  rc_all=0
  for s in "${STEPS[@]}"; do
    log "=== step $s (time bound ${STEP_TIMEOUT[$s]} s)"
    t0=$SECONDS
    set +e
    timeout --kill-after=30 "${STEP_TIMEOUT[$s]}" bash "$0" --one "$s"
    rc=$?
    set -e
    if [ $rc -ne 0 ]; then
      rc_all=1
      msg="step $s FAILED (exit $rc$([ $rc = 124 ] && echo ': time bound hit')); see $BENCH_RUN/*.log"
      log "$msg"; printf '\n**%s**\n' "$msg" >>"$BENCH_RESULTS"
    fi
    log "=== step $s took $((SECONDS - t0)) s"
    printf '\n_step %s took %d s_\n' "$s" $((SECONDS - t0)) >>"$BENCH_RESULTS"
  done
  printf '\nWhole run: %d s.\n' $((SECONDS - t_start)) >>"$BENCH_RESULTS"
  echo
  cat "$BENCH_RESULTS"
  log "results: $BENCH_RESULTS (raw: $BENCH_RUN)"
  exit $rc_all
fi

# ------------------------------------------------------------------ child: one step
STEP=$2
RUN=$BENCH_RUN
RESULTS=$BENCH_RESULTS
RECORDS=$RUN/records.jsonl
export NODE_NO_WARNINGS=1

declare -A PIDS=()
declare -A USED_RDB=()
jnum() { [[ ${1:-} =~ ^-?[0-9]+(\.[0-9]+)?$ ]] && echo "$1" || echo null; }
stop_proc() {  # SIGTERM our own pid, wait (bounded), then SIGKILL that pid only
  local name=$1 pid=${PIDS[$1]:-} i
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then log "$name ($pid) did not stop in 20 s: SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; fi
  wait "$pid" 2>/dev/null || true
  unset "PIDS[$name]"
}
cleanup() {
  local n
  for n in "${!PIDS[@]}"; do stop_proc "$n"; done
  for n in "${!USED_RDB[@]}"; do redis_flush "$n" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT
trap 'exit 143' TERM INT

psqlq() { local db=$1; shift; psql "$PGBASE/$db" -XqAt -v ON_ERROR_STOP=1 "$@"; }
db_exists() { [ "$(psqlq postgres -c "select 1 from pg_database where datname='$1'")" = 1 ]; }
drop_db() { psqlq postgres -c "drop database if exists $1 with (force)" >/dev/null; }
# a migrated, empty mailroom database, copied from a template migrated once per step
ensure_template() {
  drop_db "$DB_TPL"
  psqlq postgres -c "create database $DB_TPL" >/dev/null
  DATABASE_URL=$PGBASE/$DB_TPL MAILROOM_SECRET=$SECRET MAILROOM_CONFIG=$WORK/rules.yaml \
    timeout 120 node dist/daemon/main.js migrate >>"$RUN/migrate.log" 2>&1 || die "migrate failed (see $RUN/migrate.log)"
}
fresh_db() { drop_db "$1"; psqlq postgres -c "create database $1 template $DB_TPL" >/dev/null; }
checkpoint() { psqlq postgres -c checkpoint >/dev/null; }
reset_mailroom_db() {  # empties a mailroom database between timed runs (ids keep counting: BullMQ job ids stay unique)
  psqlq "$1" -c "truncate inbound_messages, inbound_chunks, articles, article_attachments, attachment_blobs, tickets,
    ticket_events, ticket_participants, contacts, deliveries, delivery_recipients, bounces cascade" >/dev/null
}

redis_flush() {  # only a DB that holds nothing but mailroom's BullMQ keys (prefix mailroom:) is ours to flush
  local db=$1 foreign
  USED_RDB[$db]=1
  local keys
  keys=$(redis-cli -h 127.0.0.1 -p 6379 -n "$db" --scan) || die "cannot list Redis DB $db"
  foreign=$(grep -v '^mailroom:' <<<"$keys" | grep . | head -n1 || true)
  [ -z "$foreign" ] || die "Redis DB $db holds keys that are not mailroom's (e.g. '$foreign'); choose another with BENCH_REDIS_DB / BENCH_REDIS_DB2"
  redis-cli -h 127.0.0.1 -p 6379 -n "$db" flushdb >/dev/null
}

port_free() { ! ss -Hltn "sport = :$1" | grep -q .; }
wait_listen() {  # PORT PID [SECONDS]
  local i
  for i in $(seq 1 $(( ${3:-30} * 10 ))); do
    kill -0 "$2" 2>/dev/null || { log "pid $2 died before listening on $1"; return 1; }
    ss -Hltnp "sport = :$1" 2>/dev/null | grep -q "pid=$2," && return 0
    sleep 0.1
  done
  log "pid $2 not listening on $1"; return 1
}
start_proc() {  # NAME PORT CMD...  (env is inherited)
  local name=$1 port=$2; shift 2
  port_free "$port" || die "port $port is busy; stop whatever listens there"
  "$@" >>"$RUN/$name.log" 2>&1 &
  PIDS[$name]=$!
  wait_listen "$port" "${PIDS[$name]}" 40 || die "$name did not start (see $RUN/$name.log)"
}
# mailroom in real mode: NAME PORT DB REDIS_DB CONCURRENCY [extra VAR=value ...]
start_mailroom() {
  local name=$1 port=$2 db=$3 rdb=$4 conc=$5; shift 5
  port_free "$port" || die "port $port is busy; stop whatever listens there"
  mkdir -p "$RUN/data-$name"
  env DATABASE_URL="$PGBASE/$db" REDIS_URL="redis://127.0.0.1:6379/$rdb" MAILROOM_SECRET=$SECRET \
    MAILROOM_CONFIG="$WORK/rules.yaml" MAILROOM_SMTP_PORT="$port" MAILROOM_HTTP_PORT=$((port + 26000)) \
    MAILROOM_DATA_DIR="$RUN/data-$name" MAILROOM_HOSTNAME=mx.bench.example.test MAILROOM_WORKER_CONCURRENCY="$conc" MAILROOM_TRUSTED_RELAYS=127.0.0.0/8 MAILROOM_OUTBOUND=outbox "$@" \
    bash -c 'exec node ${BENCH_NODE_FLAGS:-} dist/daemon/main.js start' >>"$RUN/$name.log" 2>&1 &
  PIDS[$name]=$!
  wait_listen "$port" "${PIDS[$name]}" 60 || die "$name did not start (see $RUN/$name.log)"
}

cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
pg_ticks() { awk '$2 == "(postgres)" { s += $14 + $15 } END { print s + 0 }' /proc/[0-9]*/stat 2>/dev/null || echo 0; }
machine_ticks() { awk '/^cpu / { print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9 }' /proc/stat; }  # busy total
HZ=$(getconf CLK_TCK)
now_ms() { date +%s%3N; }
vm_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "NA"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
record() { printf '%s\n' "$1" >>"$RECORDS"; }
out() { printf '%s\n' "$*" >>"$RESULTS"; }

# Before a measurement: the 1-minute load average must be at most LOAD_MAX, or the machine must be
# idle now (busy < 0.3 core over 3 s: the load average is then only the decaying tail of our own
# previous step). Waits at most LOAD_WAIT_S, then goes on and says so.
LOAD_NOTE=''
wait_low_load() {
  local waited=0 l b0 t0 b1 t1 busy
  for (( ;; )); do
    l=$(cut -d' ' -f1 /proc/loadavg)
    read -r b0 t0 < <(machine_ticks); sleep 3; read -r b1 t1 < <(machine_ticks)
    busy=$(awk -v b=$((b1 - b0)) -v t=$((t1 - t0)) -v n="$(nproc)" 'BEGIN { printf "%.2f", (t > 0 ? n * b / t : 0) }')
    if awk -v l="$l" -v m="$LOAD_MAX" -v b="$busy" 'BEGIN { exit !(l <= m || b < 0.3) }'; then
      LOAD_NOTE="load average $l, $busy cores busy over 3 s before the step"
      [ $waited -eq 0 ] || LOAD_NOTE+=", after waiting $waited s"
      log "$1: $LOAD_NOTE"; return 0
    fi
    if [ $waited -ge "$LOAD_WAIT_S" ]; then
      LOAD_NOTE="**load average $l, $busy cores busy (others' work) after waiting $waited s: figures taken on a busy machine**"
      log "$1: $LOAD_NOTE"; return 0
    fi
    log "$1: load average $l, $busy cores busy: waiting"; sleep 10; waited=$((waited + 13))
  done
}

prepare_common() {
  mkdir -p "$WORK/shared"
  # ../shared is read-only: copy the scripts used, so that `smtp-server`, `postgres` and
  # `mailparser` resolve from this checkout's node_modules
  local f
  for f in smtp-load.sh smtp-common.mjs sink-smtp-server.mjs pg-smtp-server.mjs pg-groupcommit-smtp-server.mjs gen-big-message.mjs; do
    [ -r "$SHARED/$f" ] || die "missing $SHARED/$f"
    cp -f "$SHARED/$f" "$WORK/shared/$f"; chmod u+w "$WORK/shared/$f"
  done
  # the bench rules: the complete English example, with smtp-source's recipient as its mailbox
  sed 's/support@example\.com/rcpt@bench.example.test/g' examples/support.en.yaml >"$WORK/rules.yaml"
  grep -q 'address: rcpt@bench.example.test' "$WORK/rules.yaml" || die "could not make the bench rules file"
  # The load's senders are made-up domains with no SPF, DKIM or DMARC: under the default
  # `unverified_sender: restrict` every mail would be filed restricted with no auto-reply, which
  # is not the work the benchmark means to measure. As a mailroom behind a checking gateway runs:
  grep -q '^security:' "$WORK/rules.yaml" && die "the example rules now have a security section: merge the bench's setting into it"
  printf '\nsecurity:\n  unverified_sender: trust\n' >>"$WORK/rules.yaml"
  pg_isready -q -h 127.0.0.1 -p 5432 || die "PostgreSQL is not reachable on 127.0.0.1:5432"
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null || die "Redis is not reachable on 127.0.0.1:6379"
  redis_flush "$RDB"
  ensure_template
}

SMTP_LOAD=$WORK/shared/smtp-load.sh
# smtp-source load: PORT COUNT SIZE PID -> "msgs_per_s cpu_ms_per_msg" (NA on failure)
load_once() {
  local outp
  if outp=$(SMTP_LOAD_REUSE=1 SMTP_LOAD_TIMEOUT=${SMTP_LOAD_TIMEOUT:-240} RECV_PID=$4 bash "$SMTP_LOAD" "$1" "$2" 20 "$3" 2>>"$RUN/smtp-load.log"); then
    printf '%s %s\n' "$(tail -n1 <<<"$outp")" "$(sed -n 's/.*receiver_cpu_ms_per_msg=\([0-9.]*\).*/\1/p' <<<"$outp")"
  else
    log "load failed: port $1 count $2 size $3"; echo "NA NA"
  fi
}

# ================================================================== a. durable accept
step_a() {
  wait_low_load a
  local c5=${A_COUNT_5K:-10000} c100=${A_COUNT_100K:-3000} f5=${A_FULL_COUNT_5K:-1000} f100=${A_FULL_COUNT_100K:-200}
  redis_flush "$RDB2"
  drop_db "$DB_BASE"; psqlq postgres -c "create database $DB_BASE" >/dev/null
  fresh_db mailroom_bench_a_intake
  fresh_db mailroom_bench_a_full
  export DATABASE_URL=$PGBASE/$DB_BASE
  start_proc sink "$P_SINK" node "$WORK/shared/sink-smtp-server.mjs" "$P_SINK"
  start_proc pg-raw "$P_PGRAW" node "$WORK/shared/pg-smtp-server.mjs" "$P_PGRAW" raw
  start_proc pg-gc "$P_PGGC" node "$WORK/shared/pg-groupcommit-smtp-server.mjs" "$P_PGGC"
  unset DATABASE_URL
  # intake-only: no workers; the sweeper (which would re-enqueue the unprocessed rows every 30 s) every 10 min
  start_mailroom mr-intake "$P_MR_INTAKE" mailroom_bench_a_intake "$RDB" 0 MAILROOM_SWEEP_INTERVAL_MS=600000
  start_mailroom mr-full "$P_MR_FULL" mailroom_bench_a_full "$RDB2" "$CONC"
  local receivers=(sink pg-raw pg-gc mr-intake mr-full)
  declare -A port=([sink]=$P_SINK [pg-raw]=$P_PGRAW [pg-gc]=$P_PGGC [mr-intake]=$P_MR_INTAKE [mr-full]=$P_MR_FULL)

  a_reset() {
    case $1 in
      pg-raw|pg-gc) psqlq "$DB_BASE" -c 'truncate inbound_bench' >/dev/null ;;
      mr-intake) reset_mailroom_db mailroom_bench_a_intake ;;
      mr-full) reset_mailroom_db mailroom_bench_a_full ;;
    esac
    checkpoint
  }
  a_run() {  # REP RECEIVER SIZE COUNT
    local rep=$1 r=$2 size=$3 n=$4 res rate cpu w t0 c0 drain=null e2e=null ecpu=null waitj done_ms
    a_reset "$r"
    [ "$r" = mr-full ] && w=$(node bench/db-tool.mjs watermark "$PGBASE/mailroom_bench_a_full")
    t0=$(now_ms); c0=$(cpu_ticks "${PIDS[$r]}")
    res=$(load_once "${port[$r]}" "$n" "$size" "${PIDS[$r]}")
    read -r rate cpu <<<"$res"
    if [ "$r" = mr-full ]; then
      # the full daemon goes on processing after the last 250: wait until it is done (not timed
      # as intake) so that the next receiver does not share the cores with this backlog
      if waitj=$(node bench/db-tool.mjs wait "$PGBASE/mailroom_bench_a_full" "$w" "$n" 300 "${PIDS[$r]}"); then
        done_ms=$(sed -n 's/.*"seen_ms":\([0-9]*\).*/\1/p' <<<"$waitj")
        drain=$(awk -v a="$t0" -v b="$done_ms" 'BEGIN { printf "%.2f", (b - a) / 1000 }')
        e2e=$(awk -v n="$n" -v d="$drain" 'BEGIN { printf "%.1f", n / d }')
        ecpu=$(awk -v c=$(( $(cpu_ticks "${PIDS[$r]}") - c0 )) -v hz="$HZ" -v n="$n" 'BEGIN { printf "%.3f", c * 1000 / hz / n }')
      else log "mr-full did not finish its backlog: $waitj"; fi
    fi
    [ "$rep" = 0 ] || log "a rep $rep $size $r: $rate msgs/s, $cpu ms CPU/msg$([ "$r" = mr-full ] && echo ", all processed after $drain s ($e2e/s, $ecpu ms CPU/msg)")"
    record "{\"step\":\"a\",\"rep\":$rep,\"size\":\"$size\",\"receiver\":\"$r\",\"count\":$n,\"msgs_per_s\":$(jnum "$rate"),\"cpu_ms_per_msg\":$(jnum "$cpu"),\"full_done_s\":$drain,\"full_e2e_per_s\":$e2e,\"full_cpu_ms_per_msg\":$ecpu}"
  }

  log "a: warm-up, 2000 x 5 KB per receiver, 1000 for the full daemon (not counted)"
  local r rep size n
  for r in "${receivers[@]}"; do a_run 0 "$r" 5k $([ "$r" = mr-full ] && echo 1000 || echo 2000); done
  for rep in $(seq 1 "$REPS"); do
    for size in 5k 100k; do
      for r in "${receivers[@]}"; do
        if [ "$size" = 5k ]; then n=$c5; [ "$r" = mr-full ] && n=$f5; else n=$c100; [ "$r" = mr-full ] && n=$f100; fi
        a_run "$rep" "$r" "$size" "$n"
      done
    done
  done
  for r in "${receivers[@]}"; do stop_proc "$r"; done
  drop_db mailroom_bench_a_intake; drop_db mailroom_bench_a_full; drop_db "$DB_BASE"
  out "## a. Durable accept (smtp-source, 20 sessions, connection reuse; median of $REPS repetitions)"
  out ""
  out "$LOAD_NOTE. Counts per run: 5 KB $c5 (full daemon $f5), 100 KB $c100 (full daemon $f100); warm-up 2000 × 5 KB each (full daemon 1000). PG-backed receivers: table or spool emptied and CHECKPOINT before each timed run. The full daemon's backlog is processed before the next receiver runs."
  out "Commands: \`SMTP_LOAD_REUSE=1 RECV_PID=\$pid ../shared/bench/smtp-load.sh PORT COUNT 20 5k|100k\` against each receiver in turn."
  out ""
  node bench/report.mjs a "$RECORDS" >>"$RESULTS"
}

# ================================================================== b. end to end
# sustained: COUNT x 5 KB by smtp-source as fast as it goes; time from its start until every spool
# row is finished and every inbound article stored (polled every 100 ms)
b_sustained() {  # NAME DB COUNT CONCURRENCY LABEL [client args...]: smtp-source when no client args
  local name=$1 db=$2 n=$3 conc=$4 label=$5; shift 5
  local w t0 c0 p0 m0b m0t waitj done_ms rate cpu intake span e2e pgc m1b m1t busy dcores
  w=$(node bench/db-tool.mjs watermark "$PGBASE/$db")
  checkpoint
  local extra=${B_EXTRA_INSTANCE:-}  # a second daemon sharing the work: its CPU counts too
  daemon_ticks() { local t; t=$(cpu_ticks "${PIDS[$name]}"); [ -n "$extra" ] && t=$((t + $(cpu_ticks "${PIDS[$extra]}"))); echo "$t"; }
  t0=$(now_ms); c0=$(daemon_ticks); p0=$(pg_ticks); read -r m0b m0t < <(machine_ticks)
  if [ $# -eq 0 ]; then
    intake=$(load_once "$P_MR_FULL" "$n" 5k "${PIDS[$name]}" | cut -d' ' -f1)
  else
    intake=$(node bench/smtp-client.mjs --port "$P_MR_FULL" --count "$n" --sessions 20 --timeout 300 "$@" 2>>"$RUN/client.log" |
             tail -n1 | sed -n 's/.*"msgs_per_s":\([0-9.]*\).*/\1/p')
    [ -n "$intake" ] || intake=NA
  fi
  waitj=$(node bench/db-tool.mjs wait "$PGBASE/$db" "$w" "$n" 600 "${PIDS[$name]}") || { log "$label: not all processed: $waitj"; record "{\"step\":\"$STEP\",\"kind\":\"sustained\",\"label\":\"$label\",\"failed\":true}"; return 0; }
  done_ms=$(sed -n 's/.*"seen_ms":\([0-9]*\).*/\1/p' <<<"$waitj")
  read -r m1b m1t < <(machine_ticks)
  e2e=$(awk -v n="$n" -v a="$t0" -v b="$done_ms" 'BEGIN { printf "%.1f", n * 1000 / (b - a) }')
  span=$(node -e 'const j=JSON.parse(process.argv[1]); console.log((process.argv[2]*1000/(j.last_processed_ms-j.first_received_ms)).toFixed(1))' "$waitj" "$n")
  cpu=$(awk -v c=$(( $(daemon_ticks) - c0 )) -v hz="$HZ" -v n="$n" 'BEGIN { printf "%.2f", c * 1000 / hz / n }')
  pgc=$(awk -v c=$(( $(pg_ticks) - p0 )) -v hz="$HZ" -v n="$n" 'BEGIN { printf "%.2f", c * 1000 / hz / n }')
  busy=$(awk -v b=$((m1b - m0b)) -v t=$((m1t - m0t)) -v c="$(nproc)" 'BEGIN { printf "%.2f", c * b / t }')
  dcores=$(awk -v cpu="$cpu" -v r="$e2e" 'BEGIN { printf "%.2f", cpu * r / 1000 }')
  log "$label: intake $intake/s, all $n processed at $e2e mails/s (DB span $span/s); daemon $cpu ms CPU/mail ($dcores cores), postgres $pgc ms/mail, machine $busy cores busy"
  record "{\"step\":\"$STEP\",\"kind\":\"sustained\",\"label\":\"$label\",\"db\":\"$db\",\"concurrency\":$conc,\"count\":$n,\"intake_per_s\":$(jnum "$intake"),\"e2e_per_s\":$e2e,\"db_span_per_s\":$span,\"daemon_cpu_ms\":$cpu,\"daemon_cores\":$dcores,\"pg_cpu_ms\":$pgc,\"machine_busy_cores\":$busy,\"wait\":$waitj}"
}

step_b() {
  local n=${B_COUNT:-2500} nc=${B_CLIENT_COUNT:-2000} conc rate secs=${B_LAT_SECONDS:-60} w sent lat
  fresh_db mailroom_bench_b
  wait_low_load b
  local note=$LOAD_NOTE
  for conc in ${B_CONCURRENCY:-$CONC}; do
    redis_flush "$RDB"
    start_mailroom mr "$P_MR_FULL" mailroom_bench_b "$RDB" "$conc"
    # warm-up (V8 JIT, pools): 1000 mails, wait until processed
    w=$(node bench/db-tool.mjs watermark "$PGBASE/mailroom_bench_b")
    load_once "$P_MR_FULL" 1000 5k "${PIDS[mr]}" >/dev/null
    node bench/db-tool.mjs wait "$PGBASE/mailroom_bench_b" "$w" 1000 300 "${PIDS[mr]}" >/dev/null || log "b: warm-up not finished"
    b_sustained mr mailroom_bench_b "$n" "$conc" "b sustained, smtp-source 5 KB (one sender), worker concurrency $conc"
    # the same with distinct senders (smtp-source sends every mail from one address, and all of
    # them then wait for that one contact row's lock): our client, 5 KB prose, new customers
    w=$(node bench/db-tool.mjs watermark "$PGBASE/mailroom_bench_b")
    node bench/smtp-client.mjs --port "$P_MR_FULL" --count 300 --tag "bw$conc$$" --timeout 120 >/dev/null 2>>"$RUN/client.log" || log "b: warm-up client failed"
    node bench/db-tool.mjs wait "$PGBASE/mailroom_bench_b" "$w" 300 300 "${PIDS[mr]}" >/dev/null || log "b: warm-up not finished"
    b_sustained mr mailroom_bench_b "$nc" "$conc" "b sustained, smtp-client.mjs 5 KB prose (distinct senders), worker concurrency $conc" --tag "bc$conc$$"
    stop_proc mr
  done
  # Two daemons on the same PostgreSQL and Redis (the README's way to use more cores): intake on
  # one, processing shared by both through the queue. Distinct senders, as above.
  conc=${B_LAT_CONCURRENCY:-$CONC}
  redis_flush "$RDB"
  start_mailroom mr "$P_MR_FULL" mailroom_bench_b "$RDB" "$conc"
  start_mailroom mr2 "$P_MR_SECOND" mailroom_bench_b "$RDB" "$conc"
  w=$(node bench/db-tool.mjs watermark "$PGBASE/mailroom_bench_b")
  node bench/smtp-client.mjs --port "$P_MR_FULL" --count 300 --tag "bw2x$$" --timeout 120 >/dev/null 2>>"$RUN/client.log" || log "b: warm-up client failed"
  node bench/db-tool.mjs wait "$PGBASE/mailroom_bench_b" "$w" 300 300 "${PIDS[mr]}" >/dev/null || log "b: warm-up not finished"
  B_EXTRA_INSTANCE=mr2 b_sustained mr mailroom_bench_b "$nc" "$conc" "b sustained, smtp-client.mjs 5 KB prose (distinct senders), two daemons, worker concurrency $conc each" --tag "bc2x$$"
  stop_proc mr2
  stop_proc mr
  # latency: our paced client (distinct senders, unique Message-IDs, 5 KB prose), default concurrency
  redis_flush "$RDB"
  conc=${B_LAT_CONCURRENCY:-$CONC}
  start_mailroom mr "$P_MR_FULL" mailroom_bench_b "$RDB" "$conc"
  w=$(node bench/db-tool.mjs watermark "$PGBASE/mailroom_bench_b")
  node bench/smtp-client.mjs --port "$P_MR_FULL" --count 500 --tag "warm$$" --timeout 120 >/dev/null 2>>"$RUN/client.log" || log "b: warm-up client failed"
  node bench/db-tool.mjs wait "$PGBASE/mailroom_bench_b" "$w" 500 300 "${PIDS[mr]}" >/dev/null || log "b: warm-up not finished"
  for rate in ${B_LAT_RATES:-100 30}; do
    wait_low_load "b latency $rate/s"
    w=$(node bench/db-tool.mjs watermark "$PGBASE/mailroom_bench_b")
    checkpoint
    sent=$(node bench/smtp-client.mjs --port "$P_MR_FULL" --rate "$rate" --duration "$secs" --sessions 20 --tag "lat$rate-$$" --timeout $((secs + 120)) 2>>"$RUN/client.log" | tail -n1)
    local count; count=$(sed -n 's/.*"sent":\([0-9]*\).*/\1/p' <<<"$sent")
    node bench/db-tool.mjs wait "$PGBASE/mailroom_bench_b" "$w" "${count:-0}" 600 "${PIDS[mr]}" >/dev/null || log "b latency $rate/s: not all processed"
    lat=$(node bench/db-tool.mjs latency "$PGBASE/mailroom_bench_b" "$w")
    log "b latency at $rate mails/s: client $sent; $lat"
    record "{\"step\":\"b\",\"kind\":\"latency\",\"load\":\"${LOAD_NOTE//\"/}\",\"rate\":$rate,\"seconds\":$secs,\"concurrency\":$conc,\"client\":$sent,\"latency\":$lat}"
  done
  stop_proc mr
  drop_db mailroom_bench_b
  out "## b. End to end (real mode: PostgreSQL + BullMQ, full daemon)"
  out ""
  out "$note. Sustained: $n × 5 KB by \`SMTP_LOAD_REUSE=1 ../shared/bench/smtp-load.sh 2732 $n 20 5k\` after a 1000-mail warm-up (every mail from sender@bench.example.test), then $nc × 5 KB of prose from distinct new customers by \`node bench/smtp-client.mjs --port 2732 --count $nc --sessions 20\` after 300 to warm up; time from the client's start until every spool row is finished and every inbound article is stored (\`node bench/db-tool.mjs wait\`, polled every 100 ms). CPU: the daemon process's utime+stime, and the sum over all postgres processes, per mail, over that interval."
  out "Latency: \`node bench/smtp-client.mjs --port 2732 --rate R --duration $secs --sessions 20\` (5 KB prose, distinct senders, unique Message-IDs) after a 500-mail warm-up; per mail \`articles.created_at − inbound_messages.received_at\` (\`node bench/db-tool.mjs latency\`)."
  out ""
  node bench/report.mjs b "$RECORDS" >>"$RESULTS"
}

# ================================================================== c. memory
step_c() {
  local big=$WORK/big-25m.eml i rep r idle peak pgsum t0 t1 w waitj done_ms
  [ -s "$big" ] || node "$WORK/shared/gen-big-message.mjs" "$big" 25 >&2
  # ten copies that differ only in their Message-ID, so mailroom stores ten articles (it would
  # otherwise drop nine as re-deliveries of the first); the attachment bytes are the same
  for i in $(seq 0 9); do
    [ -s "$WORK/big-25m-$i.eml" ] || sed "0,/^Message-ID: .*/s//Message-ID: <big-25mib-$i@bench.example.test>/" "$big" >"$WORK/big-25m-$i.eml"
  done
  drop_db "$DB_BASE"; psqlq postgres -c "create database $DB_BASE" >/dev/null
  wait_low_load c
  send_ten() {  # PORT: ten smtp-source processes at once, one 25 MiB message each
    local port=$1 pids=() k rc=0
    for k in $(seq 0 9); do
      timeout --kill-after=5 300 smtp-source -4 -s 1 -m 1 -M bench.example.test -f sender@bench.example.test \
        -t rcpt@bench.example.test -F "$WORK/big-25m-$k.eml" "127.0.0.1:$port" >>"$RUN/smtp-load.log" 2>&1 &
      pids+=($!)
    done
    for k in "${pids[@]}"; do wait "$k" || rc=1; done
    return $rc
  }
  send_one_source() {  # PORT: the shared README's way: one smtp-source, ten sessions, the same file ten times
    SMTP_LOAD_FILE="$WORK/big-25m.eml" SMTP_LOAD_TIMEOUT=300 bash "$SMTP_LOAD" "$1" 10 10 0 >>"$RUN/smtp-load.log" 2>&1
  }
  sample_rss() {  # PID OUT: VmRSS every 50 ms (pure bash: no fork per sample) until the process ends
    local pid=$1 k v _
    while [ -r "/proc/$pid/status" ]; do
      while read -r k v _; do [ "$k" = VmRSS: ] && { printf '%s %s\n' "${EPOCHREALTIME/./}" "$v"; break; }; done <"/proc/$pid/status" 2>/dev/null || break
      sleep 0.05
    done >"$2"
  }
  local sampler
  for rep in $(seq 1 "${C_REPS:-3}"); do
    for r in sink pg-raw pg-raw-1src mailroom; do
      local port ok=true
      case $r in
        sink) port=$P_SINK; start_proc sink "$port" node "$WORK/shared/sink-smtp-server.mjs" "$port" ;;
        pg-raw-1src) port=$P_PGRAW; psqlq "$DB_BASE" -c 'drop table if exists inbound_bench' >/dev/null; checkpoint
                DATABASE_URL=$PGBASE/$DB_BASE start_proc pg-raw-1src "$port" node "$WORK/shared/pg-smtp-server.mjs" "$port" raw ;;
        pg-raw) port=$P_PGRAW; psqlq "$DB_BASE" -c 'drop table if exists inbound_bench' >/dev/null; checkpoint
                DATABASE_URL=$PGBASE/$DB_BASE start_proc pg-raw "$port" node "$WORK/shared/pg-smtp-server.mjs" "$port" raw ;;
        mailroom) port=$P_MR_FULL; fresh_db mailroom_bench_c; redis_flush "$RDB"; checkpoint
                  # 32 MiB: the 25 MiB file grows by its CRLF line ends on the wire (26.5 MB), over the 25 MiB default
                  start_mailroom mailroom "$port" mailroom_bench_c "$RDB" "$CONC" MAILROOM_MAX_MESSAGE_BYTES=33554432 ;;
      esac
      sleep 2
      idle=$(vm_kib "${PIDS[$r]}" VmRSS)
      [ "$r" = mailroom ] && w=$(node bench/db-tool.mjs watermark "$PGBASE/mailroom_bench_c")
      sample_rss "${PIDS[$r]}" "$RUN/rss-$r-$rep.txt" & sampler=$!
      t0=$(now_ms)
      if [ "$r" = pg-raw-1src ]; then send_one_source "$port" || { ok=false; log "c: the send to $r failed"; }
      else send_ten "$port" || { ok=false; log "c: a send to $r failed"; }; fi
      t1=$(now_ms)
      done_ms=$t1
      if [ "$r" = mailroom ]; then
        if waitj=$(node bench/db-tool.mjs wait "$PGBASE/mailroom_bench_c" "$w" 10 300 "${PIDS[mailroom]}"); then
          done_ms=$(sed -n 's/.*"seen_ms":\([0-9]*\).*/\1/p' <<<"$waitj")
        else ok=false; log "c: mailroom did not process the ten: $waitj"; fi
      fi
      peak=$(vm_kib "${PIDS[$r]}" VmHWM)
      kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true
      # the largest sampled RSS while the ten were arriving, and after the last 250 (processing)
      local rss_in rss_after
      read -r rss_in rss_after < <(awk -v t1="$t1" '{ if ($1 / 1000 <= t1) { if ($2 > a) a = $2 } else if ($2 > b) b = $2 } END { print a + 0, b + 0 }' "$RUN/rss-$r-$rep.txt")
      pgsum=0
      if [ "$r" != sink ]; then
        local app=postgres.js p h; [ "$r" = mailroom ] && app=mailroom
        for p in $(psqlq postgres -c "select pid from pg_stat_activity where application_name = '$app' and datname in ('$DB_BASE', 'mailroom_bench_c')"); do
          h=$(vm_kib "$p" VmHWM); pgsum=$((pgsum + ${h:-0}))
        done
      fi
      stop_proc "$r"
      log "c rep $rep $r: idle $((idle / 1024)) MiB, peak $((peak / 1024)) MiB, stored in $(( (t1 - t0) ))ms, done in $(( done_ms - t0 )) ms"
      record "{\"step\":\"c\",\"rep\":$rep,\"receiver\":\"$r\",\"ok\":$ok,\"idle_kib\":$idle,\"peak_kib\":$peak,\"sampled_peak_arriving_kib\":$rss_in,\"sampled_peak_after_kib\":$rss_after,\"pg_backends_peak_sum_kib\":$pgsum,\"accepted_ms\":$((t1 - t0)),\"done_ms\":$((done_ms - t0))}"
    done
  done
  # where one 25 MiB message's memory goes in mailroom, step by step (bench/mem-probe.ts)
  fresh_db mailroom_bench_c
  local probe
  if probe=$(timeout 120 node --expose-gc --import tsx bench/mem-probe.ts "$PGBASE/mailroom_bench_c" "$WORK/big-25m-0.eml" "$WORK/rules.yaml" 2>>"$RUN/mem-probe.log" | tail -n1); then
    log "c: mem-probe: $probe"; record "{\"step\":\"c\",\"kind\":\"probe\",\"probe\":$probe}"
  else log "c: mem-probe failed (see $RUN/mem-probe.log)"; fi
  local irss; irss=$(timeout 60 node bench/import-rss.mjs 2>>"$RUN/mem-probe.log" | tail -n1) && record "{\"step\":\"c\",\"kind\":\"import-rss\",\"rss_mib\":$irss}"
  drop_db mailroom_bench_c; drop_db "$DB_BASE"
  out "## c. Memory: ten ~25 MiB messages at once (median of ${C_REPS:-3}, fresh process each)"
  out ""
  out "$LOAD_NOTE. Ten \`smtp-source -s 1 -m 1 -F big-25m-K.eml\` at once (the file of \`gen-big-message.mjs OUT 25\`, 26,214,400 bytes with LF, 26.5 MB on the wire; the ten copies differ only in Message-ID). Peak = VmHWM of the receiver process after all ten are stored (baselines: their 250s) / processed (mailroom: spool rows finished, articles stored). mailroom: full daemon, real mode, MAILROOM_MAX_MESSAGE_BYTES=33554432."
  out ""
  node bench/report.mjs c "$RECORDS" >>"$RESULTS"
}

# ================================================================== d. parsers
step_d() {
  wait_low_load d
  local core=$(( $(nproc) - 1 )) line
  PARSERS_ROUND_S=${PARSERS_ROUND_S:-2} timeout 240 taskset -c "$core" npx --no-install tsx bench/parsers-bench.ts \
    "$ROOT/../shared/corpus/bounces/maildir" "$ROOT/../shared/corpus/replies" >"$RUN/parsers.jsonl" 2>>"$RUN/parsers.log" || die "parsers bench failed"
  while read -r line; do log "d: $line"; record "{\"step\":\"d\",\"data\":$line}"; done <"$RUN/parsers.jsonl"
  out "## d. Parsers (one node process pinned to one core: \`taskset -c $core npx tsx bench/parsers-bench.ts\`)"
  out ""
  out "$LOAD_NOTE. 2 warm-up passes, then 3 rounds of whole passes of at least ${PARSERS_ROUND_S:-2} s; median round."
  out ""
  node bench/report.mjs d "$RECORDS" >>"$RESULTS"
}

# ================================================================== e. growth
step_e() {
  local articles=${E_ARTICLES:-1000000} n=${E_COUNT:-1500} rep db t0 seeded=mailroom_bench_e_seeded
  if [ "${E_KEEP_SEED:-0}" = 1 ] && db_exists $seeded && [ "$(psqlq $seeded -c 'select count(*) from articles where id <= '"$articles" 2>/dev/null)" = "$articles" ]; then
    log "e: reusing the seeded database $seeded (E_KEEP_SEED=1)"
    record "{\"step\":\"e\",\"kind\":\"seed\",\"articles\":$articles,\"seconds\":null,\"reused\":true}"
  else
    log "e: seeding $seeded with $articles articles"
    fresh_db $seeded
    t0=$SECONDS
    timeout 900 psql "$PGBASE/$seeded" -X -q -v ON_ERROR_STOP=1 -v articles="$articles" -f bench/seed.sql >"$RUN/seed.log" 2>&1 || die "seeding failed (see $RUN/seed.log)"
    log "e: seeded in $((SECONDS - t0)) s"
    record "{\"step\":\"e\",\"kind\":\"seed\",\"articles\":$articles,\"seconds\":$((SECONDS - t0)),\"db_size\":\"$(psqlq postgres -c "select pg_size_pretty(pg_database_size('$seeded'))")\"}"
  fi
  # replies to the seeded history go to tickets that are not closed (a reply to a closed ticket
  # opens a follow-up instead), so both databases see the same kind of work: half the mails
  # append to a stored ticket found by In-Reply-To, half open a new ticket
  node bench/db-tool.mjs reply-ids "$PGBASE/$seeded" 20000 "$RUN/reply-ids-seeded.txt" not-closed >/dev/null
  local ni=${E_INTAKE_COUNT:-2000}
  wait_low_load e
  for rep in $(seq 1 "${E_REPS:-3}"); do
    for db in empty seeded; do
      local dbname=mailroom_bench_e_empty w res replies
      [ $db = seeded ] && dbname=$seeded
      [ $db = empty ] && fresh_db mailroom_bench_e_empty
      # 1. intake alone: an intake-only instance takes $ni new mails; the rows are deleted afterwards
      redis_flush "$RDB"
      start_mailroom mri "$P_MR_FULL" "$dbname" "$RDB" 0 MAILROOM_SWEEP_INTERVAL_MS=600000
      local w0; w0=$(node bench/db-tool.mjs watermark "$PGBASE/$dbname")
      node bench/smtp-client.mjs --port "$P_MR_FULL" --count 500 --tag "ei$rep$db$$" --timeout 120 >/dev/null 2>>"$RUN/client.log" || log "e: intake warm-up failed"
      w=$(node bench/db-tool.mjs watermark "$PGBASE/$dbname")
      checkpoint
      local c0; c0=$(cpu_ticks "${PIDS[mri]}")
      res=$(node bench/smtp-client.mjs --port "$P_MR_FULL" --count "$ni" --sessions 20 --tag "eI$rep$db$$" --timeout 300 2>>"$RUN/client.log" | tail -n1)
      local icpu; icpu=$(awk -v c=$(( $(cpu_ticks "${PIDS[mri]}") - c0 )) -v hz="$HZ" -v n="$ni" 'BEGIN { printf "%.3f", c * 1000 / hz / n }')
      stop_proc mri
      log "e rep $rep $db intake-only: $res, $icpu ms CPU/msg"
      record "{\"step\":\"e\",\"kind\":\"intake\",\"rep\":$rep,\"db\":\"$db\",\"client\":$res,\"cpu_ms_per_msg\":$icpu}"
      psqlq "$dbname" -c "delete from inbound_messages where id > $w0" >/dev/null
      # 2. end to end: full daemon, 500 new mails to warm up, then $n mails, half of them replies
      redis_flush "$RDB"
      start_mailroom mr "$P_MR_FULL" "$dbname" "$RDB" "$CONC"
      w=$(node bench/db-tool.mjs watermark "$PGBASE/$dbname")
      node bench/smtp-client.mjs --port "$P_MR_FULL" --count 500 --tag "ew$rep$db$$" --timeout 120 >/dev/null 2>>"$RUN/client.log" || log "e: warm-up client failed"
      node bench/db-tool.mjs wait "$PGBASE/$dbname" "$w" 500 300 "${PIDS[mr]}" >/dev/null || log "e: warm-up not finished"
      replies=$RUN/reply-ids-seeded.txt
      if [ $db = empty ]; then  # the empty database's only tickets: those of the warm-up
        replies=$RUN/reply-ids-empty-$rep.txt
        # give the warm-up's tickets the seeded history's mix (bench/seed.sql, tickets that are not
        # closed: 25 % solved, 37.5 % pending, 37.5 % open; five categories; a third awaiting
        # details), so that a reply does the same work (reopening, rules, auto-replies) in both
        psqlq "$dbname" -c "update tickets set
            status = case when id % 8 = 0 then 'solved' when id % 8 <= 3 then 'pending' else 'open' end,
            category = (array['billing','technical','account','feature_request','other'])[1 + id % 5],
            tags = case when id % 3 = 0 then array['awaiting_details'] else '{}'::text[] end,
            fields = '{}'::jsonb, missing_fields = '{}', detail_requests = 0" >/dev/null
        node bench/db-tool.mjs reply-ids "$PGBASE/$dbname" 500 "$replies" not-closed >/dev/null
      fi
      w=$(node bench/db-tool.mjs watermark "$PGBASE/$dbname")
      b_sustained mr "$dbname" "$n" 4 "e rep $rep $db" --tag "e$rep$db$$" --replies "$replies" --seed $((rep * 13))
      record "{\"step\":\"e\",\"kind\":\"threading\",\"rep\":$rep,\"db\":\"$db\",\"threading\":$(node bench/db-tool.mjs threading "$PGBASE/$dbname" "$w")}"
      stop_proc mr
    done
  done
  drop_db mailroom_bench_e_empty
  [ "${E_KEEP_SEED:-0}" = 1 ] || drop_db $seeded
  out "## e. Growth: $articles articles stored vs an empty database (alternating, ${E_REPS:-3} repetitions)"
  out ""
  out "$LOAD_NOTE. Seed: \`psql -v articles=$articles -f bench/seed.sql\` on a migrated database (then VACUUM ANALYZE). Each repetition, for each database (the empty one re-created from the migrated template): (1) intake alone: an intake-only instance (workers 0) takes \`node bench/smtp-client.mjs --count $ni --sessions 20\` new mails after 500 to warm up (rows deleted afterwards); (2) end to end: the full daemon (concurrency $CONC), 500 new mails to warm up, then \`node bench/smtp-client.mjs --count $n --sessions 20 --replies FILE\`: half the mails are replies from the ticket's customer with In-Reply-To/References naming a stored customer Message-ID of a ticket that is not closed (seeded: a random one of the history; empty: one of the warm-up's, whose tickets are first given the seeded history's mix of status, category and tags), half are new customers."
  out ""
  node bench/report.mjs e "$RECORDS" >>"$RESULTS"
}

# ================================================================== profile (not in the default run)
step_profile() {
  wait_low_load profile
  local dir=$RUN/profiles w f
  mkdir -p "$dir/intake" "$dir/process"
  # 1. intake-only under smtp-source load (what target a measures)
  fresh_db mailroom_bench_prof; redis_flush "$RDB"
  BENCH_NODE_FLAGS="--cpu-prof --cpu-prof-dir=$dir/intake" start_mailroom prof "$P_MR_FULL" mailroom_bench_prof "$RDB" 0 MAILROOM_SWEEP_INTERVAL_MS=600000
  load_once "$P_MR_FULL" 2000 5k "${PIDS[prof]}" >/dev/null
  log "profile intake 10000 x 5k: $(load_once "$P_MR_FULL" 10000 5k "${PIDS[prof]}")"
  log "profile intake 3000 x 100k: $(load_once "$P_MR_FULL" 3000 100k "${PIDS[prof]}")"
  stop_proc prof
  # 2. the full daemon under b's load: 500 to warm up, then 3000 x 5 KB, profiled until all are processed
  fresh_db mailroom_bench_prof; redis_flush "$RDB"
  BENCH_NODE_FLAGS="--cpu-prof --cpu-prof-dir=$dir/process --import ./bench/count-writes.mjs" start_mailroom prof "$P_MR_FULL" mailroom_bench_prof "$RDB" "$CONC"
  load_once "$P_MR_FULL" 500 5k "${PIDS[prof]}" >/dev/null
  node bench/db-tool.mjs wait "$PGBASE/mailroom_bench_prof" 0 500 300 "${PIDS[prof]}" >/dev/null || log "profile: warm-up not finished"
  w=$(node bench/db-tool.mjs watermark "$PGBASE/mailroom_bench_prof")
  local t0; t0=$(now_ms)
  load_once "$P_MR_FULL" 3000 5k "${PIDS[prof]}" >/dev/null
  node bench/db-tool.mjs wait "$PGBASE/mailroom_bench_prof" "$w" 3000 600 "${PIDS[prof]}" >/dev/null || log "profile: not all processed"
  log "profile: 3000 x 5 KB received and processed in $(( $(now_ms) - t0 )) ms"
  local x0; x0=$(psqlq postgres -c "select xact_commit from pg_stat_database where datname = 'mailroom_bench_prof'")
  stop_proc prof
  local writes; writes=$(grep -o '{"socket_writes".*}' "$RUN/prof.log" | tail -n1)
  log "profile: socket writes of the full daemon (3500 mails + SMTP replies): $writes; PostgreSQL transactions committed in its database: $x0"
  record "{\"step\":\"profile\",\"mails\":3500,\"socket_writes\":${writes:-null},\"pg_xact_commit\":$(jnum "$x0")}"
  drop_db mailroom_bench_prof
  out "## profile. CPU profiles (\`node --cpu-prof\`, summarised by \`node bench/cpuprofile-top.mjs FILE\`)"
  out ""
  out "$LOAD_NOTE. Profiles: $dir/{intake,process}/*.cpuprofile (open in Chrome DevTools). intake: intake-only instance, 2000 + 10000 × 5 KB + 3000 × 100 KB by smtp-source. process: full daemon (concurrency $CONC), 500 + 3000 × 5 KB by smtp-source until all are processed."
  out ""
  out "Full daemon, per mail (3500 mails): $(node -e 'const fs=require("fs");const r=fs.readFileSync(process.argv[1],"utf8").trim().split("\n").map(JSON.parse).filter(x=>x.step==="profile").pop();if(!r||!r.socket_writes){console.log("n/a");process.exit()}const w=r.socket_writes.socket_writes||{};const f=(p)=>w[p]?`${(w[p].writes/r.mails).toFixed(1)} writes, ${(w[p].bytes/r.mails/1024).toFixed(1)} KiB`:"n/a";console.log(`to PostgreSQL (5432) ${f(5432)}; to Redis (6379) ${f(6379)}; PostgreSQL transactions committed ${(r.pg_xact_commit/r.mails).toFixed(1)}`)' "$RECORDS")."
  local kind
  for kind in intake process; do
    # the main thread's profile is the largest; tsx's loader thread writes a second, small one
    f=$(ls -S "$dir/$kind"/*.cpuprofile 2>/dev/null | head -n1)
    [ -n "$f" ] || continue
    out ""; out "### $(basename "$(dirname "$f")")"; out ""; out '```'
    node bench/cpuprofile-top.mjs "$f" 20 >>"$RESULTS"
    out '```'
  done
}

prepare_common
"step_$STEP"
printf '\n' >>"$RESULTS"
sed -n '/^## '"${STEP_TITLE[$STEP]%%.*}"'\./,$p' "$RESULTS" >&2
