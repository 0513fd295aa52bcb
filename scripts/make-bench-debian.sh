#!/usr/bin/env bash
# Builds the content-scan benchmark: a real Debian 12 root (the debootstrap guest root) plus
# 1.25 GiB of incompressible application data, both as a tree on disk (what gitleaks scans) and
# as a 3 GiB raw disk image (GPT, one ext4 partition made by mke2fs -d) holding the same tree.
#
#   scripts/make-bench-debian.sh GUEST_ROOT OUTDIR      -> OUTDIR/tree, OUTDIR/debian.raw
set -euo pipefail
src="$1" out="$2"
here="$(cd "$(dirname "$0")" && pwd)"
export PATH="$PATH:/usr/sbin:/sbin"
rm -rf "$out.tmp"
mkdir -p "$out.tmp"
cp -a "$src" "$out.tmp/tree"
mkdir -p "$out.tmp/tree/opt/app/data"
for i in $(seq -w 1 40); do
  head -c 32M /dev/urandom > "$out.tmp/tree/opt/app/data/blob-$i.bin"
done
"$here/mkfs-from-dir.sh" ext4 "$out.tmp/tree" "$out.tmp/root.img" 2900M -L root
truncate -s 3000M "$out.tmp/debian.raw"
printf 'label: gpt\nstart=1MiB, size=2900MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=root\n' | sfdisk -q "$out.tmp/debian.raw" >/dev/null
dd if="$out.tmp/root.img" of="$out.tmp/debian.raw" bs=1M seek=1 conv=notrunc,sparse status=none
rm -f "$out.tmp/root.img"
rm -rf "$out"
mv "$out.tmp" "$out"
