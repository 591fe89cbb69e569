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
#
# It stops only what it started, by the pids it recorded (pidfiles in DIR), never by name: a
# host may run a Slurm, a munged or a PostgreSQL of its own. Its munged listens on a socket
# in DIR and its Slurm daemons on free ports, so they do not meet another cluster either.
# Every wait is bounded in seconds. When something cannot start it says why, with the end of
# the log of the daemon that failed, and exits 77.
#
# Two knobs, for tests/test_scripts.c: SLURM_LOCAL_PREFLIGHT=0 skips the checks made before
# starting Slurm (the host name resolves, a cgroup filesystem on /sys/fs/cgroup), so that a
# test can reach the daemons' own failures and check that their logs are shown;
# SLURM_LOCAL_WAIT=SECONDS bounds the wait for the node (60 s) so that it gives up sooner.
set -uo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
SKIP=77
# the node registers within seconds; past this the start gives up (tests shorten it)
NODE_UP_S=${SLURM_LOCAL_WAIT:-60}

say() { echo "slurm-local: $*" >&2; }

# Is pid a live process named comm (a zombie, left for a parent that does not reap, is not;
# nor is a pid reused by another program)?
alive() {
    local pid=$1 comm=$2 stat
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$comm" ] || return 1
    stat=${stat##*) }
    [ "${stat%% *}" != Z ]
}

# Stops the process a pidfile names, if it is still the program comm: TERM, up to 5 s, KILL
# (all it holds is thrown away: a daemon stuck in a retry loop need not be waited for).
stop_pid() {
    local pidfile=$1 comm=$2 pid
    pid=$(head -n 1 "$pidfile" 2>/dev/null | tr -d ' ') || return 0
    alive "$pid" "$comm" || return 0
    kill "$pid" 2>/dev/null
    local end=$((SECONDS + 5))
    while alive "$pid" "$comm" && [ $SECONDS -lt $end ]; do sleep 0.2; done
    alive "$pid" "$comm" && kill -9 "$pid" 2>/dev/null
    return 0
}

# The lines of a daemon's log that say why it stopped, for the skip message (the log itself
# goes with DIR): its errors, each once (a retry loop repeats one with a new count), less
# what every start of Debian's Slurm here logs (the state files a first start lacks, the
# PMIx library and MailProg it is not given); else its last lines.
log_of() {
    local log=$1 lines
    [ -s "$log" ] || { echo "  (nothing in $log)"; return; }
    lines=$(grep -iE 'error|fatal' "$log" |
        grep -vE 'state file|Trying backup state|pmix|MPI: Cannot create context|MailProg' |
        awk '{ k = $0; sub(/^\[[^]]*\] /, "", k); gsub(/-?[0-9]+/, "#", k) } !seen[k]++' |
        tail -n 8)
    [ -n "$lines" ] || lines=$(tail -n 8 "$log")
    echo "$lines" | sed 's/^/  /'
}

# As the postgres user when we are root (PostgreSQL refuses to run as root), from / : its
# tools change to the working directory, and root's own may be closed to postgres.
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
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
    as_pg timeout 120 "$PGBIN/initdb" -D "$dir/data" -A trust -U postgres >"$1/initdb.log" 2>&1 ||
        { say "initdb failed:"; log_of "$1/initdb.log" >&2; return $SKIP; }
    echo started >"$1/pg.started"
    as_pg timeout 70 "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-k $dir -c listen_addresses= -c max_connections=50" start >/dev/null ||
        { say "the PostgreSQL server did not start within 60 s; its log ($dir/server.log):"
          log_of "$dir/server.log" >&2; return $SKIP; }
    timeout 30 "$PGBIN/createdb" -h "$dir" -U postgres coldmark || { say "createdb failed"; return $SKIP; }
    echo "export COLDMARK_DB='postgresql:///coldmark?host=$dir&user=postgres'" >>"$1/env"
    echo "export PGHOST='$dir' PGUSER=postgres PGDATABASE=coldmark" >>"$1/env"
}

# A munged of our own, on a socket in DIR (Slurm is pointed at it by AuthInfo).
start_munge() {
    local dir=$1/munge
    [ -r /etc/munge/munge.key ] || { say "no /etc/munge/munge.key (package munge)"; return $SKIP; }
    mkdir -p "$dir" && chown munge: "$dir" && chmod 755 "$dir"
    runuser -u munge -- test -x "$dir" ||
        { say "$1: the munge user cannot reach it (a parent folder is private)"; return $SKIP; }
    runuser -u munge -- timeout 10 munged --socket="$dir/munge.socket" \
        --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" \
        --seed-file="$dir/munged.seed" 2>"$dir/munged.err" ||
        { say "munged did not start: $(cat "$dir/munged.err")"; log_of "$dir/munged.log" >&2
          return $SKIP; }
}

