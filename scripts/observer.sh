#!/usr/bin/env bash
# The observer effect: does coldmark move what it measures, and what does a run cost beyond
# its boots? Prints figures; asserts nothing (shared hosts are noisy: read medians and CIs).
#   scripts/observer.sh [PAIRS] [profile]  (default 5 alternations of each comparison;
#                                           "profile": section 6 alone)
# 1. wall time of a 20-boot TCG run over the same 20 boots run bare (start-up cached)
# 2. perf capture attached or not: the same boots' phases, measured by debugcon both ways (KVM)
# 3. the first-entry event: disabled at its hit (now) or at the next 10 ms drain (before) (KVM)
# 4. what debugcon and the console capture add to qemu's start-up, seen by perf (KVM)
# 5. coldmark's stamp of each marker against a concurrent `perf record` of the same hits (KVM)
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=${1:-5}
only=${2:-}
bash scripts/setup-deps.sh >/dev/null
cmake --preset default >/dev/null
cmake --build --preset default -j"$(nproc)" >/dev/null
bin=$PWD/build/default/cli/coldmark
guest=$PWD/build/default/guest/guest.img
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export COLDMARK_GUEST_DIR=$PWD/build/default/guest COLDMARK_CACHE_DIR=$work/cache
echo "host: $(uname -n), $(nproc) cores,$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2), $(date -u +%F)"
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

matrix() { # NAME ACCEL BOOTS [EXTRA YAML]
	cat >"$work/$1.yaml" <<YAML
guest: {bundled: guest}
base_args: [-machine, pc, -display, none, -nodefaults, -no-reboot, -accel, $2]
phases:
  - {name: firmware, from: exec, to: real_mode}
  - {name: mode_switch, from: real_mode, to: long_mode}
  - {name: work, from: long_mode, to: work_done}
  - {name: markers, from: real_mode, to: work_done}
run: {boots: $3, warmup: 0, drop_caches: false, reference: none}
${4:-}
YAML
}

if [ "$only" != profile ]; then
echo
echo "== 1. wall time of a run over its bare boots (TCG, 20 boots, warm page cache)"
matrix wall tcg 20
"$bin" run "$work/wall.yaml" -o "$work/warm" --db "$work/w.db" -n 1 >/dev/null # fills the cache
bare() {
	for _ in $(seq 20); do
		qemu-system-x86_64 -machine pc -display none -nodefaults -no-reboot -accel tcg \
			-drive "file=$guest,format=raw,if=ide,snapshot=on" \
			-device isa-debug-exit,iobase=0x501,iosize=2 >/dev/null 2>&1 || true
	done
}
ratios=()
for p in $(seq "$pairs"); do
	t=$(date +%s%N); bare; b=$(ms "$t")
	t=$(date +%s%N); "$bin" run "$work/wall.yaml" -o "$work/wall$p" --db "$work/w.db" >/dev/null; c=$(ms "$t")
	ratios+=("$(python3 -c "print(f'{$c/$b:.3f}')")")
	echo "  pair $p: bare $b ms, coldmark run $c ms, ratio ${ratios[-1]}"
done
python3 - "$work" "$pairs" "${ratios[@]}" <<'PY'
import csv, statistics, sys
work, pairs, ratios = sys.argv[1], int(sys.argv[2]), [float(r) for r in sys.argv[3:]]
gaps = []
for p in range(1, pairs + 1):
    by = {}
    for r in csv.DictReader(open(f"{work}/wall{p}/events.csv")):
        by.setdefault(int(r["boot"]), {})[r["event"]] = int(r["ts_ns"])
    b = sorted(by)
    gaps += [(by[y]["exec"] - by[x]["exit"]) / 1e6 for x, y in zip(b, b[1:]) if "exit" in by[x]]
print(f"  median ratio {statistics.median(ratios):.3f} (range {min(ratios):.3f}-{max(ratios):.3f});"
      f" between boots (qemu's exit to the next exec) median {statistics.median(gaps):.2f} ms")
PY
fi

if [ ! -w /dev/kvm ] || ! "$bin" doctor --no-probe >/dev/null 2>&1; then
	echo "(no KVM or perf here: the KVM figures are not measured)"
	exit 0
