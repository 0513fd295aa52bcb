#!/usr/bin/env bash
# DigitalOcean's own Marketplace image validation script as the oracle (`make digitalocean`).
#
#   scripts/do-img-check.sh DO_SRC [PAGE]
#
# DO_SRC is a checkout (or a bare clone) of github.com/digitalocean/marketplace-partners that holds
# commit 65b85d4; its scripts/99-img-check.sh at that commit is run, never copied into this
# repository. For each image (the clean and dirty fixtures of scripts/make-fixtures.sh, and the
# digitalocean profile's clean and dirty images of testfixture.MarketplaceFixtures, and
# testfixture.DigitalOceanScriptQuirks, written by TestWriteOracleImages, -tags digitalocean, with
# their test advisories), this script:
#   1. copies the image's root tree out with the checker's own readers (do-compare extract: the
#      XFS root of the clean image with its /boot and ESP mounted, the ext4 root of the others);
#   2. gives the copy a toolbox: bash and the commands the script calls, copied from this host into
#      /.do-oracle with their libraries (and the dynamic loader into /lib64), /dev/null, and an apt
#      configuration that reads the image's dpkg status and a local archive holding the test
#      advisories' fixed openssl in a bookworm-security suite (testfixture.MarketplaceOSVRecords
#      state the same fact to security-updates-installed) instead of the network. It gives no
#      cloud-init, ufw, firewall-cmd, systemctl, lsmod or yum: the script finds the image's or none;
#   3. runs the script as root in a chroot of the copy, with no /proc: nothing of this host's
#      running state is the image's;
#   4. runs `check --profile digitalocean --format json` on the image with the same test advisory;
# then writes PAGE (docs/digitalocean.md): do-compare table reads each transcript's verdict per
# check and our findings, and fails on a difference it has no documented reason for.
set -euo pipefail
src="${1:?usage: do-img-check.sh DO_SRC [PAGE]  (DO_SRC: a checkout of digitalocean/marketplace-partners)}"
page="${2:-docs/digitalocean.md}"
commit=65b85d4c7af1ad3341313e859c0ee439a4b1c195
blob=907dbaaeb146b6f60415f9bcabd3803ca123e3d8 # git's object ID of scripts/99-img-check.sh at $commit
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
export PATH="$PATH:/usr/sbin:/sbin"

[ "$(id -u)" = 0 ] || { echo "do-img-check: chroot needs root" >&2; exit 2; }
for t in git chroot mknod ldd go; do
  command -v "$t" >/dev/null || { echo "do-img-check: $t not found" >&2; exit 2; }
done

work="$(mktemp -d)"
# DO_KEEP=1 keeps the work directory (the trees, transcripts and reports) and says where it is
if [ "${DO_KEEP:-}" = 1 ]; then echo "do-img-check: work directory $work" >&2; else trap 'rm -rf "$work"' EXIT; fi

# the script at the pinned commit, checked by its object ID
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
  git -C "$src" cat-file -e "$commit^{commit}" 2>/dev/null || { echo "do-img-check: $src does not hold commit $commit (git fetch it)" >&2; exit 2; }
  git -C "$src" show "$commit:scripts/99-img-check.sh" > "$work/99-img-check.sh"
else
  cp "$src/scripts/99-img-check.sh" "$work/99-img-check.sh"
fi
got="$(git hash-object "$work/99-img-check.sh")"
[ "$got" = "$blob" ] || { echo "do-img-check: scripts/99-img-check.sh is $got, not the pinned $blob (commit $commit)" >&2; exit 2; }

cd "$repo"
go build -o "$work/do-compare" ./internal/cmd/do-compare
go build -o "$work/checker" .

# the images and their vulnerability data, as TestPageMatchesOurVerdicts makes them
mkdir -p "$work/images"
DO_IMAGES="$work/images" go test -tags digitalocean -count 1 -run '^TestWriteOracleImages$' ./internal/cmd/do-compare/ >/dev/null
images=(clean dirty digitalocean-clean digitalocean-dirty script-quirks)

tools=(bash cat wc ls cut head sort date sed grep awk sleep mkdir chmod uname apt-get)

