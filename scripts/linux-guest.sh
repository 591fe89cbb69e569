#!/usr/bin/env bash
# A real Linux guest for configs/linux.yaml: Debian's kernel (fetched with apt-get download,
# never installed) and an initramfs whose static /init writes the qemu-boot-time user-space
# marker (7) to port 0xf4 and leaves through isa-debug-exit.
#   scripts/linux-guest.sh [OUTDIR]     default build/linux; idempotent
# Exit status: 0 built (or already there); 77 the kernel package cannot be fetched (no apt
# source reachable: the caller may skip); 1 anything else (a missing tool is a failure).
# Each artifact is built under a temporary name and renamed into place only when complete,
# so a failed or interrupted run never leaves a file that a later run would take as built.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$repo/build/linux}
mkdir -p "$out"
for tool in gcc cpio gzip dpkg-deb apt-get; do
    command -v "$tool" >/dev/null || {
        echo "linux-guest: '$tool' is missing (scripts/setup-deps.sh installs it)" >&2
        exit 1
    }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ ! -s "$out/vmlinuz" ] || [ ! -s "$out/kernel-package" ]; then
    pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
    if [ -z "$pkg" ]; then
        echo "linux-guest: no linux-image package known to apt (run apt-get update)" >&2
        exit 77
    fi
    chmod 777 "$work" # apt downloads as user _apt
    if ! (cd "$work" && apt-get download -q "$pkg" >/dev/null 2>"$work/apt.err"); then
        echo "linux-guest: apt-get download $pkg failed: $(tail -n1 "$work/apt.err")" >&2
        exit 77
    fi
    dpkg-deb -x "$work"/*.deb "$work/x"
    cp "$work"/x/boot/vmlinuz-* "$out/vmlinuz.tmp"
    echo "$pkg" >"$out/kernel-package.tmp"
    mv "$out/vmlinuz.tmp" "$out/vmlinuz"
    mv "$out/kernel-package.tmp" "$out/kernel-package"
fi
if [ ! -s "$out/initrd.img" ] || [ "$repo/configs/linux/init.c" -nt "$out/initrd.img" ]; then
    mkdir "$work/root"
    gcc -static -O2 -o "$work/root/init" "$repo/configs/linux/init.c"
    # pipefail: a cpio that fails makes the whole pipeline fail, not a gzip of nothing
    (cd "$work/root" && echo init | cpio -o -H newc --quiet | gzip -9) >"$out/initrd.img.tmp"
    [ -s "$out/initrd.img.tmp" ] || { echo "linux-guest: empty initrd" >&2; exit 1; }
    mv "$out/initrd.img.tmp" "$out/initrd.img"
fi
echo "linux-guest: $(cat "$out/kernel-package") in $out (vmlinuz, initrd.img)"
