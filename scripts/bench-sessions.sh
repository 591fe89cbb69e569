#!/usr/bin/env bash
# The session level of the statistics: simulation figures (false positives, power, change
# points; tests/bench_sessions.c, seeded), then on this host (--host): three pairs of unchanged
# 3-session tags of the demo's TCG cases, and a real firmware slowdown (SeaBIOS's boot menu,
# -boot menu=on) against them. Prints figures and exit statuses; asserts nothing.
# --hosts: the sick-host flag's table alone (design x effect, TRIALS fleets a cell).
#   scripts/bench-sessions.sh [--host | --hosts] [TRIALS]
set -euo pipefail
cd "$(dirname "$0")/.."
host=false part=
[ "${1:-}" = --host ] && { host=true; shift; }
[ "${1:-}" = --hosts ] && { part=hosts; shift; }
trials=${1:-2000}
cmake --preset default >/dev/null
cmake --build --preset default -j"$(nproc)" >/dev/null
bin=build/default/cli/coldmark
echo "== simulation (seeded, $trials comparisons per figure)"
build/default/tests/bench_sessions "$trials" $part
$host || exit 0

echo
echo "== this host: $(uname -n), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export COLDMARK_GUEST_DIR=$PWD/build/default/guest
matrix() { # NAME EXTRA-BASE-ARGS
	cat >"$work/$1.yaml" <<YAML
guest: {bundled: guest}
base_args: [-machine, pc, -display, none, -nodefaults, -no-reboot$2]
axes: {memory: [128M, 512M], accel: [tcg]}
phases:
  - {name: firmware, from: exec, to: real_mode}
  - {name: work, from: long_mode, to: work_done}
run: {boots: 6, warmup: 1}
YAML
}
matrix same ""
matrix menu ", -boot, menu=on"
for t in u1 u2 u3 u4 u5 u6; do
	"$bin" run "$work/same.yaml" --sessions 3 --tag "$t" -o "$work/$t" --db "$work/h.db" >/dev/null 2>&1
done
"$bin" run "$work/menu.yaml" --sessions 3 --tag menu -o "$work/menu" --db "$work/h.db" >/dev/null 2>&1
for pair in "u1 u2" "u3 u4" "u5 u6" "u1 menu"; do
	set -- $pair
	rc=0
	out=$("$bin" compare "$1" "$2" --db "$work/h.db" --fail-on firmware,total 2>&1) || rc=$?
	echo "-- compare $1 $2 (3 sessions a side): exit $rc"
	echo "$out" | grep -E "^(case|memory|reference)" | grep -E "(phase| firmware | total )" | cut -c1-176
done
