#!/usr/bin/env bash
# scripts/retry.sh N CMD [ARG...]: runs a statistical end-to-end test up to N times, until it
# passes (0) or skips (77). For tests whose verdict is a statistic over real boots on a shared
# host (coldmark bisect finds a +30% step in a few sessions, most of the time): each try is a
# fresh, independent experiment, and every failed try is printed, not hidden.
n=$1
shift
rc=1
for ((i = 1; i <= n; i++)); do
    "$@"
    rc=$?
    if [ "$rc" -eq 0 ] || [ "$rc" -eq 77 ]; then
        exit "$rc"
    fi
    echo "retry.sh: try $i of $n failed (exit $rc): $*" >&2
done
exit "$rc"
