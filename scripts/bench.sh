#!/usr/bin/env bash
# Speed figures, printed (never asserted by a timed test): statistics on a million samples, a
# comparison, and a 10,000-case matrix through `coldmark list`.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset default >/dev/null
cmake --build --preset default -j"$(nproc)" >/dev/null
echo "host: $(uname -n), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
build/default/tests/bench_stats
build/default/tests/bench_adaptive
m=$(mktemp --suffix=.yaml)
cat >"$m" <<'YAML'
guest: {bundled: guest}
axes:
  smp: {from: 1, to: 100, step: 1}
  a: {template: [-name, "{}"], values: [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9]}
  b: {template: [-uuid, "{}"], values: [b0, b1, b2, b3, b4, b5, b6, b7, b8, b9]}
YAML
export COLDMARK_GUEST_DIR=build/default/guest
start=$(date +%s%N)
build/default/cli/coldmark list "$m" >/dev/null
echo "coldmark list of 10,000 cases: $(( ($(date +%s%N) - start) / 1000000 )) ms"
rm -f "$m"