# toolbox TREE: the commands and their libraries in TREE/.do-oracle, the loader, /dev/null, apt.
toolbox() {
  local tree="$1" t p lib
  for p in .do-oracle lib64 dev; do
    [ ! -L "$tree/$p" ] || { echo "do-img-check: $tree/$p is a symbolic link: writing through it could leave the tree" >&2; exit 1; }
  done
  [ ! -e "$tree/.do-oracle" ] || { echo "do-img-check: the image has a /.do-oracle of its own" >&2; exit 1; }
  mkdir -p "$tree/.do-oracle/bin" "$tree/.do-oracle/lib" "$tree/.do-oracle/apt/methods" "$tree/lib64" "$tree/dev"
  for t in "${tools[@]}"; do
    p="$(command -v "$t")"
    cp -L "$p" "$tree/.do-oracle/bin/$t"
  done
  for p in /usr/lib/apt/methods/file /usr/lib/apt/methods/store /usr/lib/apt/methods/copy; do
    cp -L "$p" "$tree/.do-oracle/apt/methods/"
  done
  for lib in $(ldd "$tree"/.do-oracle/bin/* "$tree"/.do-oracle/apt/methods/* 2>/dev/null | grep -o '/[^ ]*\.so[^ ]*' | sort -u); do
    case "$lib" in
      */ld-linux*) [ -e "$tree/lib64/$(basename "$lib")" ] || cp -L "$lib" "$tree/lib64/" ;;
      *) cp -L "$lib" "$tree/.do-oracle/lib/" ;;
    esac
  done
  rm -f "$tree/dev/null"; mknod -m 666 "$tree/dev/null" c 1 3
  cp "$work/99-img-check.sh" "$tree/.do-oracle/99-img-check.sh"
  # apt: the image's dpkg status, the local archive, nothing of the image's or the host's /etc/apt
  local a="$tree/.do-oracle/apt"
  mkdir -p "$a/etc/sources.list.d" "$a/etc/apt.conf.d" "$a/etc/preferences.d" "$a/state/lists/partial" "$a/cache/archives/partial" "$a/log" "$a/archive"
  cat > "$a/apt.conf" <<'CONF'
Dir "/";
Dir::State "/.do-oracle/apt/state";
Dir::State::status "/var/lib/dpkg/status";
Dir::Cache "/.do-oracle/apt/cache";
Dir::Etc "/.do-oracle/apt/etc";
Dir::Etc::sourcelist "sources.list";
Dir::Etc::sourceparts "sources.list.d";
Dir::Etc::parts "apt.conf.d";
Dir::Etc::preferencesparts "preferences.d";
Dir::Bin::Methods "/.do-oracle/apt/methods";
Dir::Log "/.do-oracle/apt/log";
APT::Sandbox::User "root";
APT::Architecture "amd64";
Acquire::Languages "none";
Dir::dpkg::cputable "/.do-oracle/apt/cputable";
Dir::dpkg::tupletable "/.do-oracle/apt/tupletable";
CONF
  cp /usr/share/dpkg/cputable /usr/share/dpkg/tupletable "$a/"
  echo 'deb [trusted=yes] file:/.do-oracle/apt/archive ./' > "$a/etc/sources.list"
  printf 'Package: openssl\nVersion: 3.0.11-1~deb12u2\nArchitecture: amd64\nPriority: optional\nSection: utils\nFilename: ./openssl_3.0.11-1~deb12u2_amd64.deb\nSize: 1\nDescription: openssl (the test advisory DEMO-OPENSSL-1 fixed version)\n\n' > "$a/archive/Packages"
  {
    printf 'Origin: Debian\nLabel: Debian-Security\nSuite: bookworm-security\nCodename: bookworm-security\nArchitectures: amd64\nDate: %s\nSHA256:\n' "$(LC_ALL=C date -u -R)"
    printf ' %s %s Packages\n' "$(sha256sum "$a/archive/Packages" | cut -d' ' -f1)" "$(wc -c < "$a/archive/Packages")"
  } > "$a/archive/Release"
}

args=()
for img in "${images[@]}"; do
  tree="$work/$img-root"
  "$work/do-compare" extract "$work/images/$img.raw" "$tree"
  toolbox "$tree"
  # the script exits 1 when a check fails: its transcript is the record either way
  env -i PATH=/.do-oracle/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LD_LIBRARY_PATH=/.do-oracle/lib APT_CONFIG=/.do-oracle/apt/apt.conf HOME=/root TERM=dumb LC_ALL=C \
    chroot "$tree" /.do-oracle/bin/bash /.do-oracle/99-img-check.sh > "$work/$img.do.txt" 2> "$work/$img.do.err" || true
  # (the transcript quotes the keys and logs the script found: only its verdict lines and its
  # errors are shown; DO_KEEP=1 keeps the whole of it)
  grep -q 'Scan Complete' "$work/$img.do.txt" || {
    echo "do-img-check: the script did not finish on $img:" >&2
    grep -E '\[(PASS|WARN|FAIL| OK )\]' "$work/$img.do.txt" >&2 || true
    cat "$work/$img.do.err" >&2; exit 1; }
  # our verdicts: check exits non-zero on a failing image; the JSON is the record
  "$work/checker" check --profile digitalocean --format json --vulnerability-db "$work/images/osv" "$work/images/$img.raw" > "$work/$img.json" || true
  grep -q '"findings"' "$work/$img.json" || { echo "do-img-check: no report of ours on $img" >&2; exit 1; }
  echo "== $img: DigitalOcean's script"
  grep -E '\[(PASS|WARN|FAIL| OK )\]' "$work/$img.do.txt" | sed 's/\x1b\[[0-9;]*m//g' | sed 's/^/   /' | cut -c1-150
  args+=("$img=$work/$img.do.txt=$work/$img.json")
done
"$work/do-compare" table -o "$page" -commit "$commit" "${args[@]}"
echo "wrote $page"
