#!/usr/bin/env bash
# Makes the bootable Debian 12 guest of the end-to-end builds from the root that
# scripts/make-guest-root.sh made with debootstrap. No mounts, no loop devices, no root login:
#
#   scripts/make-guest-image.sh ROOT OUTDIR
#
# OUTDIR/guest.qcow2   one MBR partition holding an ext4 filesystem made by mke2fs -d
# OUTDIR/vmlinuz       the guest's kernel and initramfs, for QEMU's direct kernel boot
# OUTDIR/initrd.img    (-kernel/-initrd/-append; there is no boot loader on the disk)
# OUTDIR/cmdline       the kernel command line that boots it
#
# The guest gets its address by DHCP (systemd-networkd), resolves names through QEMU's user
# network (10.0.2.3), and lets the build user `packer` (password `packer`, passwordless sudo) in
# over SSH. It keeps the root's leftovers (a test user with a password, histories, SSH keys, logs,
# temporary files, a static resolv.conf) and adds what a build typically leaves as well: a swap
# file in fstab and the Azure agent's service disabled. It is the "dirty" guest.
set -euo pipefail
src="${1:?usage: make-guest-image.sh ROOT OUTDIR}"
out="${2:?usage: make-guest-image.sh ROOT OUTDIR}"
export PATH="$PATH:/usr/sbin:/sbin"
for t in mke2fs sfdisk qemu-img chroot; do
  command -v "$t" >/dev/null || { echo "make-guest-image: $t not found (scripts/deps.sh installs it)" >&2; exit 2; }
done
uuid=7c1e4c6a-2b1d-4f3e-9a55-0d2a8e6b1c01
work="$out.tmp"
rm -rf "$work"
mkdir -p "$work"
r="$work/root"
cp -a "$src" "$r"

printf 'debian-guest\n' >"$r/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tdebian-guest\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$r/etc/hosts"
printf 'UUID=%s / ext4 errors=remount-ro 0 1\n/swapfile none swap sw 0 0\n' "$uuid" >"$r/etc/fstab"
# a swap file, as many build recipes add one
dd if=/dev/zero of="$r/swapfile" bs=1M count=32 status=none
chmod 600 "$r/swapfile"
mkswap -q "$r/swapfile"
# network: DHCP on the first Ethernet interface, names through QEMU's resolver
mkdir -p "$r/etc/systemd/network"
printf '[Match]\nName=en* eth*\n\n[Network]\nDHCP=ipv4\n' >"$r/etc/systemd/network/10-dhcp.network"
chroot "$r" systemctl enable systemd-networkd.service >/dev/null 2>&1
printf 'nameserver 10.0.2.3\n' >"$r/etc/resolv.conf"
# the Azure agent would look for Azure's wire server on every boot; a build enables it later
chroot "$r" systemctl disable walinuxagent.service >/dev/null 2>&1 || true
# the build user Packer connects as
chroot "$r" useradd -m -s /bin/bash -G sudo packer
echo 'packer:packer' | chroot "$r" chpasswd
printf 'packer ALL=(ALL) NOPASSWD: ALL\n' >"$r/etc/sudoers.d/packer"
chmod 440 "$r/etc/sudoers.d/packer"
# grub-mkconfig (update-grub) writes here once the kernel-cmdline step runs
mkdir -p "$r/boot/grub"

kernel="$(printf '%s\n' "$r"/boot/vmlinuz-* | sort -V | tail -1)"
initrd="$(printf '%s\n' "$r"/boot/initrd.img-* | sort -V | tail -1)"
cp "$kernel" "$work/vmlinuz"
cp "$initrd" "$work/initrd.img"
printf 'root=UUID=%s rw console=ttyS0 systemd.show_status=0\n' "$uuid" >"$work/cmdline"

# the disk: MBR, one bootable Linux partition from 1 MiB, ext4 built from the tree
size_mib=2048
truncate -s 0 "$work/part.img"
truncate -s "$(( size_mib - 1 ))M" "$work/part.img"
mke2fs -q -F -t ext4 -U "$uuid" -L root -d "$r" "$work/part.img"
truncate -s "${size_mib}M" "$work/disk.img"
printf 'label: dos\nstart=2048, type=83, bootable\n' | sfdisk -q "$work/disk.img" >/dev/null
dd if="$work/part.img" of="$work/disk.img" bs=1M seek=1 conv=notrunc,sparse status=none
qemu-img convert -f raw -O qcow2 "$work/disk.img" "$work/guest.qcow2"
rm -rf "$r" "$work/part.img" "$work/disk.img"
rm -rf "$out"
mv "$work" "$out"
