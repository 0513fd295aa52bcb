#!/usr/bin/env bash
# Builds the pinned tools the tests and the release use from the Go module proxy into .tools/bin:
#
#   scripts/get-tools.sh [packer] [qemu] [azure] [goreleaser] [gitleaks] [actionlint] [gremlins] [osv-scanner] [cloud-init] [systemd-boot] [netplan] [ifupdown] [azurite] [pscheck]
#   (no argument: packer only)
#
#   packer               github.com/hashicorp/packer           $PACKER_VERSION (v1.14.3)
#   packer-plugin-qemu   github.com/hashicorp/packer-plugin-qemu  $QEMU_PLUGIN_VERSION (v1.0.9)
#   packer-plugin-azure  github.com/hashicorp/packer-plugin-azure $AZURE_PLUGIN_VERSION (v1.4.5)
#   goreleaser           github.com/goreleaser/goreleaser/v2      $GORELEASER_VERSION (v2.15.2: v2.15.0
#                        and v2.15.1 list the signature of SHA256SUMS in SHA256SUMS after signing
#                        it, which invalidates the signature; release.sh verifies it)
#   gitleaks             github.com/zricethezav/gitleaks/v8       the version go.mod requires (the
#                        content-scan benchmark compares against the same rules as a command)
#   actionlint           github.com/rhysd/actionlint               $ACTIONLINT_VERSION (v1.7.12): lints
#                        .github/workflows (and their run: scripts with shellcheck when installed)
#   gremlins             github.com/go-gremlins/gremlins          $GREMLINS_VERSION (v0.5.1): mutation
#                        testing of the verdict path (make mutation)
#   osv-scanner          github.com/google/osv-scanner/v2          $OSV_SCANNER_VERSION (v2.2.4), static: the oracle
#                        of security-updates-installed (the same dump, offline, run chrooted into
#                        the unpacked package database: its dpkg extractor reads only from /)
#   systemd-boot         Debian's systemd-boot package (apt-get download, unpacked, never installed) into
#                        .tools/systemd-boot: its bootctl is the oracle of the systemd-boot facts
#   cloud-init           Debian's cloud-init package (apt-get download, unpacked, never installed) into
#                        .tools/cloud-init: its own Python code is the oracle of the cloud-init facts
#   netplan              Debian's netplan.io and libnetplan0 packages (apt-get download, unpacked, never
#                        installed) into .tools/netplan: its usr/libexec/netplan/generate (LD_LIBRARY_PATH=usr/lib/<multiarch>
#                        for libnetplan.so.0.0) is the oracle of the netplan facts
#   ifupdown             Debian's ifupdown package (apt-get download, unpacked, never installed) into
#                        .tools/ifupdown: its ifquery (ifup) is the oracle of the ifupdown facts
#   azurite              the Azure Storage emulator, from the npm registry, into .tools/azurite
#                        ($AZURITE_VERSION, 3.37.0; needs node and npm)
#   pscheck              a PowerShell syntax checker (scripts/ps-syntax-check.mjs) with the
#                        tree-sitter PowerShell grammar 0.25.10 and web-tree-sitter 0.25.10 from
#                        npm, into .tools/pscheck
#
# `go install` of these is refused by the proxy, so a throwaway module requires the exact version
# (with the go-cty replacement the Packer SDK needs). The azure plugin's v2 releases are not
# importable as Go modules (no /v2 path), so v1.4.5, its last v1, is the newest buildable here; it
# is used to validate the azure-arm example templates. Builds are skipped when the binary of that
# version is already there.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/.tools/bin"
mkdir -p "$bin"

# build NAME MODULE VERSION [PACKAGE]: go build PACKAGE (default MODULE) of MODULE@VERSION into
# $bin/NAME, unless it is there already
build() {
  local name="$1" module="$2" version="$3" pkg="${4:-$2}" work
  if [ -x "$bin/$name" ] && [ "$(cat "$bin/$name.version" 2>/dev/null)" = "$module $version" ]; then
    return 0
  fi
  echo "get-tools: building $name ($module $version) from the Go module proxy into $bin (minutes on a cold cache)" >&2
  work="$(mktemp -d)"
  (
    cd "$work"
    cat > go.mod <<MOD
module toolbuild

go 1.24

require $module $version

replace github.com/zclconf/go-cty => github.com/nywilken/go-cty v1.13.3
MOD
    printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$pkg" > tools.go
    export GONOSUMDB=github.com/hashicorp,github.com/goreleaser,github.com/zricethezav,github.com/rhysd,github.com/go-gremlins,github.com/google/osv-scanner
    GOFLAGS=-mod=mod go mod tidy >tidy.log 2>&1 || { cat tidy.log >&2; exit 1; }
    go build -o "$bin/$name" "$pkg"
  )
  rm -rf "$work"
  echo "$module $version" > "$bin/$name.version"
  echo "get-tools: built $bin/$name ($module $version)" >&2
}

