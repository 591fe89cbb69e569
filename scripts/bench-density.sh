#!/usr/bin/env bash
# Boots at once (issue 29): the bundled guest under TCG, run.concurrency K = 1, 2, 4, 8 (or the
# Ks given), BOOTS boots each. Prints per K: launches per second (boots over the summed wave
# makespans, a wave's makespan being its first exec to its last work_done), and the per-boot
# total's median and p99. A benchmark, not a test: it asserts nothing. Boots qemu, so it takes
# the e2e lock itself.
#   scripts/bench-density.sh [BOOTS] [K...]
set -euo pipefail
cd "$(dirname "$0")/.."
# every K under one hold of the e2e lock: the Ks compare on the same moment of the host
if [ -z "${COLDMARK_BENCH_LOCKED:-}" ]; then
	COLDMARK_BENCH_LOCKED=1 exec flock /tmp/coldmark-e2e.lock "$0" "$@"
fi
boots=${1:-16}
shift || true
ks=("$@")
[ ${#ks[@]} -gt 0 ] || ks=(1 2 4 8)
cmake --preset default >/dev/null
cmake --build --preset default -j2 >/dev/null
bin=$PWD/build/default/cli/coldmark
export COLDMARK_GUEST_DIR=$PWD/build/default/guest
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/m.yaml" <<YAML
guest: {bundled: guest}
base_args: [-machine, pc, -accel, tcg, -display, none, -nodefaults]
phases:
  - {name: firmware, from: exec, to: real_mode}
  - {name: work, from: long_mode, to: work_done}
run: {boots: $boots, warmup: 1, reference: none}
YAML
echo "host: $(uname -n), $(nproc) CPUs; bundled guest, TCG, $boots boots per K"
printf '%4s %12s %16s %14s %6s\n' K launches/s total-median-ms total-p99-ms ok
for k in "${ks[@]}"; do
	out=$work/k$k
	"$bin" run "$work/m.yaml" --concurrency "$k" -o "$out" >"$out.log" 2>&1 || true
	# makespan per wave from events.csv (measured boots: warmup column 0)
	rate=$(awk -F, 'NR > 1 && $3 == 0 { key = $1 "," $2
		if ($4 == "wave") wave[key] = $6
		if ($4 == "exec") exec[key] = $7
		if ($4 == "work_done") end[key] = $7 }
		END { for (b in exec) { w = (b in wave) ? wave[b] : "one " b; n++ # K = 1: no waves
			if (!(w in lo) || exec[b] < lo[w]) lo[w] = exec[b]
			if (!(w in hi) || end[b] > hi[w]) hi[w] = end[b] }
		      for (w in lo) span += hi[w] - lo[w]
		      if (span > 0) printf "%.2f", n / (span / 1e9); else printf "-" }' "$out/events.csv")
	# mawk has no asort: the ok totals sorted by sort(1), then the median and p99 of them
	counts=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
		$col["phase"] == "total" && $col["warmup"] == 0 { n++; ok += $col["status"] == "ok" }
		END { printf "%d/%d", ok, n }' "$out/samples.csv")
	stats=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
		$col["phase"] == "total" && $col["warmup"] == 0 && $col["status"] == "ok" {
			print $col["duration_ns"] / 1e6 }' "$out/samples.csv" | sort -g |
		awk '{ v[++m] = $1 }
		END { if (!m) { print "- -"; exit }
		      med = m % 2 ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2
		      p = 0.99 * (m - 1) + 1; lo = int(p); hi = lo < m ? lo + 1 : lo
		      printf "%.2f %.2f", med, v[lo] + (p - lo) * (v[hi] - v[lo]) }')
	stats="$stats $counts"
	read -r med p99 ok <<<"$stats"
	printf '%4s %12s %16s %14s %6s\n' "$k" "$rate" "$med" "$p99" "$ok"
done
