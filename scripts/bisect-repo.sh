#!/bin/bash
# A git repository of the bundled guest's source for coldmark bisect's tests and benchmark:
#   scripts/bisect-repo.sh DIR COMMITS CHANGE_AT CHANGE_PCT [BROKEN_AT [SECOND_AT SECOND_PCT]]
# COMMITS commits (0 .. COMMITS-1); from commit CHANGE_AT on, the long-mode work loop (WORK) is
# CHANGE_PCT% longer, so the `work` phase grows by about that much; commit BROKEN_AT (if > 0)
# does not assemble (scripts/bisect-build.sh then exits 125) and the next one fixes it; from
# SECOND_AT on WORK changes again by SECOND_PCT% of the base (a partial fix, say). The base
# WORK is $BISECT_WORK (default 400000: ~4 ms of `work` under TCG here).
set -euo pipefail
dir=$1 n=$2 at=$3 pct=$4 broken=${5:-0} second=${6:-0} pct2=${7:-0}
src=$(cd "$(dirname "$0")/.." && pwd)/configs/guest/guest.asm
base=${BISECT_WORK:-400000}
mkdir -p "$dir"
git -C "$dir" init -q
git -C "$dir" config user.email bisect@coldmark.test
git -C "$dir" config user.name "coldmark bisect test"
for ((i = 0; i < n; i++)); do
	work=$base
	((i >= at)) && work=$((base * (100 + pct) / 100))
	((second > 0 && i >= second)) && work=$((work + base * pct2 / 100))
	sed "s/^%define WORK 20000\$/%define WORK $work/" "$src" > "$dir/guest.asm"
	echo "; revision $i" >> "$dir/guest.asm"
	((broken > 0 && i == broken)) && echo "        this is not an instruction" >> "$dir/guest.asm"
	git -C "$dir" add guest.asm
	msg="revision $i"
	((i == at)) && msg="revision $i: WORK $work (the change)"
	((broken > 0 && i == broken)) && msg="revision $i: does not assemble"
	GIT_AUTHOR_DATE="2026-01-01T00:$((i / 60)):$((i % 60))Z" \
		GIT_COMMITTER_DATE="2026-01-01T00:$((i / 60)):$((i % 60))Z" \
		git -C "$dir" commit -q -m "$msg"
done
