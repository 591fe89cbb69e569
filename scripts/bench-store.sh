#!/usr/bin/env bash
# The store at scale, printed: rows per second into each backend (a transaction per boot, as
# runs write), bytes per million sample rows, and how long `coldmark compare` and
# `coldmark history` take over two tags of CASES cases x 3 sessions x 20 boots.
#
#   scripts/bench-store.sh [CASES]        CASES defaults to 1000 (the issue's figure)
#
# PostgreSQL is a throw-away server (scripts/slurm-local.sh); its figures include a WAL flush
# per commit, as a shared store's would.
set -euo pipefail
cd "$(dirname "$0")/.."
cases=${1:-1000}
sessions=3 boots=20
cmake --preset default >/dev/null
cmake --build --preset default -j"$(nproc)" >/dev/null
bin=build/default/cli/coldmark
work=$(mktemp -d /tmp/coldmark-bench-store.XXXXXX)
chmod 755 "$work" # the server runs as the postgres user, in a folder inside it
trap 'scripts/slurm-local.sh stop "$work/pg" 2>/dev/null; rm -rf "$work"' EXIT
echo "host: $(uname -n), $(nproc) cores; $cases cases x $sessions sessions x $boots boots x 2 tags"

ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

queries() { # the user's view: a compare of the two tags, the history of one case
    local db=$1 t
    t=$(date +%s%N)
    "$bin" compare bench-a bench-b --db "$db" >"$work/compare.txt" 2>&1 || true
    echo "  compare bench-a bench-b: $(ms "$t") ms ($(grep -c ' sessions 3+3 ' "$work/compare.txt") rows, sessions as the unit)"
    t=$(date +%s%N)
    "$bin" history --db "$db" --case c0000 >"$work/history.txt" 2>&1 || true
    echo "  history --case c0000: $(ms "$t") ms"
    t=$(date +%s%N)
    "$bin" history --db "$db" >"$work/history-all.txt" 2>&1 || true
    echo "  history (every case): $(ms "$t") ms"
}

build/default/tests/bench_store "$work/bench.db" "$cases" "$sessions" "$boots"
queries "$work/bench.db"

scripts/slurm-local.sh start --pg-only "$work/pg" >/dev/null 2>&1 || { echo "PostgreSQL: could not start a server here"; exit 0; }
# shellcheck disable=SC1091
. "$work/pg/env"
build/default/tests/bench_store "$COLDMARK_DB" "$cases" "$sessions" "$boots"
queries "$COLDMARK_DB"
