#!/usr/bin/env bash
# Makes a filesystem image holding a copy of a directory, without root, mounts or loop devices.
#
#   scripts/mkfs-from-dir.sh TYPE DIR IMAGE SIZE [mkfs options...]
#
# TYPE is ext2, ext3, ext4 (mke2fs -d), xfs (mkfs.xfs -p with a generated prototype file) or
# ntfs (mkntfs, then scripts/ntfs-from-dir.c, built here with libntfs-3g, copies the tree).
# XFS below 300 MiB is allowed the way xfstests does it (QA_CHECK_FS), for small test images.
set -euo pipefail
type="$1" dir="$2" img="$3" size="$4"; shift 4
export PATH="$PATH:/usr/sbin:/sbin"

# prototype DIR: an mkfs.xfs prototype file copying DIR (files, dirs, symlinks), owned by root.
# find walks depth-first in pre-order, which is the order the prototype wants; awk closes each
# directory with "$" when the walk leaves it. (Names with blanks cannot be expressed in it.)
prototype() {
  echo "/dev/null"; echo "0 0"; echo "d--755 0 0"
  find "$1" -mindepth 1 -printf '%d\t%y\t%m\t%f\t%p\t%l\n' | awk -F'\t' '
    function indent(n,   s) { s = ""; while (n-- > 0) s = s " "; return s }
    {
      while (open > 0 && $1 <= depth[open]) { print indent(depth[open]) "$"; open-- }
      mode = sprintf("%03d", $3 % 1000)
      if ($2 == "d") { print indent($1) $4 " d--" mode " 0 0"; depth[++open] = $1 }
      else if ($2 == "l") print indent($1) $4 " l--" mode " 0 0 " $6
      else if ($2 == "f") print indent($1) $4 " ---" mode " 0 0 " $5
    }
    END { while (open > 0) { print indent(depth[open]) "$"; open-- } }'
  echo "\$"
}

case "$type" in
  ext2|ext3|ext4)
    rm -f "$img"; truncate -s "$size" "$img"
    mke2fs -q -F -t "$type" -d "$dir" "$@" "$img"
    ;;
  xfs)
    proto="$(mktemp)"
    trap 'rm -f "$proto"' EXIT
    prototype "$dir" > "$proto"
    rm -f "$img"; truncate -s "$size" "$img"
    QA_CHECK_FS=1 TEST_DIR=/tmp TEST_DEV=image mkfs.xfs -q -f -p "$proto" "$@" "$img"
    ;;
  ntfs)
    here="$(cd "$(dirname "$0")" && pwd)"
    tool="$here/../.tools/bin/ntfs-from-dir"
    if [ ! -x "$tool" ] || [ "$here/ntfs-from-dir.c" -nt "$tool" ]; then
      mkdir -p "$(dirname "$tool")"
      cc -O2 -Wall -Werror -o "$tool.tmp.$$" "$here/ntfs-from-dir.c" -lntfs-3g
      mv "$tool.tmp.$$" "$tool"
    fi
    rm -f "$img"; truncate -s "$size" "$img"
    mkntfs -q -F -f "$@" "$img" 2>/dev/null
    "$tool" "$img" "$dir"
    ;;
  *)
    echo "mkfs-from-dir: unknown type $type" >&2; exit 2
    ;;
esac
