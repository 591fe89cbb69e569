#!/usr/bin/env bash
# Every test, twice: the default build and the ASan+UBSan build. Installs what it needs.
# At the end, each skipped test and why (CTest counts a skip as a pass); with CI=true, a skip
# of a test that must run on the CI host (MUST_RUN) fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."
MUST_RUN=${MUST_RUN:-"e2e-linux e2e-fleet store-postgresql scripts-slurm-local"}
bash scripts/setup-deps.sh
status=0
junits=()
for preset in default asan; do
    echo "=== $preset build ==="
    cmake --preset "$preset" >/dev/null
    cmake --build --preset "$preset" -j"$(nproc)"
    # -V prints cmocka's own summary for each test binary, then CTest's.
    junits+=("$PWD/build/$preset/junit.xml")
    ctest --preset "$preset" -V --output-junit "${junits[-1]}" || status=1
done
# the core without libperf: everything but the perf source builds, and every unit test passes
echo "=== noperf build (COLDMARK_PERF=OFF) ==="
cmake --preset noperf >/dev/null
cmake --build --preset noperf -j"$(nproc)"
junits+=("$PWD/build/noperf/junit.xml")
ctest --preset noperf -V --output-junit "${junits[-1]}" || status=1
for j in "${junits[@]}"; do
    echo "=== $(basename "$(dirname "$j")") build: skipped tests ==="
    bash scripts/ctest-skips.sh --must-run "$MUST_RUN" --expected e2e-no-mntns "$j" || status=1
done
# the install puts the binary, coldmark(1) and the bash completion in place
prefix=$(mktemp -d)
cmake --install build/default --prefix "$prefix" >/dev/null
for f in bin/coldmark share/man/man1/coldmark.1 share/bash-completion/completions/coldmark; do
    [ -s "$prefix/$f" ] || { echo "install: $f missing" >&2; status=1; }
done
rm -rf "$prefix"
exit $status