fi

# per phase: the candidate's median against the base's, as a ratio with a bootstrap CI
compare_phases() { # LABEL-A DIR-A... -- LABEL-B DIR-B... (debugcon-derived phases from events.csv)
	python3 - "$@" <<'PY'
import csv, random, statistics, sys
args = sys.argv[1:]
cut = args.index("--")
sides = [args[:cut], args[cut + 1:]]
PH = {"mode_switch": ("real_mode", "long_mode"), "work": ("long_mode", "work_done"),
      "markers": ("real_mode", "work_done")}
def phases(dirs, suffix):
    out = {k: [] for k in PH}
    for d in dirs:
        by = {}
        for r in csv.DictReader(open(f"{d}/events.csv")):
            by.setdefault((r["case"], r["boot"], r["warmup"]), {})[r["event"]] = int(r["ts_ns"])
        for ev in by.values():
            for k, (a, b) in PH.items():
                if a + suffix in ev and b + suffix in ev:
                    out[k].append(ev[b + suffix] - ev[a + suffix])
    return out
a = phases(sides[0][1:], sides[0][0]); b = phases(sides[1][1:], sides[1][0])
rng = random.Random(1)
for k in PH:
    x, y = a[k], b[k]
    if len(x) < 3 or len(y) < 3:
        continue
    est = statistics.median(y) / statistics.median(x) - 1
    boot = sorted(statistics.median(rng.choices(y, k=len(y))) / statistics.median(rng.choices(x, k=len(x))) - 1
                  for _ in range(2000))
    print(f"  {k:12s} {statistics.median(x)/1e6:9.3f} ms -> {statistics.median(y)/1e6:9.3f} ms"
          f"  {est*100:+6.2f}% [{boot[50]*100:+.2f}%, {boot[1949]*100:+.2f}%]  n={len(x)}/{len(y)}")
PY
}

if [ "$only" != profile ]; then
echo
echo "== 2. perf capture attached or not: the same boots' phases, as debugcon stamps them (KVM)"
matrix kvm kvm 10
dirs_d=() dirs_b=()
for p in $(seq "$pairs"); do
	"$bin" run "$work/kvm.yaml" -o "$work/deb$p" --db "$work/k.db" --source debugcon >/dev/null
	"$bin" run "$work/kvm.yaml" -o "$work/both$p" --db "$work/k.db" --source both >/dev/null
	dirs_d+=("$work/deb$p") dirs_b+=("$work/both$p")
done
echo "  phase        debugcon alone -> with perf attached (change [95% CI])"
compare_phases "" "${dirs_d[@]}" -- "@debugcon" "${dirs_b[@]}"

echo
echo "== 3. the first-entry event: disabled at its hit (now) against at the next drain (before)"
dirs_o=() dirs_n=()
for p in $(seq "$pairs"); do
	COLDMARK_FIRST_ENTRY_WAKEUP=0 "$bin" run "$work/kvm.yaml" -o "$work/old$p" --db "$work/k.db" \
		--source perf >/dev/null
	"$bin" run "$work/kvm.yaml" -o "$work/new$p" --db "$work/k.db" --source perf >/dev/null
	dirs_o+=("$work/old$p") dirs_n+=("$work/new$p")
done
python3 - "${dirs_o[@]}" -- "${dirs_n[@]}" <<'PY'
import csv, statistics, sys
args = sys.argv[1:]; cut = args.index("--")
for name, dirs in (("at the next drain", args[:cut]), ("at its hit", args[cut + 1:])):
    lat, fw = [], []
    for d in dirs:
        by = {}
        for r in csv.DictReader(open(f"{d}/events.csv")):
            by.setdefault((r["case"], r["boot"]), {})[r["event"]] = int(r["ts_ns"])
        for ev in by.values():
            if "first_entry" in ev and "first_entry_off" in ev:
                lat.append((ev["first_entry_off"] - ev["first_entry"]) / 1e3)
            if "exec" in ev and "real_mode" in ev:
                fw.append((ev["real_mode"] - ev["exec"]) / 1e6)
    print(f"  {name:18s} the filter ran on after the hit: median {statistics.median(lat):8.1f} us,"
          f" max {max(lat):8.1f} us; firmware phase median {statistics.median(fw):.1f} ms (n={len(fw)})")
