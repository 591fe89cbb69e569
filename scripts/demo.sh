#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: install, build, check the host, run the demo.
#   bash scripts/demo.sh [extra coldmark run options, e.g. -n 10]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-deps.sh
cmake --preset default >/dev/null
cmake --build --preset default -j"$(nproc)" >/dev/null
bin=build/default/cli/coldmark
"$bin" doctor
# the demo's folder is its own: a second demo replaces the first (--force)
"$bin" run configs/demo.yaml -o coldmark-out/demo --force "$@"
echo
echo "Markdown report: coldmark-out/demo/report.md"
