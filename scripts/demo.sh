#!/usr/bin/env bash
# The demo: build the plugin, build two small disk images (one compliant, one that breaks every
# rule), and check both with the plugin's own command. Everything lands in ./demo.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bin=./packer-plugin-marketplace
mkdir -p demo
echo "==> building images (mke2fs -d, mkfs.xfs -p, sfdisk, qemu-img) into demo/"
scripts/make-fixtures.sh demo/images >/dev/null
echo
echo "==> checking demo/images/dirty.qcow2 (every rule broken once): expect NOT COMPLIANT"
set +e
$bin check --profile azure-linux --profile alibaba --json demo/dirty.json --junit demo/dirty-junit.xml demo/images/dirty.qcow2
dirty=$?
echo
echo "==> checking demo/images/clean-fixed.vhd (ready for Azure): expect COMPLIANT"
$bin check --profile azure-linux --json demo/clean.json demo/images/clean-fixed.vhd
clean=$?
set -e
echo
echo "dirty image: exit $dirty (1 = violations); clean image: exit $clean (0 = compliant)"
echo "reports: demo/dirty.json demo/dirty-junit.xml demo/clean.json"
[ "$dirty" -eq 1 ] && [ "$clean" -eq 0 ]
