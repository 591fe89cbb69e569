#!/bin/bash
# How small a change coldmark bisect finds right, and what it costs (README, "bisect"):
#   scripts/bench-bisect.sh [REPOS] [PCT...]      defaults: 20 repos, +10% +5% +3%
# (the matrix: 10 boots + 1 warm-up a build and session, TCG, the `work` phase of a ~7 ms loop;
#  10 rather than 5: at +5-10% a step needs ~2x fewer sessions for ~the same boots, see the notes)
# For each PCT, REPOS seeded repositories of the bundled guest's source (scripts/bisect-repo.sh,
# 16 commits), the change at a seeded commit 1..15, bisected under TCG with the default
# settings on the `work` phase; prints per PCT how many were found right, and the builds,
# boots and minutes they took (median and max). Not a test: it takes long (a bisect is 1-3 min
# here). Each bisect takes the e2e lock on its own (not the whole benchmark), so other tests'
# boots interleave; the minutes include the waits for it.
set -euo pipefail
repo_root=$(cd "$(dirname "$0")/.." && pwd)
bin=${COLDMARK:-$repo_root/build/default/cli/coldmark}
export COLDMARK_GUEST_DIR=${COLDMARK_GUEST_DIR:-$repo_root/build/default/guest}
export COLDMARK_CACHE_DIR=
repos=${1:-20}
shift || true
pcts=("$@")
((${#pcts[@]})) || pcts=(10 5 3)
work=$(mktemp -d /tmp/coldmark-bench-bisect-XXXXXX)
trap 'rm -rf "$work"' EXIT
cat > "$work/m.yaml" <<'YAML'
qemu: qemu-system-x86_64
guest: {disk: "{build}/guest.img"}
base_args: [-machine, pc, -display, none, -nodefaults, -no-reboot, -accel, tcg]
phases:
  - {name: work, from: long_mode, to: work_done}
run: {boots: 10, warmup: 1, reference: none, exit_status: 33, drop_caches: false, timeout: 30s}
YAML
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
printf '| change | found right | wrong | not found (exit 1) | builds (median, max) | boots (median, max) | minutes a bisect (median) |\n'
printf '|---|--:|--:|--:|--:|--:|--:|\n'
for pct in "${pcts[@]}"; do
	right=0 wrong=0 none=0
	: > "$work/builds" ; : > "$work/boots" ; : > "$work/secs"
	for ((seed = 1; seed <= repos; seed++)); do
		at=$(( (seed * 11 + pct) % 15 + 1 ))   # seeded, spread over 1..15 (11 is prime to 15)
		r="$work/r$pct-$seed"
		BISECT_WORK=${BISECT_WORK:-4000000} bash "$repo_root/scripts/bisect-repo.sh" "$r" 16 "$at" "$pct" >/dev/null
		want=$(git -C "$r" log --format=%H --grep="^revision $at:")
		start=$(date +%s)
		set +e
		flock /tmp/coldmark-e2e.lock "$bin" bisect "$work/m.yaml" --repo "$r" --good HEAD~15 \
			--bad HEAD --build "$repo_root/scripts/bisect-build.sh" --phase work \
			-o "$r.out" --db "$work/store.db" --format json > "$r.json" 2> "$r.log"
		rc=$?
		set -e
		echo $(( $(date +%s) - start )) >> "$work/secs"
		got=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j.get("first_bad") or ""); print(j["builds"], j["boots"], file=sys.stderr)' "$r.json" 2> "$r.cost" || true)
		read -r b n < "$r.cost" || true
		echo "${b:-0}" >> "$work/builds"; echo "${n:-0}" >> "$work/boots"
		if [ "$rc" = 0 ] && [ "$got" = "$want" ]; then right=$((right + 1))
		elif [ "$rc" = 0 ]; then wrong=$((wrong + 1))
		else none=$((none + 1)); fi
		# builds, boots and seconds too: a run cut short can still be tabulated from these lines
		echo "  +$pct% seed $seed (change at revision $at): exit $rc, $([ "$got" = "$want" ] && echo right || echo "got '${got:-none}'"), ${b:-0} builds, ${n:-0} boots, $(tail -1 "$work/secs") s" >&2
	done
	printf '| +%s%% | %d/%d | %d | %d | %s, %s | %s, %s | %.1f |\n' "$pct" "$right" "$repos" "$wrong" "$none" \
		"$(median < "$work/builds")" "$(sort -n "$work/builds" | tail -1)" \
		"$(median < "$work/boots")" "$(sort -n "$work/boots" | tail -1)" \
		"$(median < "$work/secs" | awk '{ print $1 / 60 }')"
done
