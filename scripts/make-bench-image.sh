#!/usr/bin/env bash
# Builds the benchmark image: a 2.5 GiB raw disk (GPT, one ext4 root partition) holding the
# compliant tree plus 2 GiB of incompressible application data, so that a plain read of the
# file costs what reading a real image costs.
#
#   scripts/make-bench-image.sh FIXTURES_DIR OUT.raw
set -euo pipefail
fx="$1" out="$2"
here="$(cd "$(dirname "$0")" && pwd)"
export PATH="$PATH:/usr/sbin:/sbin"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -a "$fx/trees/clean" "$work/root"
mkdir -p "$work/root/opt/app/data"
for i in $(seq -w 1 64); do
  head -c 32M /dev/urandom > "$work/root/opt/app/data/blob-$i.bin"
done
"$here/mkfs-from-dir.sh" ext4 "$work/root" "$work/root.img" 2400M -L root
rm -f "$out"; truncate -s 2500M "$out"
printf 'label: gpt\nstart=1MiB, size=2400MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=root\n' | sfdisk -q "$out" >/dev/null
dd if="$work/root.img" of="$out" bs=1M seek=1 conv=notrunc,sparse status=none
