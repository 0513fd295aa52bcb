#!/usr/bin/env bash
# Builds a release with goreleaser (.goreleaser.yml) and checks that it follows the Packer plugin
# convention: for every OS/arch a zip named packer-plugin-marketplace_v{VERSION}_{API}_{OS}_{ARCH}.zip
# holding the binary of the same name, listed with its digest in ..._SHA256SUMS. goreleaser runs
# `packer-sdc plugin-check` on the host binary while it builds.
#
#   scripts/release.sh --snapshot      a local snapshot (version x.y.z-dev), nothing published
#   scripts/release.sh                 a release of the current tag (needs GITHUB_TOKEN and
#                                      GPG_FINGERPRINT: .github/workflows/release.yml)
#
# With GPG_FINGERPRINT set, the SHA256SUMS file is signed with that key and the signature is
# verified; without it a snapshot is not signed and a release is refused.
#
# RELEASE_HOST_ONLY=1 builds linux_amd64 only (what CI does: the full matrix takes long on 2 cores).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
command -v unzip >/dev/null || { echo "release: unzip not found (apt-get install unzip)" >&2; exit 2; }
scripts/get-tools.sh goreleaser
API_VERSION="$(go run . describe | sed -E 's/.*"api_version":"([^"]+)".*/\1/')"
export API_VERSION
case "$API_VERSION" in x[0-9]*.[0-9]*) ;; *) echo "release: cannot read the API version from describe" >&2; exit 1 ;; esac
sign=()
if [ -z "${GPG_FINGERPRINT:-}" ]; then
  case " $* " in
    *" --snapshot "*) sign=(--skip=sign) ;;
    *) echo "release: GPG_FINGERPRINT is not set: a release's SHA256SUMS must be signed" >&2; exit 2 ;;
  esac
fi
.tools/bin/goreleaser release --clean ${sign[@]+"${sign[@]}"} "$@"

sums="$(ls dist/*_SHA256SUMS)"
version="$(basename "$sums" | sed -E 's/^packer-plugin-marketplace_v(.*)_SHA256SUMS$/\1/')"
fail=0
targets="linux_amd64 linux_arm64 darwin_amd64 darwin_arm64 windows_amd64 windows_arm64 freebsd_amd64 freebsd_arm64"
[ -z "${RELEASE_HOST_ONLY:-}" ] || targets="linux_amd64"
for target in $targets; do
  os="${target%_*}" arch="${target#*_}"
  name="packer-plugin-marketplace_v${version}_${API_VERSION}_${os}_${arch}"
  zip="dist/$name.zip"
  exe="$name"; [ "$os" = windows ] && exe="$name.exe"
  if [ ! -f "$zip" ]; then echo "release: missing $zip" >&2; fail=1; continue; fi
  if ! unzip -Z1 "$zip" | grep -qx "$exe"; then echo "release: $zip does not hold $exe" >&2; fail=1; fi
  if ! grep -q "  $name.zip\$" "$sums"; then echo "release: $sums does not list $name.zip" >&2; fail=1; fi
done
(cd dist && sha256sum --quiet -c "$(basename "$sums")") || fail=1
if [ -n "${GPG_FINGERPRINT:-}" ]; then
  if ! gpg --batch --verify "$sums.sig" "$sums" 2>/dev/null; then echo "release: $sums.sig does not verify" >&2; fail=1; fi
fi
[ "$fail" = 0 ] || exit 1
signed=""; [ -z "${GPG_FINGERPRINT:-}" ] || signed=", signature verified"
echo "release: $(grep -c '\.zip$' "$sums") archives of packer-plugin-marketplace v$version ($API_VERSION) in dist/, checksums verified$signed"
