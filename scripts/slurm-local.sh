#!/usr/bin/env bash
# A throw-away fleet on this machine: a single-node Slurm cluster (Debian's slurm-wlm and
# munge, its configuration in a temp dir) and a PostgreSQL 15 server (Debian's postgresql,
# initdb in a temp dir, owned by the postgres user, on a Unix socket only). For the tests and
# to try the fleet flow of README.md without a cluster.
#
#   scripts/slurm-local.sh run [--pg-only] -- CMD ARGS...
#       starts them, runs CMD with SLURM_CONF and COLDMARK_DB set, stops them (whatever CMD
#       did), exits with CMD's status; 77 when they cannot start here (CTest: skipped)
#   scripts/slurm-local.sh start [--pg-only] DIR     starts them, writes DIR/env to source
#   scripts/slurm-local.sh stop DIR                  stops what start started, removes DIR
set -uo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
SKIP=77

say() { echo "slurm-local: $*" >&2; }

# Is pid a live process (a zombie, left for a parent that does not reap, is not)?
alive() {
    local state
    state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ]
}

# Does a live process of that name run?
running() {
    local pid
    for pid in $(pgrep -x "$1"); do alive "$pid" && return 0; done
    return 1
}

# As the postgres user when we are root (PostgreSQL refuses to run as root).
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_pg() {
    local dir=$1/pg
    [ -x "$PGBIN/initdb" ] || { say "no $PGBIN/initdb (package postgresql)"; return $SKIP; }
    mkdir -p "$dir" && chmod 755 "$1"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$dir"
        runuser -u postgres -- test -x "$dir" ||
            { say "$1: the postgres user cannot reach it (a parent folder is private)"; return $SKIP; }
    fi
    as_pg "$PGBIN/initdb" -D "$dir/data" -A trust -U postgres >"$1/initdb.log" 2>&1 ||
        { say "initdb failed: $(tail -n 3 "$1/initdb.log")"; return $SKIP; }
    as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-k $dir -c listen_addresses= -c max_connections=50" start >/dev/null ||
        { say "the PostgreSQL server did not start: $(tail -n 3 "$dir/server.log")"; return $SKIP; }
    echo started >"$1/pg.started"
    "$PGBIN/createdb" -h "$dir" -U postgres coldmark || { say "createdb failed"; return $SKIP; }
    echo "export COLDMARK_DB='postgresql:///coldmark?host=$dir&user=postgres'" >>"$1/env"
    echo "export PGHOST='$dir' PGUSER=postgres PGDATABASE=coldmark" >>"$1/env"
}

start_munge() {
    if running munged; then return 0; fi
    [ -r /etc/munge/munge.key ] || { say "no /etc/munge/munge.key (package munge)"; return $SKIP; }
    mkdir -p /run/munge && chown munge: /run/munge && chmod 755 /run/munge
    runuser -u munge -- /usr/sbin/munged || { say "munged did not start"; return $SKIP; }
    echo started >"$1/munge.started"
}

write_conf() {
    local dir=$1 node
    node=$(hostname -s)
    mkdir -p "$dir/state" "$dir/spool"
    cat >"$dir/slurm.conf" <<CONF
ClusterName=coldmark-local
SlurmctldHost=$node
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/linear
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
NodeName=$node CPUs=$(nproc) State=UNKNOWN
PartitionName=local Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
}

start_slurm() {
    local dir=$1/slurm
    command -v slurmctld >/dev/null && command -v slurmd >/dev/null ||
        { say "no slurmctld/slurmd (package slurm-wlm)"; return $SKIP; }
    [ "$(id -u)" -eq 0 ] || { say "slurmd needs root here"; return $SKIP; }
    if running slurmctld || running slurmd; then
        say "a Slurm daemon runs already on this host: not starting a second cluster"
        return $SKIP
    fi
    start_munge "$1" || return $?
    write_conf "$dir"
    slurmctld -f "$dir/slurm.conf" || { say "slurmctld did not start"; return $SKIP; }
    slurmd -f "$dir/slurm.conf" || { say "slurmd did not start"; return $SKIP; }
    echo "export SLURM_CONF='$dir/slurm.conf'" >>"$1/env"
    local i
    for i in $(seq 1 60); do # the node registers within seconds
        if SLURM_CONF=$dir/slurm.conf sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
            return 0
        fi
        sleep 0.5
    done
    say "the node did not come up: $(tail -n 3 "$dir/slurmctld.log" 2>/dev/null)"
    return $SKIP
}

stop_all() {
    local dir=$1
    [ -d "$dir" ] || return 0
    if [ -f "$dir/slurm/slurm.conf" ]; then
        SLURM_CONF=$dir/slurm/slurm.conf scontrol shutdown >/dev/null 2>&1
        for f in slurmctld slurmd; do
            local pid
            pid=$(cat "$dir/slurm/$f.pid" 2>/dev/null) || continue
            for _ in $(seq 1 40); do alive "$pid" || break; sleep 0.25; done
            kill -9 "$pid" 2>/dev/null
        done
    fi
    if [ -f "$dir/munge.started" ]; then pkill -x munged; fi
    if [ -f "$dir/pg.started" ]; then
        as_pg "$PGBIN/pg_ctl" -D "$dir/pg/data" -m fast -w stop >/dev/null 2>&1
    fi
    rm -rf "$dir"
}

start_all() {
    local dir=$1 pg_only=$2
    mkdir -p "$dir" && : >"$dir/env"
    start_pg "$dir" || return $?
    if [ "$pg_only" = 0 ]; then start_slurm "$dir" || return $?; fi
    return 0
}

cmd=${1:-}
shift || true
pg_only=0
if [ "${1:-}" = --pg-only ]; then pg_only=1; shift; fi
case $cmd in
start)
    [ $# -eq 1 ] || { say "usage: start [--pg-only] DIR"; exit 2; }
    start_all "$1" "$pg_only" || { rc=$?; stop_all "$1"; exit $rc; }
    say "up: . $1/env"
    ;;
stop)
    [ $# -eq 1 ] || { say "usage: stop DIR"; exit 2; }
    stop_all "$1"
    ;;
run)
    [ "${1:-}" = -- ] && shift
    [ $# -ge 1 ] || { say "usage: run [--pg-only] -- CMD ARGS..."; exit 2; }
    dir=$(mktemp -d /tmp/coldmark-fleet.XXXXXX)
    trap 'stop_all "$dir"' EXIT
    trap 'exit 130' INT TERM HUP
    start_all "$dir" "$pg_only" || exit $?
    # shellcheck disable=SC1091
    . "$dir/env"
    "$@"
    exit $?
    ;;
*)
    say "usage: slurm-local.sh run|start|stop ... (see the head of this script)"
    exit 2
    ;;
esac
