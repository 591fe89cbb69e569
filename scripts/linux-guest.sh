#!/usr/bin/env bash
# A real Linux guest for configs/linux.yaml: Debian's kernel (fetched with apt-get download,
# never installed) and an initramfs whose static /init writes the qemu-boot-time user-space
# marker (7) to port 0xf4 and leaves through isa-debug-exit.
#   scripts/linux-guest.sh [OUTDIR]     default build/linux; idempotent
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$repo/build/linux}
mkdir -p "$out"
if [ ! -f "$out/vmlinuz" ]; then
    pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
    if [ -z "$pkg" ]; then
        echo "linux-guest: no linux-image package known to apt (run apt-get update)" >&2
        exit 1
    fi
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    chmod 777 "$work" # apt downloads as user _apt
    (cd "$work" && apt-get download -q "$pkg" >/dev/null)
    dpkg-deb -x "$work"/*.deb "$work/x"
    cp "$work"/x/boot/vmlinuz-* "$out/vmlinuz"
    echo "$pkg" >"$out/kernel-package"
fi
if [ ! -f "$out/initrd.img" ] || [ "$repo/configs/linux/init.c" -nt "$out/initrd.img" ]; then
    root=$(mktemp -d)
    gcc -static -O2 -o "$root/init" "$repo/configs/linux/init.c"
    (cd "$root" && echo init | cpio -o -H newc --quiet | gzip -9) >"$out/initrd.img"
    rm -rf "$root"
fi
echo "linux-guest: $(cat "$out/kernel-package") in $out (vmlinuz, initrd.img)"
