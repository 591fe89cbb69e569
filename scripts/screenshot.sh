#!/usr/bin/env bash
# A PNG of an HTML report, through Debian's headless Chromium, so a person can look at it.
#   scripts/screenshot.sh coldmark-out/demo/report.html [out.png]
set -euo pipefail
html=$(realpath "$1")
png=${2:-${1%.html}.png}
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
# The flags keep Chromium off the network (this machine has none) and out of the sandbox root
# refuses.
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --hide-scrollbars --window-size=1000,1600 \
    --screenshot="$png" "file://$html" 2>/dev/null
echo "$png"
