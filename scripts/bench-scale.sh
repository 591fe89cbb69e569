#!/usr/bin/env bash
# Scale figures, printed (never asserted): for matrices of 10^3..10^6 cases, the time from
# `coldmark run` to its first qemu exec and to its first finished boot, and the memory then;
# matrix loading by keys; `coldmark report` on samples.csv files of 10^5 and ~3.3*10^6 rows;
# issue 25's tables (reports over 10^3..10^6 boots, compare --axis over 100..10^4 cases, a
# run's own CPU over its cases and its boots on a fake launcher).
#   scripts/bench-scale.sh [MAX_CASES]     default 1000000; boots the bundled guest under TCG
set -euo pipefail
cd "$(dirname "$0")/.."
max=${1:-1000000}
cmake --preset default >/dev/null
cmake --build --preset default -j"$(nproc)" >/dev/null
bin=$PWD/build/default/cli/coldmark
export COLDMARK_GUEST_DIR=$PWD/build/default/guest
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "host: $(uname -n), $(nproc) cores,$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"

# --- issue 25 item 4: cases -> time to the first qemu exec (a fake qemu that notes the moment,
#     coldmark's CPU and peak RSS then, and ends the run), and to the first finished boot of
#     the bundled guest under TCG (the first progress line) ---------------------------------
cat >"$work/qemu" <<'SH'
#!/bin/sh
# coldmark's probes before its first boot are not the boot: `--version` (the run header)
# answered, the ROM query of a device set (a paused qemu: -S) failed, as a qemu without
# `info roms` would (a real qemu's answers come from coldmark's cache, keyed by its file)
for a in "$@"; do
    case $a in
    --version) echo "QEMU emulator version 7.2.0 (fake)"; exit 0 ;;
    -S) exit 1 ;;
    esac
done
# the first boot of the run: when, coldmark's CPU ticks (utime stime) and peak RSS, then the end
echo "$(date +%s%N) $(cut -d' ' -f14,15 /proc/$PPID/stat) $(awk '/VmHWM/ {print $2}' /proc/$PPID/status)" >"$(dirname "$0")/first"
kill -9 $PPID
SH
chmod +x "$work/qemu"
tick=$(getconf CLK_TCK)
matrix_of() { # N [QEMU]: N cases (memory x smp), one boot each
    local n=$1 smp mem
    smp=$((n < 10000 ? 10 : n / 10000 * 10)); mem=$((n / smp))
    cat >"$work/m.yaml" <<YAML
guest: {bundled: guest}
${2:+qemu: $2}
base_args: [-machine, pc, -display, none, -nodefaults, -no-reboot, -accel, tcg]
axes:
  memory: {from: 16M, to: $((16 + mem - 1))M, step: 1M}
  smp: {from: 1, to: $smp, step: 1}
run: {boots: 1, warmup: 0, order: sequential, reference: none}
YAML
}
first_boot() { # the seconds to the first progress line, and the peak RSS then (a real boot:
    local log=$work/log start end pid rss  # under the e2e lock, as every boot here)
    exec 9>/tmp/coldmark-e2e.lock
    flock 9
    start=$(date +%s%N)
    "$bin" run "$work/m.yaml" -o "$work/run" --db "$work/db" --force >"$log" 2>&1 &
    pid=$!
    until grep -q '^\[1/' "$log" 2>/dev/null || ! kill -0 $pid 2>/dev/null; do sleep 0.02; done
    end=$(date +%s%N)
    rss=$(awk '/VmHWM/ {print $2}' /proc/$pid/status 2>/dev/null || echo 0)
    kill -9 $pid 2>/dev/null || true
    wait $pid 2>/dev/null || true
    exec 9>&-
    rm -rf "$work/run" "$work/db"*
    printf '%6.2f | %5d' "$(echo "($end - $start) / 10^9" | bc -l)" $((rss / 1024))
}
echo
echo "| matrix cases | to the first qemu exec: s | coldmark CPU s | peak MiB | to the first finished TCG boot: s | peak MiB |"
echo "|---|---|---|---|---|---|"
for n in 1000 10000 100000 1000000; do
    [ "$n" -le "$max" ] || break
    matrix_of "$n" "$work/qemu"
    rm -f "$work/first"
    start=$(date +%s%N)
    # (killed by the fake qemu: bash's "Killed" notice goes too)
    { "$bin" run "$work/m.yaml" -o "$work/run" --db "$work/db" --force >/dev/null 2>&1; } 2>/dev/null || true
    read -r at ut st hwm <"$work/first"
    rm -rf "$work/run" "$work/db"*
    matrix_of "$n"
    printf '| %s | %6.2f | %5.2f | %5d | %s |\n' "$n" "$(echo "($at - $start) / 10^9" | bc -l)" \
        "$(echo "($ut + $st) / $tick" | bc -l)" $((hwm / 1024)) "$(first_boot)"
