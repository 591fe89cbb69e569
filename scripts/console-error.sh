#!/usr/bin/env bash
# How far the console marker source is from the port markers, on the same boots: the bundled
# guest's SERIAL variant prints a line on COM1 right after each port marker; per phase the
# gap port marker -> console line (its timing error, plus the guest's few instructions
# between the two writes), and the work phase measured by both. Prints; asserts nothing.
#   [ACCEL=tcg|kvm|both] scripts/console-error.sh [BOOTS]     default both, 20 boots
set -euo pipefail
cd "$(dirname "$0")/.."
boots=${1:-20}
case ${ACCEL:-both} in both) accels="tcg, kvm" ;; *) accels=$ACCEL ;; esac
cmake --preset default >/dev/null
cmake --build --preset default -j"$(nproc)" >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/m.yaml" <<YAML
guest: {bundled: guest-serial}
base_args: [-machine, pc, -display, none, -nodefaults, -no-reboot]
axes: {accel: [$accels]}
markers:
  console:
    - {name: con_real, match: "R"}
    - {name: con_long, match: "L"}
    - {name: con_done, match: "W"}
  end: con_done
phases:
  - {name: err_real, from: real_mode, to: con_real}
  - {name: err_long, from: long_mode, to: con_long}
  - {name: err_done, from: work_done, to: con_done}
  - {name: work_port, from: long_mode, to: work_done}
  - {name: work_console, from: con_long, to: con_done}
run: {boots: $boots, warmup: 1}
YAML
COLDMARK_GUEST_DIR=$PWD/build/default/guest build/default/cli/coldmark run "$work/m.yaml" \
    -o "$work/run" --db "$work/db" >/dev/null
python3 - "$work/run/summary.csv" <<'PY'
import csv, sys
print("console marker - port marker on the same boots (port: perf under KVM, debugcon under TCG)")
for r in csv.DictReader(open(sys.argv[1])):
    if r["phase"] == "total" or not r["median_ns"]:
        continue
    f = lambda k: float(r[k]) / 1000
    print(f"  {r['case']:12} {r['phase']:13} median {f('median_ns'):10.1f} µs  [p5 {f('p5_ns'):.1f}, p95 {f('p95_ns'):.1f}]  n={r['n']}")
PY
