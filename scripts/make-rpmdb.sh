#!/usr/bin/env bash
# Makes a real rpm database with the real rpm tools (Debian package `rpm`): builds an empty
# package for each NAME:EPOCH:VERSION:RELEASE[:SOURCE] with rpmbuild and records it with
# `rpm -i --justdb` in DBDIR. With SOURCE, NAME is built as a subpackage of the source package
# SOURCE (its SOURCERPM is SOURCE-VERSION-RELEASE.src.rpm), as openssl-libs is of openssl.
#
#   scripts/make-rpmdb.sh DBDIR NAME:EPOCH:VERSION:RELEASE[:SOURCE]...
#
# The database is SQLite, as on RHEL 9, Fedora and Azure Linux. (Debian's rpm cannot write the
# NDB or Berkeley DB formats; the reader handles them, but they are not made here.)
set -euo pipefail
db="$1"; shift
command -v rpmbuild >/dev/null || { echo "make-rpmdb: rpmbuild not found (apt-get install rpm)" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$db"
db="$(cd "$db" && pwd)"
rpms=()
for spec in "$@"; do
  IFS=: read -r name epoch version release source <<<"$spec"
  if [ -n "${source:-}" ]; then
    cat > "$work/$name.spec" <<SPEC
Name: $source
Version: $version
Release: $release
Epoch: $epoch
Summary: $source (test source package)
License: MIT
BuildArch: x86_64
%description
The source package of $name.
%package -n $name
Summary: $name (test package)
%description -n $name
An empty package that only exists in the database.
%files -n $name
SPEC
  else
    cat > "$work/$name.spec" <<SPEC
Name: $name
Version: $version
Release: $release
Epoch: $epoch
Summary: $name (test package)
License: MIT
BuildArch: x86_64
%description
An empty package that only exists in the database.
%files
SPEC
  fi
  rpmbuild --quiet --define "_topdir $work/top" -bb "$work/$name.spec" >/dev/null 2>&1
  rpms+=("$(find "$work/top/RPMS" -name "$name-$version-*.rpm" | head -n1)")
done
rpm --define "_db_backend sqlite" --initdb --dbpath "$db"
rpm --define "_db_backend sqlite" -i --justdb --nodeps --noscripts --ignorearch --ignoreos \
  --dbpath "$db" "${rpms[@]}" 2>/dev/null
rm -f "$db/.rpm.lock" "$db/rpmdb.sqlite-shm"
