#!/usr/bin/env bash
# The store at scale, printed: rows per second into each backend (a transaction per boot, as
# runs write), bytes per million sample rows, and how long `coldmark compare` and
# `coldmark history` take over two tags of CASES cases x 3 sessions x 20 boots.
#
#   scripts/bench-store.sh [CASES]        CASES defaults to 1000 (the issue's figure)
#   scripts/bench-store.sh --fleet [RUNS [CASES [BOOTS [HRUNS [HCASES]]]]]
#       the session summary at a fleet's scale (issue 25): two tags of RUNS runs (one
#       session each; default 100) x CASES cases (1000) x BOOTS boots (20) x 3 phases, 12 M
#       rows, bulk-loaded, compared; and a store of HRUNS sessions (1000) x HCASES cases (100)
#       for one case's history. Each query from the session summary and --from-samples
#       (the raw rows, as before it), SQLite and PostgreSQL: a table of seconds and peak MiB.
#       FLEET_SQLITE=0 or FLEET_PG=0 leaves a backend out.
#
# PostgreSQL is a throw-away server (scripts/slurm-local.sh); its figures include a WAL flush
# per commit, as a shared store's would.
set -euo pipefail
cd "$(dirname "$0")/.."
measure() { # label rows backend how -- CMD...: one table row (seconds, peak MiB)
    local label=$1 rows=$2 backend=$3 how=$4 t
    shift 5
    /usr/bin/time -o "$work/time" -f '%e %M' "$@" >"$work/$label-$how.txt" 2>"$work/$label-$how.err" || true
    t=$(tail -1 "$work/time")
    printf '| %s | %s | %s | %s | %s | %s |\n' "$rows" "$backend" "$label" "$how" "${t% *}" \
        "$(( ${t#* } / 1024 ))"
}

fleet_queries() { # backend db-for-compare db-for-history rows hrows
    local backend=$1 db=$2 hdb=$3 rows=$4 hrows=$5 how src
    for how in summary raw; do
        src=(); if [ "$how" = raw ]; then src=(--from-samples); fi
        measure "compare bench-a bench-b" "$rows" "$backend" "$how" -- \
            "$bin" compare bench-a bench-b --db "$db" "${src[@]}"
        measure "history --case c0000" "$hrows" "$backend" "$how" -- \
            "$bin" history --db "$hdb" --case c0000 "${src[@]}"
    done
    for q in "compare bench-a bench-b" "history --case c0000"; do
        cmp -s "$work/$q-summary.txt" "$work/$q-raw.txt" ||
            echo "| | $backend | $q: summary and raw outputs DIFFER | | | |"
    done
}

if [ "${1:-}" = --fleet ]; then
    runs=${2:-100} cases=${3:-1000} boots=${4:-20} hruns=${5:-1000} hcases=${6:-100}
    cmake --preset default >/dev/null
    cmake --build --preset default -j"$(nproc)" >/dev/null
    bin=build/default/cli/coldmark
    work=$(mktemp -d /tmp/coldmark-bench-fleet.XXXXXX)
    chmod 755 "$work"
    trap 'scripts/slurm-local.sh stop "$work/pg" 2>/dev/null; rm -rf "$work"' EXIT
    rows=$((2 * runs * cases * boots * 3)) hrows=$((hruns * hcases * boots * 3))
    echo "host: $(uname -n), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
    echo "compare: 2 tags x $runs runs x $cases cases x $boots boots x 3 phases ($rows rows);"
    echo "history: $hruns sessions x $hcases cases x $boots boots x 3 phases ($hrows rows)"
    echo "| rows | backend | query | read from | seconds | peak MiB |"
    echo "|---|---|---|---|---|---|"
    if [ "${FLEET_SQLITE:-1}" = 1 ]; then
        build/default/tests/bench_summary "$work/cmp.db" 2 "$runs" "$cases" "$boots" >&2
        build/default/tests/bench_summary "$work/hist.db" 1 "$hruns" "$hcases" "$boots" >&2
        fleet_queries SQLite "$work/cmp.db" "$work/hist.db" "$rows" "$hrows"
        rm -f "$work"/*.db*
    fi
    [ "${FLEET_PG:-1}" = 1 ] || exit 0
    scripts/slurm-local.sh start --pg-only "$work/pg" >/dev/null 2>&1 ||
        { echo "PostgreSQL: could not start a server here"; exit 0; }
    # shellcheck disable=SC1091
    . "$work/pg/env"
    hist="$COLDMARK_DB&options=-csearch_path%3Dhist"
    psql -q -c 'CREATE SCHEMA hist' >/dev/null
    build/default/tests/bench_summary "$COLDMARK_DB" 2 "$runs" "$cases" "$boots" >&2
    build/default/tests/bench_summary "$hist" 1 "$hruns" "$hcases" "$boots" >&2
    psql -q -c 'VACUUM ANALYZE' >/dev/null
    fleet_queries PostgreSQL "$COLDMARK_DB" "$hist" "$rows" "$hrows"
    exit 0
fi

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