done

# --- matrix loading: keys of one mapping (the duplicate-key check is a hash set) ------------
for k in 16000 160000 1000000; do
    { echo "guest: {bundled: guest}"; echo "run:"; echo "  env:";
      seq 1 $k | sed 's/.*/    K&: v/'; } >"$work/keys.yaml"
    start=$(date +%s%N)
    "$bin" list "$work/keys.yaml" >/dev/null 2>&1 || true
    printf '%9s keys: matrix loaded in %6.2f s\n' $k "$(echo "($(date +%s%N) - $start) / 10^9" | bc -l)"
done

# --- coldmark report on large samples.csv ----------------------------------------------------
for boots in 1000 33000; do
    python3 - "$work/samples.csv" $boots <<'PY'
import random, sys
random.seed(1)
path, boots = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    f.write("case,boot,status,phase,duration_ns,warmup,source,cache_drop,memory,smp\n")
    for c in range(20):
        mem, smp = f"{128 * (c % 5 + 1)}M", c // 5 + 1
        for b in range(1, boots + 1):
            for p in ("firmware", "kernel", "init", "user", "total"):
                f.write(f'"memory={mem},smp={smp}",{b},ok,{p},'
                        f'{int(random.lognormvariate(17, 0.1))},0,perf,drop_caches,{mem},{smp}\n')
PY
    rows=$((boots * 100)); size=$(du -m "$work/samples.csv" | cut -f1)
    /usr/bin/time -f '%e %M' -o "$work/time" "$bin" report "$work/samples.csv" -o "$work/rep" >/dev/null
    read -r secs kb <"$work/time"
    printf '%9s rows (%d MB): coldmark report in %6.2f s, peak RSS %5d MiB\n' $rows $size $secs $((kb / 1024))
    rm -rf "$work/rep"
done

# --- issue 25: growth tables (coldmark report over 10^3..10^6 boots; compare --axis over
#     100..10,000 cases). Each row: the input, seconds, peak RSS. Set SCALE_QUICK=1 to stop
#     at 10^5 boots / 1,000 cases. --------------------------------------------------------
gen_samples() { # PATH CASES BOOTS: CASES cases on a numeric axis, BOOTS boots each, 2 phases
    python3 - "$@" <<'PY'
import random, sys
path, cases, boots = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
random.seed(1)
with open(path, "w") as f:
    f.write("case,boot,status,phase,duration_ns,warmup,source,cache_drop,session,memory\n")
    for c in range(cases):
        for b in range(1, boots + 1):
            for p in ("kernel", "total"):
                f.write(f"memory={16 + c}M,{b},ok,{p},{int(random.lognormvariate(17, 0.1))},0,"
                        f"perf,drop_caches,{(b - 1) // 10 + 1},{16 + c}M\n")
PY
}
timed() { # LABEL CMD...: one table row
    local label=$1; shift
    /usr/bin/time -f '%e %M' -o "$work/time" "$@" >/dev/null 2>&1 || true
    # the last line: a failing status (compare's 1 for a regression) comes first
    read -r secs kb < <(tail -n 1 "$work/time")
    printf '| %-34s | %8.2f | %8d |\n' "$label" "$secs" $((kb / 1024))
}
echo
echo "| coldmark report: boots (cases x boots) | seconds | peak MiB |"
echo "|---|---|---|"
for spec in "10 100" "10 1000" "10 10000" "100 1000" "1000 1000"; do
    set -- $spec
    [ -n "${SCALE_QUICK:-}" ] && [ $(($1 * $2)) -gt 100000 ] && break
    gen_samples "$work/s.csv" "$1" "$2"
    timed "$(($1 * $2)) ($1 x $2)" "$bin" report "$work/s.csv" -o "$work/rep"
    rm -rf "$work/rep"
