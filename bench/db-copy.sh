#!/usr/bin/env bash
# Times `procura db copy` of a SQLite store into fresh PostgreSQL databases (docs/scaling.md, "Moving a SQLite ledger"):
# an earlier build (BEFORE, its dist/src/cli/main.js) and this one, interleaved, ROUNDS rounds, each round also timing
# `procura ledger verify` of the file and of the copy (the copy runs both). Client CPU from /usr/bin/time; server CPU
# from /proc (the postmaster with its reaped backends, and its live children) of the local cluster in PGDATA.
#   node bench/make-copy-store.mjs /tmp/100k.db 100000
#   PGDATA=/path/to/data BEFORE=/path/to/old/dist/src/cli/main.js bench/db-copy.sh /tmp/100k.db postgres://postgres@127.0.0.1:5432
set -euo pipefail
store=$1 server=$2
after=${AFTER:-$(dirname "$0")/../dist/src/cli/main.js}
: "${BEFORE:?the earlier build's dist/src/cli/main.js}" "${PGDATA:?the server's data directory}"
srv_ticks() { local pm t; pm=$(head -1 "$PGDATA/postmaster.pid"); t=$(awk '{print $14+$15+$16+$17}' /proc/$pm/stat); for c in $(pgrep -P $pm); do t=$((t + $(awk '{print $14+$15}' /proc/$c/stat 2>/dev/null || echo 0))); done; echo $t; }
timed() { # label main.js args...
  local label=$1; shift
  local s0 s1 out wall user sys; s0=$(srv_ticks)
  out=$( { /usr/bin/time -f "%e %U %S" node "$@" >/dev/null; } 2>&1 | tail -1)
  s1=$(srv_ticks)
  read -r wall user sys <<<"$out"
  printf '%-7s wall %6.2f s  client CPU %5.2f s  server CPU %5.2f s  load %s\n' "$label" "$wall" "$(echo "$user + $sys" | bc)" "$(echo "scale=2; ($s1 - $s0)/100" | bc)" "$(cut -d' ' -f1 /proc/loadavg)"
}
fresh() { psql -q -o /dev/null "$server/postgres" -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1"; }
for r in $(seq 1 "${ROUNDS:-3}"); do
  fresh m_before_$r; timed before "$BEFORE" db copy --from "$store" --to "$server/m_before_$r"
  fresh m_after_$r; timed after "$after" db copy --from "$store" --to "$server/m_after_$r"
  timed vsrc "$after" ledger verify --db "$store"
  timed vtgt "$after" ledger verify --db "$server/m_after_$r"
done
