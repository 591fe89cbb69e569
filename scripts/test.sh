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
exit $status
