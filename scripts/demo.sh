#!/usr/bin/env bash
# The demo: build the plugin, build two small Linux disk images and two small Windows Server
# images (in each pair one compliant, one that breaks every rule), and check them with the
# plugin's own command. Everything lands in ./demo.
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
echo "==> building two Windows Server images (mkntfs, libntfs-3g, registry hives by hivexregedit) into demo/"
go run ./internal/cmd/make-windows-image -dirty demo/images/windows-dirty.vhd
go run ./internal/cmd/make-windows-image demo/images/windows-clean.vhd
echo
echo "==> checking demo/images/windows-dirty.vhd (not generalized, keys, histories, ...): expect NOT COMPLIANT"
set +e
$bin check --profile azure-windows --json demo/windows-dirty.json demo/images/windows-dirty.vhd
wdirty=$?
echo
echo "==> checking demo/images/windows-clean.vhd (generalized, cleaned): expect COMPLIANT"
$bin check --profile azure-windows --json demo/windows-clean.json demo/images/windows-clean.vhd
wclean=$?
set -e
echo
echo "Linux:   dirty image exit $dirty (1 = violations), clean image exit $clean (0 = compliant)"
echo "Windows: dirty image exit $wdirty, clean image exit $wclean"
echo "reports: demo/dirty.json demo/dirty-junit.xml demo/clean.json demo/windows-dirty.json demo/windows-clean.json"
[ "$dirty" -eq 1 ] && [ "$clean" -eq 0 ] && [ "$wdirty" -eq 1 ] && [ "$wclean" -eq 0 ]
