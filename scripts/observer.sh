#!/usr/bin/env bash
# The observer effect: does coldmark move what it measures, and what does a run cost beyond
# its boots? Prints figures; asserts nothing (shared hosts are noisy: read medians and CIs).
#   scripts/observer.sh [PAIRS] [SECTIONS]  (default 5 alternations of each comparison; sections
#   "1 2 3 4 5" by default: "1 5" measures the wall, coldmark's own CPU and its per-marker cost;
#   "6": run --profile or not, and OBSERVER_PROFILE_ALT's arguments)
# 1. wall time of a 20-boot TCG run over the same 20 boots run bare from bash with coldmark's
#    qemu argv (start-up cached), in OBSERVER_WALL_PAIRS (16) pairs, alternately bare first and
#    coldmark first; the median ratio with its CIs, and the excess split into start-up, boots,
#    gaps between boots and end (each exec stamped by scripts/observer-exec.c); what that
#    stamping and coldmark's chardevs (debugcon socket, console) cost a bare qemu. ~2 minutes.
# 2. perf capture attached or not: the same boots' phases, measured by debugcon both ways (KVM)
# 3. the first-entry event: disabled at its hit (now) or at the next 10 ms drain (before) (KVM)
# 4. what debugcon and the console capture add to qemu's start-up, seen by perf (KVM)
# 5. coldmark's stamp of each marker against a concurrent `perf record` of the same hits, and
#    perf record's own (a second perf record in coldmark's place): the per-marker cost (KVM)
# 1b. coldmark's own CPU (all its threads): start-up, per boot, reports at the end (the runs
#    of 1, through COLDMARK_CPU_REPORT), beside qemu's CPU per boot
# 1c. the same over OBSERVER_CPU_RUNS (5) runs of 60 boots, and the CPU of a boot beyond a
#    run's fixed part (the loop's once-a-run work: the first boot's cold code, the session's
#    header marks, the last batch), from the 20- and 60-boot runs
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=${1:-5}
sections=" ${2:-1 2 3 4 5} "
want() { [[ $sections == *" $1 "* ]]; }
bash scripts/setup-deps.sh >/dev/null
cmake --preset default >/dev/null
cmake --build --preset default -j"$(nproc)" >/dev/null
bin=$PWD/build/default/cli/coldmark
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

if want 1; then
echo
echo "== 1. wall time of a run over its bare boots (TCG, 20 boots, warm page cache)"
# Pairs alternate bare-first and coldmark-first (ABBA...: a drift of the host, or the second
# arm's warmer caches, lands on both sides alike); the bare arm is bash running qemu 20 times
# with the argv, fds and stdio coldmark's qemu gets, read here from a warm-up run's own qemu.
# Every exec (bare qemu, coldmark) goes through scripts/observer-exec.c, which stamps it and
# gives a bare qemu coldmark's debugcon socket; bash's $EPOCHREALTIME stamps each return.
wall_pairs=${OBSERVER_WALL_PAIRS:-16} wall_t0=$SECONDS
oexec=$work/observer-exec
cc -O2 -static -o "$oexec" scripts/observer-exec.c 2>/dev/null || cc -O2 -o "$oexec" scripts/observer-exec.c
printf '#!/bin/sh\nprintf "%%s\\n" "$@" >"%s"\nexec qemu-system-x86_64 "$@"\n' "$work/qemu.argv" \
	>"$work/qemu-argv.sh"
