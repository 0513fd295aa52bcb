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
# security-updates-installed downloads the release's OSV dump; here a local HTTPS server plays
# OSV's bucket with a fixture dump (one advisory: openssl fixed in 3.0.11-1~deb12u2), trusted
# through SSL_CERT_FILE, and the cache goes under demo/ instead of ~/.cache
echo "==> serving the demo's OSV dump over HTTPS on 127.0.0.1 (internal/cmd/osv-demo-server)"
go build -o demo/osv-demo-server ./internal/cmd/osv-demo-server
rm -f demo/osv-url
exec 3> >(demo/osv-demo-server -records testdata/osv -cert demo/osv-ca.pem -url demo/osv-url)
for _ in $(seq 1 100); do [ -s demo/osv-url ] && break; sleep 0.1; done
[ -s demo/osv-url ] || { echo "demo: the OSV demo server did not start" >&2; exit 1; }
osv_url="$(cat demo/osv-url)"
export SSL_CERT_FILE="$root/demo/osv-ca.pem" XDG_CACHE_HOME="$root/demo/cache"
echo "    $osv_url"
echo
echo "==> checking demo/images/dirty.qcow2 (every rule broken once): expect NOT COMPLIANT"
set +e
$bin check --profile azure-linux --profile alibaba --vulnerability-db "$osv_url" --json demo/dirty.json --junit demo/dirty-junit.xml demo/images/dirty.qcow2
dirty=$?
echo
echo "==> checking demo/images/clean-fixed.vhd (ready for Azure): expect COMPLIANT"
$bin check --profile azure-linux --vulnerability-db "$osv_url" --json demo/clean.json demo/images/clean-fixed.vhd
clean=$?
exec 3>&-   # the OSV demo server stops when its stdin closes
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
