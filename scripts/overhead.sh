#!/usr/bin/env bash
# coldmark's own cost, and its agreement with perf record. Prints figures; asserts nothing.
#   [ACCEL=tcg|kvm] scripts/overhead.sh [BOOTS]   default 10; root, KVM and perf for part 2
# 1. Wall time per boot of `coldmark run` (warm: --no-drop-caches) over the same qemu command
#    run bare, each boot timed alone; the cache drop is timed apart.
# 2. `perf record -k CLOCK_MONOTONIC -e kvm:kvm_pio` running over a coldmark run: the marker
#    deltas of each boot from both, and how far apart they are in µs.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10}
cmake --preset default >/dev/null && cmake --build --preset default -j"$(nproc)" >/dev/null
bin=$PWD/build/default/cli/coldmark
export COLDMARK_GUEST_DIR=$PWD/build/default/guest
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# ACCEL=tcg or kvm picks the accelerator; by default KVM where the perf source works
accel=${ACCEL:-}
if [ -z "$accel" ]; then
    accel=tcg
    doctor=$("$bin" doctor --no-probe 2>/dev/null || true)
    if grep -q "perf-kvm .*: available" <<<"$doctor"; then accel=kvm; fi
fi
cat >"$work/m.yaml" <<YAML
guest: {bundled: guest}
base_args: [-machine, pc, -display, none, -nodefaults, -no-reboot]
axes: {accel: [$accel]}
phases:
  - {name: mode_switch, from: real_mode, to: long_mode}
  - {name: work, from: long_mode, to: work_done}
run: {boots: $n, warmup: 0}
YAML
echo "host: $(uname -n) ($(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), accel=$accel, $n boots"

# --- 1. overhead per boot -------------------------------------------------------------------
mapfile -t argv < <("$bin" list "$work/m.yaml" --format json | python3 -c \
    'import json,sys; [print(a) for a in json.load(sys.stdin)["cases"][0]["argv"]]')
bare=()
for i in $(seq "$n"); do
    s=$(date +%s%N); "${argv[@]}" >/dev/null 2>&1 || true; e=$(date +%s%N)
    bare+=($(( (e - s) / 1000 )))
done
s=$(date +%s%N)
"$bin" run "$work/m.yaml" --no-drop-caches -o "$work/warm" --db "$work/x.db" >/dev/null 2>&1
e=$(date +%s%N)
cm_per_boot=$(( (e - s) / 1000 / n ))
drops=()
for i in $(seq 5); do
    s=$(date +%s%N); sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true; e=$(date +%s%N)
    drops+=($(( (e - s) / 1000 )))
done
med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
bm=$(med "${bare[@]}")
echo "bare qemu, median wall time per boot:          $((bm / 1000)) ms"
echo "coldmark run (incl. its start-up), per boot:    $((cm_per_boot / 1000)) ms"
python3 -c "print(f'ratio coldmark / bare qemu:                    {$cm_per_boot / $bm:.3f}')"
echo "cache drop (sync + drop_caches), median:        $(( $(med "${drops[@]}") / 1000 )) ms (not in the figures above)"

# --- 2. agreement with perf record ----------------------------------------------------------
if [ "$accel" != kvm ] || ! command -v perf >/dev/null; then
    echo "perf record agreement: skipped (needs KVM and the perf source on this host)"
    exit 0
fi
perf record -q -k CLOCK_MONOTONIC -a -e kvm:kvm_pio --filter 'port == 0xf4 && rw == 1' \
    -o "$work/perf.data" -- "$bin" run "$work/m.yaml" -o "$work/cold" --db "$work/x.db" >/dev/null 2>&1
perf script -i "$work/perf.data" -F pid,time,trace --ns 2>/dev/null >"$work/perf.txt"
python3 - "$work/cold/events.csv" "$work/perf.txt" <<'PY'
import csv, re, statistics, sys
ours = {}
for r in csv.DictReader(open(sys.argv[1])):
    if "@" not in r["event"] and r["port"] == "244":
        ours.setdefault(r["boot"], {})[int(r["value"])] = int(r["ts_ns"])
theirs = []
for line in open(sys.argv[2]):
    m = re.search(r"(\d+)\s+(\d+)\.(\d+):.*val 0x([0-9a-f]+)", line)
    if m:
        theirs.append((int(m.group(2)) * 10**9 + int(m.group(3).ljust(9, "0")[:9]), int(m.group(4), 16)))
diffs = []
for boot, ev in ours.items():
    for a, b in ((0x10, 0x20), (0x20, 0x30)):
        if a in ev and b in ev:
            pa = min((t for t, v in theirs if v == a), key=lambda t: abs(t - ev[a]))
            pb = min((t for t, v in theirs if v == b), key=lambda t: abs(t - ev[b]))
            diffs.append(abs((ev[b] - ev[a]) - (pb - pa)) / 1e3)
print(f"perf record vs coldmark, |marker delta difference| over {len(diffs)} phases: "
      f"median {statistics.median(diffs):.3f} µs, max {max(diffs):.3f} µs")
PY
