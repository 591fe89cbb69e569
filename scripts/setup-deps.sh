#!/usr/bin/env bash
# Installs what coldmark builds and runs with on Debian 12, and builds libperf (which Debian
# does not package) from Debian's linux-source-6.1 into a prefix inside the build tree.
#
#   scripts/setup-deps.sh [PREFIX]      PREFIX defaults to <repo>/build/deps
#
# Idempotent: when every package and the libperf prefix are present it returns at once.
# CMake looks in <repo>/build/deps without being told (see CMakeLists.txt).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
prefix=${1:-$repo/build/deps}

# Runtime tools and -dev packages. chromium is for the HTML report's browser test; cpio and gzip
# build the Linux guest's initramfs (scripts/linux-guest.sh); python3 runs the figure scripts;
# libpq-dev is the PostgreSQL store's client; slurm-wlm, munge, postgresql and procps run the
# throw-away cluster of scripts/slurm-local.sh (the fleet tests).
# Every tool a script calls is here: CI and users start from Debian's base image.
packages=(
    build-essential cmake pkg-config nasm git
    qemu-system-x86 linux-perf util-linux
    libyaml-dev libgsl-dev libtraceevent-dev libtracefs-dev
    libsqlite3-dev libcmocka-dev libjansson-dev libpq-dev
    linux-source-6.1 flex bison xz-utils
    chromium
    cpio gzip python3
    slurm-wlm munge postgresql procps
)

# One dpkg-query for all keeps the no-op path fast; it names installed ones only.
mapfile -t have < <(dpkg-query -W -f='${db:Status-Status} ${Package}\n' "${packages[@]}" 2>/dev/null |
    awk '$1 == "installed" { print $2 }')
missing=()
for p in "${packages[@]}"; do
    [[ " ${have[*]} " == *" $p "* ]] || missing+=("$p")
done

if ((${#missing[@]})); then
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup-deps: missing packages: ${missing[*]}" >&2
        echo "setup-deps: run as root, or: sudo apt-get install ${missing[*]}" >&2
        exit 1
    fi
    echo "setup-deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    for p in "${missing[@]}"; do
        if ! apt-cache show "$p" >/dev/null 2>&1; then
            echo "setup-deps: package '$p' cannot be had from the configured apt sources" >&2
            echo "setup-deps: check /etc/apt/sources.list (Debian 12 'bookworm' main is needed)" >&2
            exit 1
        fi
    done
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# libperf: built once, then found by its pkg-config file.
if [ -f "$prefix/lib/pkgconfig/libperf.pc" ] && [ -f "$prefix/lib/libapi.a" ]; then
    exit 0
fi

tarball=$(ls /usr/src/linux-source-6.1.tar.* 2>/dev/null | head -n1 || true)
if [ -z "$tarball" ]; then
    echo "setup-deps: /usr/src/linux-source-6.1.tar.* not found (package linux-source-6.1)" >&2
    exit 1
fi

echo "setup-deps: building libperf from $tarball into $prefix"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
top=linux-source-6.1
# libperf's build reaches into tools/{lib,include,build,scripts,arch} and the uapi headers.
tar -xf "$tarball" -C "$work" \
    "$top/tools/lib" "$top/tools/include" "$top/tools/build" "$top/tools/scripts" \
    "$top/tools/arch/x86/include" "$top/tools/arch/x86/lib" "$top/tools/perf/perf-sys.h" \
    "$top/include/uapi" "$top/arch/x86/include/uapi" "$top/scripts" "$top/Makefile" 2>/dev/null ||
    tar -xf "$tarball" -C "$work" \
        "$top/tools/lib" "$top/tools/include" "$top/tools/build" "$top/tools/scripts" \
        "$top/tools/arch/x86/include" "$top/tools/arch/x86/lib" \
        "$top/include/uapi" "$top/arch/x86/include/uapi" "$top/scripts" "$top/Makefile"
src="$work/$top"
mkdir -p "$prefix"
# -fPIC: the static archive is linked into sanitizer and PIE builds alike.
make -s -C "$src/tools/lib/perf" prefix="$prefix" libdir_relative=lib EXTRA_CFLAGS="-fPIC -O2 -g" \
    install_lib install_headers install_pkgconfig >"$work/build.log" 2>&1 || {
    tail -n 30 "$work/build.log" >&2
    echo "setup-deps: libperf build failed (log above)" >&2
    exit 1
}
# libperf.a needs libapi.a (fdarray, etc.) for a static link; install_lib leaves it behind.
cp "$src/tools/lib/api/libapi.a" "$prefix/lib/"
echo "setup-deps: libperf installed in $prefix"
