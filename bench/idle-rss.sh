#!/bin/bash
# Idle RSS of an embedded-mode daemon (PGlite, in-process queue), first start and restart:
#   bash bench/idle-rss.sh            # from the checkout (tsx), as `npm start` runs it
#   ENTRY=dist/daemon/main.js bash bench/idle-rss.sh   # after `npm run build`, as the image runs it
set -euo pipefail
cd "$(dirname "$0")/.."
ENTRY=${ENTRY:-bin/mailroom.js}
DATA=$(mktemp -d)/data
run() {
  local label=$1 log="$DATA.$1.log" started pid
  started=$(date +%s%N)
  MAILROOM_DATA_DIR=$DATA MAILROOM_SMTP_PORT=0 MAILROOM_HTTP_PORT=0 MAILROOM_LOG_LEVEL=info node "$ENTRY" start >"$log" 2>&1 &
  pid=$!
  until grep -q app.started "$log" 2>/dev/null; do
    sleep 0.2
    kill -0 "$pid" 2>/dev/null || { echo "$label: the daemon died"; tail -3 "$log"; exit 1; }
  done
  echo "$label: started in $(( ($(date +%s%N) - started) / 1000000 )) ms"
  sleep 20 # idle: timers settled, nothing arriving
  echo "$label: $(grep -E 'VmRSS|VmHWM' /proc/$pid/status | tr -s ' \t\n' ' ')"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
run first
run restart
rm -rf "$(dirname "$DATA")"
