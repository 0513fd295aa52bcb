#!/usr/bin/env bash
# Makes a real rpm database with the real rpm tools (Debian package `rpm`): builds an empty
# package for each NAME:EPOCH:VERSION:RELEASE with rpmbuild and records it with
# `rpm -i --justdb` in DBDIR.
#
#   scripts/make-rpmdb.sh DBDIR NAME:EPOCH:VERSION:RELEASE...
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
  IFS=: read -r name epoch version release <<<"$spec"
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
  rpmbuild --quiet --define "_topdir $work/top" -bb "$work/$name.spec" >/dev/null 2>&1
  rpms+=("$(find "$work/top/RPMS" -name "$name-$version-*.rpm" | head -n1)")
done
rpm --define "_db_backend sqlite" --initdb --dbpath "$db"
rpm --define "_db_backend sqlite" -i --justdb --nodeps --noscripts --ignorearch --ignoreos \
  --dbpath "$db" "${rpms[@]}" 2>/dev/null
rm -f "$db/.rpm.lock" "$db/rpmdb.sqlite-shm"
