#!/usr/bin/env bash
# Builds a benchmark image: a raw disk (GPT, one ext4 partition made by mke2fs -d, no mounts)
# holding a copy of TREE plus BLOBS files of 32 MiB of incompressible application data in
# /opt/app/data, so that reading the image costs what reading a real one costs.
#
#   scripts/make-bench-image.sh TREE OUTDIR BLOBS PART_MIB DISK_MIB
#
# Writes OUTDIR/disk.raw; with KEEP_TREE=1 also OUTDIR/tree, the same files unpacked on disk (what
# a tool that scans directories, like gitleaks, is compared on).
set -euo pipefail
src="$1" out="$2" blobs="$3" part="$4" disk="$5"
here="$(cd "$(dirname "$0")" && pwd)"
export PATH="$PATH:/usr/sbin:/sbin"
rm -rf "$out.tmp"
mkdir -p "$out.tmp"
cp -a "$src" "$out.tmp/tree"
mkdir -p "$out.tmp/tree/opt/app/data"
for i in $(seq -w 1 "$blobs"); do
  head -c 32M /dev/urandom > "$out.tmp/tree/opt/app/data/blob-$i.bin"
done
"$here/mkfs-from-dir.sh" ext4 "$out.tmp/tree" "$out.tmp/root.img" "${part}M" -L root
truncate -s "${disk}M" "$out.tmp/disk.raw"
printf 'label: gpt\nstart=1MiB, size=%sMiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=root\n' "$part" | sfdisk -q "$out.tmp/disk.raw" >/dev/null
dd if="$out.tmp/root.img" of="$out.tmp/disk.raw" bs=1M seek=1 conv=notrunc,sparse status=none
rm -f "$out.tmp/root.img"
[ "${KEEP_TREE:-}" = 1 ] || rm -rf "$out.tmp/tree"
rm -rf "$out"
mv "$out.tmp" "$out"