done
echo
echo "| compare RUN --axis: cases (x 3 sessions x 10 boots) | seconds | peak MiB |"
echo "|---|---|---|"
for cases in 100 1000 4000 10000; do
    [ -n "${SCALE_QUICK:-}" ] && [ "$cases" -gt 1000 ] && break
    python3 - "$work/ax.csv" "$cases" <<'PY'
import random, sys
path, cases = sys.argv[1], int(sys.argv[2])
random.seed(3)
with open(path, "w") as f:
    f.write("case,boot,status,phase,duration_ns,warmup,source,cache_drop,session,arm,k\n")
    for s in range(1, 4):
        for c in range(cases // 2):
            for arm in ("a", "b"):
                for i in range(10):
                    for p in ("kernel", "total"):
                        f.write(f'"arm={arm},k={c}",{i + 1 + (s - 1) * 10},ok,{p},'
                                f'{int(random.lognormvariate(17, 0.1))},0,perf,drop_caches,{s},{arm},{c}\n')
PY
    timed "$cases" "$bin" compare "$work/ax.csv" --axis arm
done

# --- issue 25 items 4 and 6: a run on a fake launcher (no qemu; tests/test_scale_run): its
#     cases' report rewrites must grow with the cases (linear), and coldmark's CPU a boot
#     (journals, store, progress line) stay flat over the boots --------------------------------
cmake --build --preset default --target test_scale_run >/dev/null
trun=$PWD/build/default/tests/test_scale_run
echo
echo "| run on a fake launcher: cases x 1 boot | coldmark CPU s | us a case |"
echo "|---|---|---|"
for n in 150 600 2400; do
    [ -n "${SCALE_QUICK:-}" ] && [ "$n" -gt 600 ] && break
    read -r c secs per < <("$trun" cases "$n")
    printf '| %s | %6.3f | %6.1f |\n' "$c" "$secs" "$per"
done
echo
# the same with the reports rewritten after every case, unthrottled: a rewrite formats the
# case that completed and concatenates the rest (the files' bytes are what still grows)
echo "| run on a fake launcher, reports rewritten after every case: cases x 1 boot | coldmark CPU s | us a case |"
echo "|---|---|---|"
prev=
for n in 150 600 1200; do
    [ -n "${SCALE_QUICK:-}" ] && [ "$n" -gt 600 ] && break
    read -r c secs per < <(COLDMARK_REPORT_EVERY_CASE=1 "$trun" cases "$n")
    printf '| %s | %6.3f | %6.1f |\n' "$c" "$secs" "$per"
    [ "$n" = 600 ] && awk -v a="$prev" -v b="$secs" 'BEGIN { printf "rewrite per case: 150 -> 600 cases, CPU ratio %.1f (linear 4, quadratic 16; a whole rebuild per case was 21.7)\n", b / a }'
    prev=$secs
done
echo
echo "| run on a fake launcher: 1 case x boots | coldmark CPU s | us a boot |"
echo "|---|---|---|"
for n in 100 1000 4000; do
    [ -n "${SCALE_QUICK:-}" ] && [ "$n" -gt 1000 ] && break
    read -r c secs per < <("$trun" boots "$n")
    printf '| %s | %6.3f | %6.1f |\n' "$c" "$secs" "$per"
done