PY

echo
echo "== 4. what debugcon and the console capture add to qemu's start-up (KVM, perf's stamps)"
cat >"$work/dev.yaml" <<'YAML'
guest: {bundled: guest}
base_args: [-machine, pc, -display, none, -nodefaults, -no-reboot, -accel, kvm]
axes:
  devices:
    - {name: none}
    - {name: debugcon_console, args: [-chardev, "file,id=obd,path=/dev/null", -device,
       "isa-debugcon,iobase=0x402,chardev=obd", -chardev, "null,id=obc", -serial, "chardev:obc"]}
phases:
  - {name: qemu_init, from: exec, to: first_entry}
  - {name: firmware, from: exec, to: real_mode}
run: {warmup: 0, drop_caches: false, reference: none}
YAML
"$bin" run "$work/dev.yaml" -o "$work/dev" --db "$work/k.db" --source perf -n $((pairs * 4)) >/dev/null
"$bin" compare "$work/dev" --axis devices --base none --cand debugcon_console 2>/dev/null |
	grep -E "^(case|devices|default)" | cut -c1-120 || true

echo
echo "== 5. coldmark's stamp against a concurrent perf record of the same kvm:kvm_pio hits"
perf record -q -k CLOCK_MONOTONIC -e kvm:kvm_pio -a -o "$work/perf.data" 2>/dev/null &
rec=$!
sleep 1
"$bin" run "$work/kvm.yaml" -o "$work/rec" --db "$work/k.db" --source perf -n $((pairs * 2)) >/dev/null
kill -INT "$rec"; wait "$rec" 2>/dev/null || true
perf script -i "$work/perf.data" -F time,trace 2>/dev/null | grep "pio_write at 0xf4" >"$work/perf.txt" || true
python3 - "$work/rec/events.csv" "$work/perf.txt" <<'PY'
import bisect, csv, statistics, sys
perf = sorted(int(round(float(l.split(":")[0]) * 1e9)) for l in open(sys.argv[2]) if l.strip())
ours = [(r["case"], r["boot"], r["event"], int(r["ts_ns"])) for r in csv.DictReader(open(sys.argv[1]))
        if r["event"] in ("real_mode", "long_mode", "work_done")]
ahead, by = [], {}
for case, boot, ev, t in ours:
    i = bisect.bisect_left(perf, t)
    near = min((abs(perf[j] - t), perf[j]) for j in (i - 1, i) if 0 <= j < len(perf))
    if near[0] < 1e6:
        ahead.append((near[1] - t) / 1e3)
        by.setdefault((case, boot), {})[ev] = (t, near[1])
deltas = []
for ev in by.values():
    for a, b in (("real_mode", "long_mode"), ("long_mode", "work_done")):
        if a in ev and b in ev:
            deltas.append(abs((ev[b][0] - ev[a][0]) - (ev[b][1] - ev[a][1])) / 1e3)
if ahead:
    print(f"  coldmark's stamp ahead of perf record's: median {statistics.median(ahead):.2f} us,"
          f" max {max(ahead):.2f} us ({len(ahead)} markers)")
    print(f"  marker deltas, coldmark vs perf record: median {statistics.median(deltas):.2f} us,"
          f" max {max(deltas):.2f} us ({len(deltas)} phases)")
else:
    print("  perf record saw none of the markers")
PY
fi

echo
echo "== 6. run --profile or not: the same boots' phases, as debugcon stamps them (KVM, issue 28)"
matrix kvm kvm 10
dirs_n=() dirs_p=()
for p in $(seq "$pairs"); do
	"$bin" run "$work/kvm.yaml" -o "$work/nop$p" --db "$work/k.db" --source both >/dev/null
	"$bin" run "$work/kvm.yaml" -o "$work/pro$p" --db "$work/k.db" --source both --profile >/dev/null
	dirs_n+=("$work/nop$p") dirs_p+=("$work/pro$p")
done
echo "  phase        perf markers alone -> with --profile (change [95% CI])"
compare_phases "@debugcon" "${dirs_n[@]}" -- "@debugcon" "${dirs_p[@]}"
