#!/usr/bin/env bash
# What CTest's "100% tests passed" does not say: the tests that were skipped, and why.
#
#   scripts/ctest-skips.sh [--must-run "NAME..."] [--expected "NAME..."] JUNIT.xml...
#
# Reads the files `ctest --output-junit` wrote and prints each skipped test (exit 77, shown
# as "notrun") with the end of its output, where it says why, and each cmocka test skipped
# inside a test that passed, with what it printed before skipping. Exits 1 when CI=true and
# a test named in --must-run was skipped (wholly or in part): here they must run. The skips
# of a test named in --expected are its point (e2e-no-mntns checks them) and marked so.
set -euo pipefail

must_run="" expected=""
while [ $# -ge 2 ]; do
    case $1 in
    --must-run) must_run=$2; shift 2 ;;
    --expected) expected=$2; shift 2 ;;
    *) break ;;
    esac
done
[ $# -ge 1 ] || { echo "usage: ctest-skips.sh [--must-run \"NAME...\"] [--expected \"NAME...\"] JUNIT.xml..." >&2; exit 2; }

# One line per skip: "NAME<TAB>reason line 1<TAB>reason line 2...", from ctest's JUnit (one
# <testcase> per test, its output in <system-out>, entities escaped).
skips() {
    awk '
    function unescape(s) {
        gsub(/&lt;/, "<", s); gsub(/&gt;/, ">", s); gsub(/&quot;/, "\"", s)
        gsub(/&apos;/, "\047", s); gsub(/&amp;/, "\\&", s); return s
    }
    function flush_test(   i, from, why) {
        if (status == "notrun") {
            from = n > 12 ? n - 11 : 1 # the end of its output: it said why, then exited
            why = ""
            for (i = from; i <= n; i++) if (out[i] != "") why = why "\t" out[i]
            if (why == "") why = "\t(it printed nothing: " skipmsg ")"
            print name why
        }
    }
    /<testcase / {
        match($0, /name="[^"]*"/); name = unescape(substr($0, RSTART + 6, RLENGTH - 7))
        match($0, /status="[^"]*"/); status = substr($0, RSTART + 8, RLENGTH - 9)
        n = 0; inout = 0; skipmsg = ""; sub_name = ""; sub_why = ""
        next
    }
    /<skipped / { match($0, /message="[^"]*"/); skipmsg = unescape(substr($0, RSTART + 9, RLENGTH - 10)) }
    {
        line = $0
        if (sub(/.*<system-out>/, "", line)) inout = 1
        else if (!inout) next
        if (sub(/<\/system-out>.*/, "", line)) inout = 2
        line = unescape(line)
        out[++n] = line
        # a cmocka test skipped inside a group: what it printed between RUN and SKIPPED
        if (match(line, /^\[ RUN      \] /)) { sub_name = substr(line, RLENGTH + 1); sub_why = "" }
        else if (sub_name != "" && line == "[  SKIPPED ] " sub_name) {
            if (status != "notrun")
                print name " / " sub_name (sub_why == "" ? "\t(it printed nothing)" : sub_why)
            sub_name = ""
        } else if (match(line, /^\[ +(OK|FAILED) +\] /)) sub_name = ""
        else if (sub_name != "" && line != "") sub_why = sub_why "\t" line
        if (inout == 2) { flush_test(); inout = 0 }
    }' "$@"
}

list=$(skips "$@")
[ -n "$list" ] || { echo "skipped: none"; exit 0; }
echo "skipped (CTest counts these as passed):"
status=0
while IFS= read -r entry; do
    name=${entry%%$'\t'*}
    note=""
    for e in $expected; do [ "${name%% / *}" = "$e" ] && note=" (expected: the test checks this skip)"; done
    echo "  $name$note:"
    echo "${entry#*$'\t'}" | tr '\t' '\n' | sed 's/^/      /'
    for m in $must_run; do
        if [ "${name%% / *}" = "$m" ] && [ "${CI:-}" = true ]; then
            echo "  ^ $m must run here (CI=true): this is a failure"
            status=1
        fi
    done
done <<<"$list"
exit $status