chmod +x "$work/qemu-argv.sh"
matrix wallq tcg 1 "qemu: $work/qemu-argv.sh"
matrix wall tcg 20
"$bin" run "$work/wallq.yaml" -o "$work/argv" --db "$work/wq.db" >/dev/null # qemu's argv
"$bin" run "$work/wall.yaml" -o "$work/warm" --db "$work/w.db" -n 1 >/dev/null # fills the cache
mapfile -t qargv <"$work/qemu.argv"
qargv=(qemu-system-x86_64 "${qargv[@]}")
oargs=() old=()
for ((i = 0; i < ${#qargv[@]}; i++)); do # its sockets -> -d FD; a stdio chardev -> -l LOG
	a=${qargv[i]} next=${qargv[i + 1]:-}
	if [[ $a == -chardev ]]; then
		[[ $next == socket,*fd=* ]] && oargs+=(-d "${next##*fd=}")
		[[ $next == stdio,* ]] && oargs+=(-l "$work/bare.log")
		# the old bare argv: without coldmark's chardevs and what they feed (-device/-serial)
		if [[ $next =~ ^(socket|stdio), ]]; then
			((i += 3))
			continue
		fi
	fi
	old+=("$a")
done
echo "  qemu under coldmark (and the bare arm): ${qargv[*]}"
echo "  bare arm's own setup (observer-exec): ${oargs[*]} (its debugcon socket's reading end is"
echo "  held, unread, by qemu itself; coldmark reads its own, with its watch's wake-ups)"
bare() { # DIR QEMU-ARGV-NAME [observer-exec's options]: 20 boots, each exec and return stamped
	local d=$1 i pre posts=() post rc rcs=()
	local -n qa=$2
	shift 2
	mkdir -p "$d"
	times >"$d/times0" # bash's children's CPU (qemu's: observer-exec is qemu's process)
	pre=$EPOCHREALTIME
	for ((i = 0; i < 20; i++)); do
		rc=0
		"$oexec" "$d/execs" "$@" -- "${qa[@]}" </dev/null >/dev/null 2>&1 || rc=$?
		posts+=("$EPOCHREALTIME") rcs+=("$rc")
	done
	post=$EPOCHREALTIME
	times >"$d/times1"
	echo "$pre $post ${posts[*]}" >"$d/wall"
	echo "${rcs[*]}" >"$d/status"
}
cm() { # DIR
	local pre post
	mkdir -p "$1"
	pre=$EPOCHREALTIME
	COLDMARK_CPU_REPORT=$work/cpu.txt "$oexec" "$1/execs" -- \
		"$bin" run "$work/wall.yaml" -o "$1/run" --db "$work/w.db" >/dev/null
	post=$EPOCHREALTIME
	echo "$pre $post" >"$1/wall"
}
for ((p = 1; p <= wall_pairs; p++)); do
	if ((p % 2)); then
		bare "$work/bare$p" qargv "${oargs[@]}"
		cm "$work/cm$p"
	else
		cm "$work/cm$p"
		bare "$work/bare$p" qargv "${oargs[@]}"
	fi
done
# what observer-exec's own exec adds to a bare boot (coldmark's run has one, its qemus none)
# (each /bin/true alone next to one through observer-exec: the host's drift cancels in a pair)
cal=()
for ((i = 0; i < 200; i++)); do
	t=$EPOCHREALTIME
	/bin/true
	u=$EPOCHREALTIME
	"$oexec" "$work/cal.execs" -- /bin/true
	cal+=("$t,$u,$EPOCHREALTIME")
done
# what coldmark's chardevs (debugcon socket, serial console into the log) cost qemu itself:
# bare boots with them against bare boots without (the old bare arm), alternated
for p in 1 2 3 4 5 6 7 8; do
	if ((p % 2)); then
		bare "$work/sock$p" qargv "${oargs[@]}"
		bare "$work/nosock$p" old
	else
		bare "$work/nosock$p" old
		bare "$work/sock$p" qargv "${oargs[@]}"
	fi
done
python3 - "$work" "$wall_pairs" "${cal[@]}" <<'PY'
import csv, math, random, statistics as st, sys
work, n, cal = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
ns = lambda s: int(s.replace(".", "")) * 1000  # $EPOCHREALTIME (s.us) -> ns, CLOCK_REALTIME
med = st.median
def bare(d):  # {wall, start, boots[], gaps[], end} in ns
    rcs = set(open(f"{d}/status").read().split())
    if rcs != {"33"}:  # the bundled guest's isa-debug-exit: every boot ran to its end
        sys.exit(f"  a bare boot did not end as the guest ends it (qemu's statuses {sorted(rcs)},"
                 f" not 33): see {work}/bare.log")
    w = [ns(x) for x in open(f"{d}/wall").read().split()]
    pre, post, ret = w[0], w[1], w[2:]
    ex = [int(l.split()[0]) for l in open(f"{d}/execs")]
    kids = lambda f: sum(float(m) * 60 + float(x) for m, x in  # `times`' 2nd line: "0m1.234s 0m0.5s"
                         (t.rstrip("s").split("m") for t in open(f"{d}/{f}").read().split()[2:4]))
    return dict(wall=post - pre, start=ex[0] - pre, boots=[r - e for e, r in zip(ex, ret)],
                qemu_cpu=(kids("times1") - kids("times0")) * 1e9,
                gaps=[e - r for r, e in zip(ret, ex[1:])], end=post - ret[-1])
def cm(d):  # coldmark's events (CLOCK_MONOTONIC) moved onto CLOCK_REALTIME by observer-exec's pair
    pre, post = (ns(x) for x in open(f"{d}/wall").read().split())
    rt, mono = (int(x) for x in open(f"{d}/execs").read().split())
    by = {}
    for r in csv.DictReader(open(f"{d}/run/events.csv")):
        by.setdefault(int(r["boot"]), {})[r["event"]] = int(r["ts_ns"]) - mono + rt
    bs = sorted((b for b in by.values() if "exec" in b and "exit" in b), key=lambda b: b["exec"])
    return dict(wall=post - pre, start=bs[0]["exec"] - pre, own_start=bs[0]["exec"] - rt,
                boots=[b["exit"] - b["exec"] for b in bs],
                gaps=[y["exec"] - x["exit"] for x, y in zip(bs, bs[1:])], end=post - bs[-1]["exit"],
                nboots=len(bs))
def sign_ci(xs, conf=0.95):  # distribution-free CI of the median: order statistics k, n+1-k
    xs, m = sorted(xs), len(xs)
    cdf = lambda k: sum(math.comb(m, i) for i in range(k + 1)) / 2 ** m
    k = max([k for k in range(m // 2 + 1) if 1 - 2 * cdf(k - 1) >= conf] or [0])
    return (xs[k - 1], xs[m - k], 1 - 2 * cdf(k - 1)) if k else (xs[0], xs[-1], 1 - 2 * cdf(-1))
def boot_ci(xs, rng=random.Random(1)):
    b = sorted(med(rng.choices(xs, k=len(xs))) for _ in range(4000))
    return b[100], b[3899]
B = [bare(f"{work}/bare{p}") for p in range(1, n + 1)]
C = [cm(f"{work}/cm{p}") for p in range(1, n + 1)]
ratios = [c["wall"] / b["wall"] for b, c in zip(B, C)]
for p, (b, c, r) in enumerate(zip(B, C, ratios), 1):
    print(f"  pair {p:2d} ({'bare' if p % 2 else 'coldmark'} first): bare {b['wall']/1e6:7.1f} ms,"
          f" coldmark run {c['wall']/1e6:7.1f} ms, ratio {r:.3f}")
lo, hi, conf = sign_ci(ratios)
blo, bhi = boot_ci(ratios)
print(f"  median ratio {med(ratios):.3f}, sign-test {conf*100:.1f}% CI [{lo:.3f}, {hi:.3f}],"
      f" bootstrap 95% CI [{blo:.3f}, {bhi:.3f}] ({n} pairs; range {min(ratios):.3f}-{max(ratios):.3f})")
print(f"    by order: bare first {med(ratios[0::2]):.3f}, coldmark first {med(ratios[1::2]):.3f}"
      f" (their gap is what ABBA takes out)")
# the excess, part by part: each part coldmark - bare in the same pair (they add up to the
# wall's excess exactly pair by pair; their medians need not add up)
nb = med(c["nboots"] for c in C)
parts = {
    "start-up (to the first exec)": [c["start"] - b["start"] for b, c in zip(B, C)],
    "boots (exec -> exit, summed)": [sum(c["boots"]) - sum(b["boots"]) for b, c in zip(B, C)],
    "gaps (exit -> next exec, summed)": [sum(c["gaps"]) - sum(b["gaps"]) for b, c in zip(B, C)],
    "end (last exit -> coldmark's exit)": [c["end"] - b["end"] for b, c in zip(B, C)],
}
excess = [c["wall"] - b["wall"] for b, c in zip(B, C)]
bw = med(b["wall"] for b in B)
print(f"  the excess, coldmark - bare per pair (median [sign-test CI]; % of bare's {bw/1e6:.0f} ms wall):")
for name, xs in list(parts.items()) + [("total (the wall)", excess)]:
    lo, hi, _ = sign_ci(xs)
    per = "" if name[0] in "se" else f"; per boot {med(xs)/nb/1e3:+.0f} us"
    print(f"    {name:36s} {med(xs)/1e6:+7.2f} ms [{lo/1e6:+.2f}, {hi/1e6:+.2f}]"
          f" {med(xs)/bw*100:+6.2f}%{per}")
# the boots alone, pair by pair (qemu's own time: does it change under coldmark?)
r = [med(c["boots"]) / med(b["boots"]) for b, c in zip(B, C)]
lo, hi, conf = sign_ci(r)
print(f"  a boot (exec -> exit) under coldmark over a bare one, per pair's medians: {med(r):.3f}"
      f" [{lo:.3f}, {hi:.3f}] ({conf*100:.1f}%)")
# the wall rebuilt from each arm's medians (start-up + 20 boots + 19 gaps + end): a boot or a gap
# slowed by the host's other work now and then weighs no more than the arm's typical one
rob = lambda a: a["start"] + med(a["boots"]) * len(a["boots"]) + med(a["gaps"]) * len(a["gaps"]) + a["end"]
r = [rob(c) / rob(b) for b, c in zip(B, C)]
lo, hi, conf = sign_ci(r)
print(f"  the wall from each arm's median boot and gap: ratio {med(r):.3f} [{lo:.3f}, {hi:.3f}]"
      f" ({conf*100:.1f}%; range {min(r):.3f}-{max(r):.3f})")
# outside the boots, all of it measured well: what the ratio is once the boots are alike
out = [(c["start"] - b["start"]) + (sum(c["gaps"]) - sum(b["gaps"])) + (c["end"] - b["end"]) for b, c in zip(B, C)]
lo, hi, conf = sign_ci(out)
print(f"  the excess outside the boots (start-up + gaps + end): {med(out)/1e6:+.2f} ms"
      f" [{lo/1e6:+.2f}, {hi/1e6:+.2f}], {med(out)/bw*100:+.2f}% of the bare wall"
      f" [{lo/bw*100:+.2f}%, {hi/bw*100:+.2f}%]")
# per exec: one through observer-exec less the /bin/true alone before it, median of 200
cost = med((ns(v) - ns(u)) - (ns(u) - ns(t)) for t, u, v in (c.split(",") for c in cal))
# fixed a run (start-up and end) against per boot (the gaps): the same excess at other lengths
fix = med((c["start"] - b["start"]) + (c["end"] - b["end"]) for b, c in zip(B, C))
gap = med((sum(c["gaps"]) - sum(b["gaps"])) / len(b["gaps"]) for b, c in zip(B, C))
unit = bw / len(B[0]["boots"])  # a bare boot with its gap
at = lambda k: (fix + (k - 1) * gap) / (k * unit) * 100
print(f"    of it fixed a run (start-up + end) {fix/1e6:+.2f} ms, a gap {gap/1e3:+.0f} us ({(gap + cost)/1e3:+.0f} us"
      f" against bash's gap without observer-exec's exec): at 5 / 20 / 60 / 200 boots {at(5):+.2f}% /"
      f" {at(20):+.2f}% / {at(60):+.2f}% / {at(200):+.2f}% of the bare wall")
cpu = [dict((k, float(v)) for k, v in (f.split("=") for f in l.split())) for l in open(f"{work}/cpu.txt")][-n:]
if len(cpu) == n:  # 1b's lines, one per coldmark run of these pairs, in their order
    r = [x["qemu_ns"] / x["boots"] / (b["qemu_cpu"] / len(b["boots"])) for b, x in zip(B, cpu)]
    lo, hi, conf = sign_ci(r)
    print(f"  qemu's CPU a boot under coldmark over a bare one (coldmark's RUSAGE_CHILDREN, bash's"
          f" times): {med(x['qemu_ns'] / x['boots'] for x in cpu)/1e6:.2f} ms over"
          f" {med(b['qemu_cpu'] / len(b['boots']) for b in B)/1e6:.2f} ms, ratio per pair {med(r):.3f}"
          f" [{lo:.3f}, {hi:.3f}] ({conf*100:.1f}%)")
    print(f"  coldmark's start-up: {med(c['own_start'] for c in C)/1e6:.2f} ms of wall,"
          f" {med(x['startup_ns'] for x in cpu)/1e6:.2f} ms of its CPU; its end: {med(c['end'] for c in C)/1e6:.2f} ms"
          f" of wall, {med(x['end_ns'] for x in cpu)/1e6:.2f} ms of its CPU (the rest: waiting, e.g. its"
          f" fsyncs on a shared disk)")
allc = lambda k: [x for c in C for x in c[k]]
allb = lambda k: [x for b in B for x in b[k]]
print(f"  coldmark: own start-up (its exec to its first qemu's) {med(c['own_start'] for c in C)/1e6:.2f} ms,"
      f" boot {med(allc('boots'))/1e6:.2f} ms, gap {med(allc('gaps'))/1e6:.3f} ms,"
      f" end {med(c['end'] for c in C)/1e6:.2f} ms (medians)")
print(f"  bare:     bash to the first exec {med(b['start'] for b in B)/1e6:.2f} ms,"
      f" boot {med(allb('boots'))/1e6:.2f} ms, gap {med(allb('gaps'))/1e6:.3f} ms (bash's fork and"
      f" observer-exec's exec), end {med(b['end'] for b in B)/1e6:.3f} ms")
print(f"  observer-exec's own exec, in each bare gap: {cost/1e3:.0f} us (against /bin/true alone):"
      f" it makes the bare wall ~{cost*19/bw*100:.2f}% longer than a bare loop with no stamps could")
S = [bare(f"{work}/sock{p}") for p in range(1, 9)]
O = [bare(f"{work}/nosock{p}") for p in range(1, 9)]
r = [med(s["boots"]) / med(o["boots"]) for s, o in zip(S, O)]
lo, hi, conf = sign_ci(r)
print(f"  coldmark's chardevs (debugcon socket, serial console to a log) in qemu, bare both ways:"
      f" boot {med(x for o in O for x in o['boots'])/1e6:.2f} -> {med(x for s in S for x in s['boots'])/1e6:.2f} ms,"
      f" ratio of the arms' median boots {med(r):.3f} [{lo:.3f}, {hi:.3f}] ({conf*100:.1f}%; 8 alternations)")
r = [s["qemu_cpu"] / o["qemu_cpu"] for s, o in zip(S, O)]
lo, hi, conf = sign_ci(r)
print(f"    and qemu's CPU: {med(o['qemu_cpu'] for o in O)/20e6:.2f} -> {med(s['qemu_cpu'] for s in S)/20e6:.2f} ms"
      f" a boot, ratio {med(r):.3f} [{lo:.3f}, {hi:.3f}]")
PY
echo "  (section 1 took $((SECONDS - wall_t0)) s)"

echo
echo "== 1b. coldmark's own CPU, all its threads (the same TCG runs; qemu's CPU for scale)"
python3 - "$work/cpu.txt" <<'PY'
import statistics, sys
runs = [dict((k, float(v)) for k, v in (f.split("=") for f in l.split())) for l in open(sys.argv[1])]
med = lambda k: statistics.median(r[k] for r in runs)
boot = statistics.median(r["boots_ns"] / r["boots"] for r in runs)
qemu = statistics.median(r["qemu_ns"] / r["boots"] for r in runs)
share = statistics.median(r["boots_ns"] / r["qemu_ns"] for r in runs)
print(f"  start-up {med('startup_ns')/1e6:.2f} ms; per boot {boot/1e6:.3f} ms"
      f" ({share*100:.2f}% of the boot's own {qemu/1e6:.1f} ms of CPU);"
      f" reports at the end {med('end_ns')/1e6:.2f} ms (medians of {len(runs)} runs)")
# where a boot's part goes: the main thread's stages and the journals' sync thread, per boot
parts = ["launch", "record", "journals", "store", "after", "sync"]
if all(p + "_ns" in runs[0] for p in parts):
    if "loop_ns" in runs[0]:  # the main thread between the parts, since sync7
        parts.insert(5, "loop")
    per = {p: statistics.median(r[p + "_ns"] / r["boots"] for r in runs) for p in parts}
    # per run, then the median: a median of the whole less the parts' medians need not be one
    rest = statistics.median((r["boots_ns"] - sum(r[p + "_ns"] for p in parts)) / r["boots"]
                             for r in runs)
    print("  per boot by part (us): " + ", ".join(f"{p} {v/1e3:.0f}" for p, v in per.items())
          + f", the rest {rest/1e3:.0f} (other threads"
          + ("" if "loop" in per else ", between parts") + ")")
PY
	# 1c. the same at 60 boots a run, and the cost of a boot beyond a run's fixed part: a run's
	# loop also holds what it does once (the first boot's cold code, its session's header
	# marks, its last batch to the disk and the store), which 20 boots weigh 3x more than 60
	echo
	echo "== 1c. coldmark's own CPU a boot at 60 boots a run, and a boot's marginal cost"
	matrix wall60 tcg 60
	for ((p = 1; p <= ${OBSERVER_CPU_RUNS:-5}; p++)); do
		COLDMARK_CPU_REPORT=$work/cpu60.txt "$bin" run "$work/wall60.yaml" -o "$work/c60-$p" \
			--db "$work/w.db" >/dev/null
	done
	python3 - "$work/cpu.txt" "$work/cpu60.txt" <<'PY'
import statistics, sys
def load(path):
    return [dict((k, float(v)) for k, v in (f.split("=") for f in l.split())) for l in open(path)]
r20, r60 = load(sys.argv[1]), load(sys.argv[2])
med = lambda runs, f: statistics.median(f(r) for r in runs)
boot = med(r60, lambda r: r["boots_ns"] / r["boots"])
share = med(r60, lambda r: r["boots_ns"] / r["qemu_ns"])
qemu = med(r60, lambda r: r["qemu_ns"] / r["boots"])
print(f"  per boot {boot/1e6:.3f} ms ({share*100:.2f}% of the boot's own {qemu/1e6:.1f} ms of CPU;"
      f" medians of {len(r60)} runs of 60 boots)")
b20, b60 = med(r20, lambda r: r["boots_ns"]), med(r60, lambda r: r["boots_ns"])
q20, q60 = med(r20, lambda r: r["qemu_ns"]), med(r60, lambda r: r["qemu_ns"])
n20, n60 = med(r20, lambda r: r["boots"]), med(r60, lambda r: r["boots"])
if n60 > n20 and q60 > q20:
    marg, fixed = (b60 - b20) / (n60 - n20), b20 - (b60 - b20) / (n60 - n20) * n20
    qm = (q60 - q20) / (n60 - n20)
    print(f"  a boot beyond the run's fixed part: {marg/1e6:.3f} ms ({marg/qm*100:.2f}% of a boot's"
          f" {qm/1e6:.1f} ms; the loop's fixed part {fixed/1e6:.2f} ms a run; the 20- and 60-boot"
          f" runs' medians, on a noisy host a rough figure)")
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
# firmware starts at exec, which only perf stamps: both sides' perf stamps (both are --source both)
PERF = {"firmware": ("exec", "real_mode")}
def phases(dirs, suffix):
    out = {k: [] for k in list(PH) + list(PERF)}
    for d in dirs:
        by = {}
        for r in csv.DictReader(open(f"{d}/events.csv")):
            by.setdefault((r["case"], r["boot"], r["warmup"]), {})[r["event"]] = int(r["ts_ns"])
        for ev in by.values():
            for k, (a, b) in PH.items():
                if a + suffix in ev and b + suffix in ev:
                    out[k].append(ev[b + suffix] - ev[a + suffix])
            for k, (a, b) in PERF.items():
                if suffix and a in ev and b in ev:
                    out[k].append(ev[b] - ev[a])
    return out
a = phases(sides[0][1:], sides[0][0]); b = phases(sides[1][1:], sides[1][0])
rng = random.Random(1)
for k in a:
    x, y = a[k], b[k]
    if len(x) < 3 or len(y) < 3:
        continue
    est = statistics.median(y) / statistics.median(x) - 1
    boot = sorted(statistics.median(rng.choices(y, k=len(y))) / statistics.median(rng.choices(x, k=len(x))) - 1
                  for _ in range(2000))
    # the base's own 95% CI of its median: is the candidate's median inside it?
    mx = sorted(statistics.median(rng.choices(x, k=len(x))) for _ in range(2000))
    inside = "inside" if mx[50] <= statistics.median(y) <= mx[1949] else "OUTSIDE"
    print(f"  {k:12s} {statistics.median(x)/1e6:9.3f} ms -> {statistics.median(y)/1e6:9.3f} ms"
          f"  {est*100:+6.2f}% [{boot[50]*100:+.2f}%, {boot[1949]*100:+.2f}%]  n={len(x)}/{len(y)}"
          f"  base CI [{mx[50]/1e6:.3f}, {mx[1949]/1e6:.3f}] ms: {inside}")
PY
}

matrix kvm kvm 10
if want 2; then
echo
echo "== 2. perf capture attached or not: the same boots' phases, as debugcon stamps them (KVM)"
dirs_d=() dirs_b=()
for p in $(seq "$pairs"); do
	"$bin" run "$work/kvm.yaml" -o "$work/deb$p" --db "$work/k.db" --source debugcon >/dev/null
	"$bin" run "$work/kvm.yaml" -o "$work/both$p" --db "$work/k.db" --source both >/dev/null
	dirs_d+=("$work/deb$p") dirs_b+=("$work/both$p")
done
echo "  phase        debugcon alone -> with perf attached (change [95% CI])"
compare_phases "" "${dirs_d[@]}" -- "@debugcon" "${dirs_b[@]}"

fi

if want 3; then
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

fi

if want 4; then
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

fi

if want 5; then
echo
echo "== 5. coldmark's stamp against a concurrent perf record of the same kvm:kvm_pio hits"
# perf record (A) attached first, then coldmark's event or a second perf record (B): the later
# event runs first in the tracepoint, so its stamp leads A's by what it spends after taking its
# time stamp plus what A spends before taking its own. The same A both ways: coldmark's lead
# over B's is coldmark's per-marker cost over perf record's own. Nanoseconds (--ns): without,
# perf script cuts its times to whole microseconds.
record() { # OUT: perf record of kvm:kvm_pio on every CPU, kernel times on CLOCK_MONOTONIC,
	# in the background of this shell ($! after), its output away from any pipe of ours
	perf record -q -k CLOCK_MONOTONIC -e kvm:kvm_pio -a -o "$1" >/dev/null 2>&1 &
}
markers() { # PERF.DATA -> one line per write to the marker port, with its time in ns
	perf script --ns -i "$1" -F time,trace 2>/dev/null | grep "pio_write at 0xf4" || true
}
for p in $(seq "$pairs"); do
	record "$work/a$p.data"; a=$!; sleep 1.5
	"$bin" run "$work/kvm.yaml" -o "$work/rec$p" --db "$work/k.db" --source perf -n 2 >/dev/null
	kill -INT "$a"; wait "$a" 2>/dev/null || true
	markers "$work/a$p.data" >"$work/a$p.txt"
	record "$work/pa$p.data"; a=$!; sleep 1.5
	record "$work/pb$p.data"; b=$!; sleep 1.5
	"$bin" run "$work/kvm.yaml" -o "$work/prec$p" --db "$work/k.db" --source debugcon -n 2 >/dev/null
	kill -INT "$b" "$a"; wait "$b" "$a" 2>/dev/null || true
	markers "$work/pa$p.data" >"$work/pa$p.txt"
	markers "$work/pb$p.data" >"$work/pb$p.txt"
	rm -f "$work"/*a"$p".data "$work"/pb"$p".data
done
python3 - "$work" "$pairs" <<'PY'
import bisect, csv, re, statistics, sys
work, pairs = sys.argv[1], int(sys.argv[2])
def stamps(path):  # "   123.456789012: pio_write at 0xf4 ... val 0x10" -> (ns exactly, value)
    out = []
    for l in open(path):
        s, _, ns = l.split(":")[0].strip().partition(".")
        out.append((int(s) * 10**9 + int(ns.ljust(9, "0")), int(re.search(r"val 0x(\w+)", l)[1], 16)))
    return sorted(out)
def lead(a, t):  # how far the stamp t precedes a's nearest stamp of the same hit (us), or None
    i = bisect.bisect_left(a, t)
    near = min((abs(a[j] - t), a[j]) for j in (i - 1, i) if 0 <= j < len(a))
    return (near[1] - t) / 1e3 if near[0] < 100000 else None
ours, theirs, deltas = {}, {}, []
for p in range(1, pairs + 1):
    a = [t for t, _ in stamps(f"{work}/a{p}.txt")]
    by = {}
    for r in csv.DictReader(open(f"{work}/rec{p}/events.csv")):
        if r["event"] in ("real_mode", "long_mode", "work_done"):
            by.setdefault(r["boot"], {})[r["event"]] = (int(r["ts_ns"]), int(r["value"]))
    for ev in by.values():
        m = {k: lead(a, t) for k, (t, v) in ev.items()}
        for k, (t, v) in ev.items():
            if m[k] is not None:
                ours.setdefault(v, []).append(m[k])
        for x, y in (("real_mode", "long_mode"), ("long_mode", "work_done")):
            if m.get(x) is not None and m.get(y) is not None:  # coldmark's phase - perf's
                deltas.append(abs(m[y] - m[x]))
    pa = [t for t, _ in stamps(f"{work}/pa{p}.txt")]
    for t, v in stamps(f"{work}/pb{p}.txt"):
        if (d := lead(pa, t)) is not None:
            theirs.setdefault(v, []).append(d)
if ours and theirs:
    med = lambda d: statistics.median(x for v in d.values() for x in v)
    count = lambda d: sum(len(v) for v in d.values())
    print(f"  coldmark's stamp ahead of perf record's:        median {med(ours):.3f} us ({count(ours)} markers)")
    print(f"  a 2nd perf record's stamp ahead of the first's: median {med(theirs):.3f} us ({count(theirs)} markers)")
    # by marker: the first of a boot follows the firmware's port writes, the others only the
    # guest's own code, after which every event's ring is cold alike
    for v in sorted(set(ours) & set(theirs)):
        print(f"    marker 0x{v:x}: coldmark {statistics.median(ours[v]):.3f} us,"
              f" perf record {statistics.median(theirs[v]):.3f} us"
              f" (x{statistics.median(ours[v]) / statistics.median(theirs[v]):.2f})")
    if deltas:
        print(f"  marker deltas, coldmark vs perf record: median {statistics.median(deltas):.3f} us,"
              f" max {max(deltas):.3f} us ({len(deltas)} phases)")
else:
    print("  perf record saw none of the markers")
PY
fi

if want 6; then
echo
echo "== 6. run --profile or not: the same boots' phases, as debugcon stamps them (KVM, issue 28)"
matrix kvm kvm 10
# OBSERVER_PROFILE_ALT="ARGS": a third arm, interleaved too, run with ARGS instead of --profile
# (e.g. --profile-emulated; or "--profile" with COLDMARK_PROFILE_OMIT=name,... in the
# environment of the whole script: which event costs what)
dirs_n=() dirs_p=() dirs_a=()
for p in $(seq "$pairs"); do
	"$bin" run "$work/kvm.yaml" -o "$work/nop$p" --db "$work/k.db" --source both >/dev/null
	"$bin" run "$work/kvm.yaml" -o "$work/pro$p" --db "$work/k.db" --source both --profile >/dev/null
	dirs_n+=("$work/nop$p") dirs_p+=("$work/pro$p")
	if [ -n "${OBSERVER_PROFILE_ALT:-}" ]; then
		# shellcheck disable=SC2086 # ARGS are words
		"$bin" run "$work/kvm.yaml" -o "$work/alt$p" --db "$work/k.db" --source both \
			$OBSERVER_PROFILE_ALT >/dev/null
		dirs_a+=("$work/alt$p")
	fi
done
echo "  phase        perf markers alone -> with --profile (change [95% CI]; firmware: perf's stamps)"
compare_phases "@debugcon" "${dirs_n[@]}" -- "@debugcon" "${dirs_p[@]}"
if [ -n "${OBSERVER_PROFILE_ALT:-}" ]; then
	echo "  phase        perf markers alone -> $OBSERVER_PROFILE_ALT"
	compare_phases "@debugcon" "${dirs_n[@]}" -- "@debugcon" "${dirs_a[@]}"
fi
fi
