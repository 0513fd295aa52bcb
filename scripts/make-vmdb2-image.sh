#!/usr/bin/env bash
# Builds a Debian 12 image with vmdb2 (Debian's image builder, not ours) from
# scripts/vmdb2/debian12.vmdb, for the tests that read real images from independent builders.
# Needs root, loop devices and Debian's package archive; on kernels without device-mapper the
# kpartx stand-in in scripts/vmdb2 is put first on PATH (vmdb2 needs kpartx's partition devices).
#
#   scripts/make-vmdb2-image.sh OUT.raw
set -euo pipefail
out="${1:?usage: make-vmdb2-image.sh OUT.raw}"
here="$(cd "$(dirname "$0")" && pwd)"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
export PATH="$PATH:/usr/sbin:/sbin"
[ "$(id -u)" -eq 0 ] || { echo "make-vmdb2-image: needs root (loop devices, mounts, chroot)" >&2; exit 2; }
for t in vmdb2 debootstrap parted losetup partx; do
  command -v "$t" >/dev/null || { echo "make-vmdb2-image: $t not found (apt-get install vmdb2 debootstrap parted util-linux)" >&2; exit 2; }
done
if [ ! -e /dev/mapper/control ]; then
  export PATH="$here/vmdb2:$PATH"
fi
rm -f "$out" "$out.tmp"
log="$out.log"
if ! vmdb2 --variable "mirror=$mirror" --output "$out.tmp" --log "$log" "$here/vmdb2/debian12.vmdb" >"$log.stdout" 2>&1; then
  tail -30 "$log.stdout" >&2
  # leave no loop device behind
  for d in $(losetup -j "$out.tmp" -O NAME -n 2>/dev/null); do partx -d "$d" 2>/dev/null || true; losetup -d "$d" || true; done
  exit 1
fi
mv "$out.tmp" "$out"
