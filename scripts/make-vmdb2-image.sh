#!/usr/bin/env bash
# Builds a Debian 12 image with vmdb2 (Debian's image builder, not ours) from
# scripts/vmdb2/debian12.vmdb, for the tests that read real images from independent builders.
# Needs root, loop devices and Debian's package archive; the kpartx stand-in in scripts/vmdb2 is
# put first on PATH (vmdb2 needs kpartx's partition devices; it needs no device-mapper).
#
#   scripts/make-vmdb2-image.sh OUT.raw
set -euo pipefail
out="${1:?usage: make-vmdb2-image.sh OUT.raw}"
here="$(cd "$(dirname "$0")" && pwd)"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
export PATH="$PATH:/usr/sbin:/sbin"
[ "$(id -u)" -eq 0 ] || { echo "make-vmdb2-image: needs root (loop devices, mounts, chroot)" >&2; exit 2; }
for t in vmdb2 debootstrap parted losetup partx zerofree; do
  command -v "$t" >/dev/null || { echo "make-vmdb2-image: $t not found (apt-get install vmdb2 debootstrap parted util-linux zerofree)" >&2; exit 2; }
done
# kpartx needs device-mapper, which containers and minimal kernels lack: the stand-in is used
# everywhere, so that the image is made the same way on every machine
export PATH="$here/vmdb2:$PATH"
mkdir -p "$(dirname "$out")"
rm -f "$out" "$out.tmp"
log="$out.log"
if ! vmdb2 --variable "mirror=$mirror" --output "$out.tmp" --log "$log" "$here/vmdb2/debian12.vmdb" >"$log.stdout" 2>&1; then
  tail -30 "$log.stdout" >&2
  # leave no loop device behind
  for d in $(losetup -j "$out.tmp" -O NAME -n 2>/dev/null); do partx -d "$d" 2>/dev/null || true; losetup -d "$d" || true; done
  exit 1
fi
mv "$out.tmp" "$out"