[ $# -gt 0 ] || set -- packer
for what in "$@"; do
  case "$what" in
    packer) build packer github.com/hashicorp/packer "${PACKER_VERSION:-v1.14.3}" ;;
    qemu)   build packer-plugin-qemu github.com/hashicorp/packer-plugin-qemu "${QEMU_PLUGIN_VERSION:-v1.0.9}" ;;
    azure)  build packer-plugin-azure github.com/hashicorp/packer-plugin-azure "${AZURE_PLUGIN_VERSION:-v1.4.5}" ;;
    goreleaser) build goreleaser github.com/goreleaser/goreleaser/v2 "${GORELEASER_VERSION:-v2.15.2}" ;;
    actionlint) build actionlint github.com/rhysd/actionlint "${ACTIONLINT_VERSION:-v1.7.12}" github.com/rhysd/actionlint/cmd/actionlint ;;
    gremlins) build gremlins github.com/go-gremlins/gremlins "${GREMLINS_VERSION:-v0.5.1}" github.com/go-gremlins/gremlins/cmd/gremlins ;;
    osv-scanner) CGO_ENABLED=0 build osv-scanner github.com/google/osv-scanner/v2 "${OSV_SCANNER_VERSION:-v2.2.4}" github.com/google/osv-scanner/v2/cmd/osv-scanner ;;
    gitleaks) build gitleaks github.com/zricethezav/gitleaks/v8 "$(cd "$root" && go list -m -f '{{.Version}}' github.com/zricethezav/gitleaks/v8)" ;;
    cloud-init)
      d="$root/.tools/cloud-init"
      if [ ! -d "$d/usr/lib/python3/dist-packages/cloudinit" ]; then
        command -v apt-get >/dev/null || { echo "get-tools: apt-get not found (cloud-init comes from Debian's archive)" >&2; exit 2; }
        work="$(mktemp -d)"
        (cd "$work" && apt-get download -q cloud-init >/dev/null 2>&1) || {
          [ "$(id -u)" -eq 0 ] && apt-get update -qq && (cd "$work" && apt-get download -q cloud-init >/dev/null)
        } || { echo "get-tools: apt-get download cloud-init failed" >&2; rm -rf "$work"; exit 1; }
        mkdir -p "$d" && dpkg-deb -x "$work"/cloud-init_*.deb "$d"
        basename "$work"/cloud-init_*.deb > "$d/version"
        rm -rf "$work"
        echo "get-tools: unpacked $(cat "$d/version") into $d" >&2
      fi ;;
    systemd-boot)
      d="$root/.tools/systemd-boot"
      if [ ! -x "$d/usr/bin/bootctl" ]; then
        command -v apt-get >/dev/null || { echo "get-tools: apt-get not found (systemd-boot comes from Debian's archive)" >&2; exit 2; }
        work="$(mktemp -d)"
        (cd "$work" && apt-get download -q systemd-boot >/dev/null 2>&1) || {
          [ "$(id -u)" -eq 0 ] && apt-get update -qq && (cd "$work" && apt-get download -q systemd-boot >/dev/null)
        } || { echo "get-tools: apt-get download systemd-boot failed" >&2; rm -rf "$work"; exit 1; }
        mkdir -p "$d" && dpkg-deb -x "$work"/systemd-boot_*.deb "$d"
        basename "$work"/systemd-boot_*.deb > "$d/version"
        rm -rf "$work"
        echo "get-tools: unpacked $(cat "$d/version") into $d" >&2
      fi ;;
    netplan | ifupdown)
      # deb PACKAGE...: the packages of this target, unpacked into .tools/$what
      d="$root/.tools/$what"
      case "$what" in
        netplan) pkgs="netplan.io libnetplan0" check="$d/usr/libexec/netplan/generate" ;;
        ifupdown) pkgs="ifupdown" check="$d/sbin/ifquery" ;;
      esac
      if [ ! -e "$check" ]; then
        command -v apt-get >/dev/null || { echo "get-tools: apt-get not found ($what comes from Debian's archive)" >&2; exit 2; }
        work="$(mktemp -d)"
        # shellcheck disable=SC2086 # pkgs is a list of package names
        (cd "$work" && apt-get download -q $pkgs >/dev/null 2>&1) || {
          [ "$(id -u)" -eq 0 ] && apt-get update -qq && (cd "$work" && apt-get download -q $pkgs >/dev/null)
        } || { echo "get-tools: apt-get download $pkgs failed" >&2; rm -rf "$work"; exit 1; }
        mkdir -p "$d"
        for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$d"; done
        for deb in "$work"/*.deb; do basename "$deb"; done > "$d/version"
        rm -rf "$work"
        echo "get-tools: unpacked $(tr '\n' ' ' < "$d/version")into $d" >&2
      fi ;;
    azurite)
      v="${AZURITE_VERSION:-3.37.0}"
      if [ "$(cat "$root/.tools/azurite/version" 2>/dev/null)" != "$v" ]; then
        command -v npm >/dev/null || { echo "get-tools: npm not found (Azurite comes from the npm registry)" >&2; exit 2; }
        mkdir -p "$root/.tools/azurite"
        npm install --silent --no-audit --no-fund --prefix "$root/.tools/azurite" "azurite@$v" >/dev/null
        echo "$v" > "$root/.tools/azurite/version"
        echo "installed azurite $v into $root/.tools/azurite" >&2
      fi ;;
    pscheck)
      v="0.25.10"
      if [ "$(cat "$root/.tools/pscheck/version" 2>/dev/null)" != "$v" ]; then
        command -v npm >/dev/null || { echo "get-tools: npm not found (the PowerShell grammar comes from the npm registry)" >&2; exit 2; }
        mkdir -p "$root/.tools/pscheck"
        npm install --silent --no-audit --no-fund --ignore-scripts --prefix "$root/.tools/pscheck" \
          "web-tree-sitter@$v" "tree-sitter-powershell@$v" >/dev/null
        echo "$v" > "$root/.tools/pscheck/version"
        echo "installed the PowerShell syntax checker into $root/.tools/pscheck" >&2
      fi
      # next to its node_modules, where Node's module resolution finds them
      cp "$root/scripts/ps-syntax-check.mjs" "$root/.tools/pscheck/check.mjs"
      ;;
    *) echo "get-tools: unknown $what (packer, qemu, azure, goreleaser, gitleaks, actionlint, gremlins, osv-scanner, cloud-init, systemd-boot, netplan, ifupdown, azurite, pscheck)" >&2; exit 2 ;;
  esac
done
