#!/usr/bin/env bash
# Every test, twice: the default build and the ASan+UBSan build. Installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-deps.sh
status=0
for preset in default asan; do
    echo "=== $preset build ==="
    cmake --preset "$preset" >/dev/null
    cmake --build --preset "$preset" -j"$(nproc)"
    # -V prints cmocka's own summary for each test binary, then CTest's.
    ctest --preset "$preset" -V || status=1
done
# the core without libperf: everything but the perf source builds, and every unit test passes
echo "=== noperf build (COLDMARK_PERF=OFF) ==="
cmake --preset noperf >/dev/null
cmake --build --preset noperf -j"$(nproc)"
ctest --preset noperf -V || status=1
# the install puts the binary, coldmark(1) and the bash completion in place
prefix=$(mktemp -d)
cmake --install build/default --prefix "$prefix" >/dev/null
for f in bin/coldmark share/man/man1/coldmark.1 share/bash-completion/completions/coldmark; do
    [ -s "$prefix/$f" ] || { echo "install: $f missing" >&2; status=1; }
done
rm -rf "$prefix"
exit $status
