#!/usr/bin/env bash
# Builds a real Debian 12 root filesystem with debootstrap (from Debian's package archive) for the
# provisioner tests and the bootable guest of the end-to-end builds (scripts/make-guest-image.sh):
# a kernel with its initramfs, systemd as init, OpenSSH server, sudo, the Azure Linux agent
# (waagent) and GRUB's configuration tools, then the leftovers a build leaves behind (a test user with a password, histories,
# keys, logs, temporary files, a static resolv.conf).
#
#   scripts/make-guest-root.sh OUTDIR
set -euo pipefail
out="${1:?usage: make-guest-root.sh OUTDIR}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
export PATH="$PATH:/usr/sbin:/sbin"
command -v debootstrap >/dev/null || { echo "make-guest-root: debootstrap not found (apt-get install debootstrap)" >&2; exit 2; }
rm -rf "$out.tmp"
debootstrap --variant=minbase --include=linux-image-amd64,systemd-sysv,udev,openssh-server,sudo,waagent,grub2-common,systemd,openssl,python3-pyasn1 \
  bookworm "$out.tmp" "$mirror" >"$out.log" 2>&1 || { tail -20 "$out.log" >&2; exit 1; }
r="$out.tmp"
# GRUB's defaults, as grub-pc's postinst writes them (there is no boot loader in this root)
cp "$r/usr/share/grub/default/grub" "$r/etc/default/grub"
# what a build leaves behind
chroot "$r" useradd -m -s /bin/bash -u 1001 tester
echo 'tester:Passw0rd!' | chroot "$r" chpasswd
echo 'root:Passw0rd!' | chroot "$r" chpasswd
printf 'apt-get install nginx\ncurl -sSf https://example.invalid | sh\n' >"$r/root/.bash_history"
mkdir -p "$r/root/.ssh" && printf 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ1aWxk build@ci\n' >"$r/root/.ssh/authorized_keys"
printf 'nameserver 192.0.2.53\n' >"$r/etc/resolv.conf"
printf 'Nov 24 build log line\n' >"$r/var/log/build.log"
printf 'scratch\n' >"$r/tmp/build-output.txt"
mkdir -p "$r/opt/app" && printf 'application data\n' >"$r/opt/app/data.txt"
# debootstrap leaves its own apt lists and cache; those are not what the tests look at
rm -rf "$out"
mv "$r" "$out"