# Why Slurm cannot run here, checked before anything starts (the causes that, found only in
# slurmd's log, used to read as "the node did not come up").
preflight_slurm() {
    local node fs
    node=$(hostname -s)
    if ! timeout 5 getent hosts "$node" >/dev/null; then
        say "the host name '$node' does not resolve (getent hosts $node found nothing);" \
            "slurmctld and slurmd need it: add '127.0.1.1 $node' to /etc/hosts"
        return $SKIP
    fi
    # as Slurm's cgroup autodetection reads it: cgroup2 there, or a tmpfs of v1 hierarchies
    fs=$(timeout 5 stat -f -c %T /sys/fs/cgroup 2>/dev/null) || fs=nothing
    case $fs in
    cgroup2fs) return 0 ;;
    tmpfs)
        case $(timeout 5 stat -f -c %T /sys/fs/cgroup/systemd 2>/dev/null) in
        cgroupfs | cgroup2fs) return 0 ;;
        esac
        say "no cgroup filesystem mounted on /sys/fs/cgroup (a tmpfs without cgroup" \
            "hierarchies in it); slurmd needs one: mount -t cgroup2 none /sys/fs/cgroup"
        ;;
    *)
        say "no cgroup filesystem mounted on /sys/fs/cgroup (it is $fs); slurmd needs" \
            "one: mount -t cgroup2 none /sys/fs/cgroup"
        ;;
    esac
    return $SKIP
}

# Is a TCP port on this host taken (something accepts on it)?
port_taken() {
    timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# Two free ports from 6817 on (Slurm's own) for slurmctld and slurmd.
free_ports() {
    local p
    for ((p = 6817; p < 6917; p += 2)); do
        port_taken "$p" || port_taken $((p + 1)) || { echo "$p $((p + 1))"; return 0; }
    done
    return 1
}

write_conf() {
    local dir=$1 munge_socket=$2 ports=$3 node
    node=$(hostname -s)
    mkdir -p "$dir/state" "$dir/spool"
    cat >"$dir/slurm.conf" <<CONF
ClusterName=coldmark-local
SlurmctldHost=$node
SlurmctldPort=${ports% *}
SlurmdPort=${ports#* }
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$munge_socket
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

# Starts a Slurm daemon (it forks into the background); on failure, says so with its log.
start_daemon() {
    local name=$1 dir=$2
    timeout 20 "$name" -f "$dir/slurm.conf" 2>"$dir/$name.err" && return 0
    say "$name did not start (exit $?)$( [ -s "$dir/$name.err" ] && echo ": $(cat "$dir/$name.err")")"
    say "the end of $name's log ($dir/$name.log):"
    log_of "$dir/$name.log" >&2
    return $SKIP
}

# Waits (at most NODE_UP_S) for the node to register; says which daemon died, with its log.
wait_node() {
    local dir=$1 end=$((SECONDS + NODE_UP_S)) d
    while [ $SECONDS -lt $end ]; do
        # sinfo blocks ~10 s when the controller's name does not resolve: not past the end
        if SLURM_CONF=$dir/slurm.conf timeout $((end - SECONDS < 5 ? end - SECONDS + 1 : 5)) \
            sinfo -h -o %T 2>/dev/null |
            grep -qE '^(idle|mixed|allocated)'; then
            return 0
        fi
        for d in slurmctld slurmd; do
            [ -f "$dir/$d.pid" ] || continue # written once it runs
            if ! alive "$(head -n 1 "$dir/$d.pid" 2>/dev/null)" "$d"; then
                say "$d exited while the node came up; the end of its log ($dir/$d.log):"
                log_of "$dir/$d.log" >&2
                return $SKIP
            fi
        done
        sleep 0.5
    done
    say "the node did not come up within ${NODE_UP_S} s; the end of slurmd's log:"
    log_of "$dir/slurmd.log" >&2
    say "and of slurmctld's:"
    log_of "$dir/slurmctld.log" >&2
    return $SKIP
}

start_slurm() {
    local dir=$1/slurm ports
    command -v slurmctld >/dev/null && command -v slurmd >/dev/null ||
        { say "no slurmctld/slurmd (package slurm-wlm)"; return $SKIP; }
    [ "$(id -u)" -eq 0 ] || { say "slurmd needs root here"; return $SKIP; }
    ports=$(free_ports) || { say "no two free TCP ports in 6817-6916 for slurmctld and slurmd"; return $SKIP; }
    start_munge "$1" || return $?
    write_conf "$dir" "$1/munge/munge.socket" "$ports"
    start_daemon slurmctld "$dir" || return $?
    start_daemon slurmd "$dir" || return $?
    echo "export SLURM_CONF='$dir/slurm.conf'" >>"$1/env"
    wait_node "$dir"
}

stop_all() {
    local dir=$1
    [ -d "$dir" ] || return 0
    if [ -f "$dir/slurm/slurm.conf" ]; then
        stop_pid "$dir/slurm/slurmctld.pid" slurmctld
        stop_pid "$dir/slurm/slurmd.pid" slurmd
    fi
    stop_pid "$dir/munge/munged.pid" munged
    if [ -f "$dir/pg.started" ]; then
        as_pg timeout 40 "$PGBIN/pg_ctl" -D "$dir/pg/data" -m fast -w -t 30 stop >/dev/null 2>&1
        stop_pid "$dir/pg/data/postmaster.pid" postgres # what pg_ctl could not stop
    fi
    rm -rf "$dir"
}

start_all() {
    local dir=$1 pg_only=$2
    mkdir -p "$dir" && : >"$dir/env"
    if [ "$pg_only" = 0 ] && [ "${SLURM_LOCAL_PREFLIGHT:-1}" != 0 ]; then
        preflight_slurm || return $?
    fi
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
