#!/usr/bin/env bash
# Fuzz the matrix loader with libFuzzer (clang), seeded from configs/ and the test fixtures.
#   scripts/fuzz.sh [SECONDS]     default 60
# New interesting inputs are merged into tests/fuzz/corpus; crashes land in tests/fuzz/crashes
# (commit them: test_fuzz_corpus replays every file there).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
bash scripts/setup-deps.sh
# libFuzzer is clang's; its runtime comes with Debian's libclang-rt-14-dev
if ! command -v clang >/dev/null || ! dpkg-query -W libclang-rt-14-dev >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clang libclang-rt-14-dev >/dev/null
fi
out=build/fuzz
mkdir -p tests/fuzz/corpus tests/fuzz/crashes
# the fuzzers come from the CMake targets (COLDMARK_FUZZ): they link what the binary links
CC=clang cmake -S . -B "$out" -DCOLDMARK_FUZZ=ON -DCOLDMARK_PERF=OFF >/dev/null
cmake --build "$out" --target fuzz_matrix -j"$(nproc)" >/dev/null
fuzzer="$out/tests/fuzz/fuzz_matrix"
seeds=$(mktemp -d)
cp configs/*.yaml tests/fixtures/bad/*.yaml "$seeds/"
"$fuzzer" -max_total_time="$secs" -max_len=4096 -timeout=5 \
    -artifact_prefix=tests/fuzz/crashes/ tests/fuzz/corpus "$seeds" 2>&1 | tail -n 5
# keep the corpus small: only inputs that add coverage
merged=$(mktemp -d)
"$fuzzer" -merge=1 "$merged" tests/fuzz/corpus "$seeds" >/dev/null 2>&1
rm -rf tests/fuzz/corpus && mv "$merged" tests/fuzz/corpus
rm -rf "$seeds"
echo "corpus: $(ls tests/fuzz/corpus | wc -l) files; crashes: $(ls tests/fuzz/crashes | wc -l)"
