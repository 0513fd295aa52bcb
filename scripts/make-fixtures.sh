#!/usr/bin/env bash
# Builds the test disk images from scratch with real tools (mke2fs -d, mkfs.xfs -p, mkfs.vfat,
# mkswap, sfdisk, qemu-img). Nothing here needs root, a loop device or a mount.
#
#   scripts/make-fixtures.sh OUTDIR
#
# OUTDIR receives:
#   clean.raw  a compliant Debian-like image: GPT, BIOS boot, ESP (vfat, /boot/efi), /boot (ext2), / (xfs)
#   dirty.raw  every Linux rule violated once: MBR, / (ext4), a swap partition, an LVM2 PV
#   and each converted to qcow2, qcow2 (compressed), vhd (fixed, dynamic), vhdx, vmdk (sparse, stream).
set -euo pipefail
out="${1:?usage: make-fixtures.sh OUTDIR}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export PATH="$PATH:/usr/sbin:/sbin"
for t in mke2fs mkfs.xfs mkfs.vfat mcopy mkswap sfdisk qemu-img cpio zstd gzip; do
  command -v "$t" >/dev/null || { echo "make-fixtures: $t not found (apt-get install e2fsprogs xfsprogs dosfstools mtools fdisk qemu-utils cpio zstd)" >&2; exit 2; }
done

MiB=$((1024 * 1024))
CLEAN_ROOT_UUID=6d1c2b9e-5f3a-4c1e-9a7b-2f8e1d3c4b5a
CLEAN_BOOT_UUID=0b7e4f2a-1c3d-4e5f-8a9b-0c1d2e3f4a5b
CLEAN_ESP_SERIAL=1A2B3C4D
DIRTY_ROOT_UUID=9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b
DIRTY_SWAP_UUID=3f2e1d0c-9b8a-4776-8554-433221100fed

# common_tree DIR: the parts of a small Debian 12 userland both images share.
common_tree() {
  local r="$1"
  mkdir -p "$r"/{etc/ssh/sshd_config.d,etc/default,etc/systemd/system/multi-user.target.wants,etc/netplan,usr/bin,usr/sbin,usr/lib/systemd/system,var/lib/dpkg,var/log/apt,var/tmp,tmp,root,home,boot,run,proc,sys,dev}
  chmod 1777 "$r/tmp" "$r/var/tmp"
  ln -s usr/bin "$r/bin"
  ln -s usr/sbin "$r/sbin"
  ln -s usr/lib "$r/lib"
  cp /bin/dash "$r/usr/bin/dash"
  ln -s dash "$r/usr/bin/sh"
  cp /bin/dash "$r/usr/sbin/sshd"
  cat > "$r/etc/os-release" <<'OS'
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
ID=debian
OS
  printf 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nsshd:x:100:65534::/run/sshd:/usr/sbin/nologin\n_chrony:x:101:102:Chrony daemon,,,:/var/lib/chrony:/usr/sbin/nologin\n' > "$r/etc/passwd"
  printf 'root:*:19800:0:99999:7:::\ndaemon:*:19800:0:99999:7:::\nsshd:*:19800:0:99999:7:::\n_chrony:!:19800::::::\n' > "$r/etc/shadow"
  chmod 640 "$r/etc/shadow"
  printf '# /root/.bashrc\nexport PS1="# "\n' > "$r/root/.bashrc"
  : > "$r/var/log/apt/history.log"
  : > "$r/var/log/lastlog"
}

# dpkg_entry NAME VERSION: one installed package in dpkg's status format.
# make_initrd OUT COMPRESSOR RELEASE MODULE...: a microcode cpio, then a cpio of the modules
# (empty .ko files where Debian puts them) compressed with COMPRESSOR (zstd, gzip, xz).
make_initrd() {
  local out="$1" comp="$2" rel="$3" t; shift 3
  t="$(mktemp -d)"
  mkdir -p "$t/early/kernel/x86/microcode" "$t/main/usr/lib/modules/$rel/kernel/drivers/hv" "$t/main/usr/lib/modules/$rel/kernel/drivers/scsi" "$t/main/usr/lib/modules/$rel/kernel/drivers/net/hyperv"
  printf 'microcode' > "$t/early/kernel/x86/microcode/GenuineIntel.bin"
  printf '#!/bin/sh\n' > "$t/main/init"
  for m in "$@"; do
    case "$m" in
      hv_vmbus) : > "$t/main/usr/lib/modules/$rel/kernel/drivers/hv/$m.ko" ;;
      hv_storvsc) : > "$t/main/usr/lib/modules/$rel/kernel/drivers/scsi/$m.ko" ;;
      hv_netvsc) : > "$t/main/usr/lib/modules/$rel/kernel/drivers/net/hyperv/$m.ko" ;;
      virtio_pci) mkdir -p "$t/main/usr/lib/modules/$rel/kernel/drivers/virtio"; : > "$t/main/usr/lib/modules/$rel/kernel/drivers/virtio/$m.ko" ;;
      virtio_blk) mkdir -p "$t/main/usr/lib/modules/$rel/kernel/drivers/block"; : > "$t/main/usr/lib/modules/$rel/kernel/drivers/block/$m.ko" ;;
      virtio_net) : > "$t/main/usr/lib/modules/$rel/kernel/drivers/net/$m.ko" ;;
    esac
  done
  { (cd "$t/early" && find . | LC_ALL=C sort | cpio --quiet -o -H newc)
    (cd "$t/main" && find . | LC_ALL=C sort | cpio --quiet -o -H newc | "$comp" -c -q); } > "$out"
  rm -rf "$t"
}

dpkg_entry() {
  printf 'Package: %s\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\nVersion: %s\nDescription: %s\n\n' "$1" "$2" "$1"
}

# --- the compliant image --------------------------------------------------------------------
clean="$work/clean-root"; cboot="$work/clean-boot"
common_tree "$clean"
mkdir -p "$cboot/grub" "$clean/boot/efi"
{
  dpkg_entry base-files 12.4+deb12u5
  dpkg_entry openssl 3.0.14-1~deb12u2
  dpkg_entry libssl3 3.0.14-1~deb12u2
  dpkg_entry python3 3.11.2-1+b1
  dpkg_entry python3.11 3.11.2-6+deb12u2
  dpkg_entry python3-pyasn1 0.4.8-3
  dpkg_entry openssh-server 1:9.2p1-2+deb12u3
  dpkg_entry waagent 2.9.0.4-2
  printf 'Package: ufw\nStatus: deinstall ok config-files\nVersion: 0.36.2-1\n\n'
} > "$clean/var/lib/dpkg/status"
printf '#!/bin/sh\necho "OpenSSL 3.0.14 4 Jun 2024"\n' > "$clean/usr/bin/openssl"; chmod 755 "$clean/usr/bin/openssl"
cat > "$clean/etc/ssh/sshd_config" <<'SSHD'
Include /etc/ssh/sshd_config.d/*.conf
PermitRootLogin no
PasswordAuthentication no
ClientAliveInterval 180
Subsystem sftp /usr/lib/openssh/sftp-server
SSHD
printf '# keep-alive is also in the main file\nClientAliveCountMax 3\n' > "$clean/etc/ssh/sshd_config.d/50-cloud.conf"
cat > "$clean/etc/waagent.conf" <<'WA'
Provisioning.Agent=auto
ResourceDisk.Format=y
ResourceDisk.EnableSwap=n
AutoUpdate.Enabled=y
WA
printf '#!/usr/bin/python3\n# Azure Linux Agent\n' > "$clean/usr/sbin/waagent"; chmod 755 "$clean/usr/sbin/waagent"
printf '[Unit]\nDescription=Azure Linux Agent\n[Service]\nExecStart=/usr/sbin/waagent -daemon\n[Install]\nWantedBy=multi-user.target\n' > "$clean/usr/lib/systemd/system/walinuxagent.service"
ln -s /lib/systemd/system/walinuxagent.service "$clean/etc/systemd/system/multi-user.target.wants/walinuxagent.service"
ln -s /run/systemd/resolve/stub-resolv.conf "$clean/etc/resolv.conf"
cat > "$clean/etc/default/grub" <<'GRUB'
GRUB_DEFAULT=0
GRUB_TIMEOUT=1
GRUB_CMDLINE_LINUX_DEFAULT=""
GRUB_CMDLINE_LINUX="console=tty1 console=ttyS0 earlyprintk=ttyS0 rootdelay=300"
GRUB
cat > "$clean/etc/fstab" <<FSTAB
# <file system> <mount point> <type> <options> <dump> <pass>
UUID=$CLEAN_ROOT_UUID / xfs defaults 0 1
UUID=$CLEAN_BOOT_UUID /boot ext2 defaults 0 2
UUID=${CLEAN_ESP_SERIAL:0:4}-${CLEAN_ESP_SERIAL:4:4} /boot/efi vfat umask=0077 0 1
FSTAB
cat > "$clean/etc/netplan/50-cloud-init.yaml" <<'NP'
network:
  version: 2
  ethernets:
    eth0:
      dhcp4: true
NP
cat > "$cboot/grub/grub.cfg" <<'CFG'
set default=0
menuentry 'Debian GNU/Linux' {
	search --no-floppy --fs-uuid --set=root 0b7e4f2a-1c3d-4e5f-8a9b-0c1d2e3f4a5b
	linux	/vmlinuz-6.1.0-28-cloud-amd64 root=UUID=6d1c2b9e-5f3a-4c1e-9a7b-2f8e1d3c4b5a ro console=tty1 console=ttyS0 earlyprintk=ttyS0 rootdelay=300
	initrd	/initrd.img-6.1.0-28-cloud-amd64
}
CFG
head -c 300000 /dev/urandom > "$cboot/vmlinuz-6.1.0-28-cloud-amd64"
# an x86-64 kernel's header as the boot protocol lays it out (Documentation/arch/x86/boot.rst):
# the boot sector's 55 AA, "HdrS", protocol 2.15, and XLF_KERNEL_64 in xloadflags
bzhdr() { printf "$2" | dd of="$cboot/vmlinuz-6.1.0-28-cloud-amd64" bs=1 seek=$(($1)) conv=notrunc status=none; }
bzhdr 0x1fe '\125\252'; bzhdr 0x202 'HdrS'; bzhdr 0x206 '\017\002'; bzhdr 0x236 '\001'
printf 'CONFIG_WATCHDOG=y\nCONFIG_CIFS=m\nCONFIG_HYPERV=m\nCONFIG_HYPERV_STORAGE=m\nCONFIG_HYPERV_NET=m\nCONFIG_VIRTIO_PCI=m\nCONFIG_VIRTIO_BLK=m\nCONFIG_VIRTIO_NET=m\n' > "$cboot/config-6.1.0-28-cloud-amd64"
# the initramfs as Debian makes it: an uncompressed early-microcode cpio, then a zstd cpio with
# the Hyper-V and virtio drivers; and the kernel's modules directory
make_initrd "$cboot/initrd.img-6.1.0-28-cloud-amd64" zstd 6.1.0-28-cloud-amd64 hv_vmbus hv_storvsc hv_netvsc virtio_pci virtio_blk virtio_net
mkdir -p "$clean/usr/lib/modules/6.1.0-28-cloud-amd64/kernel/drivers/net/hyperv"
: > "$clean/usr/lib/modules/6.1.0-28-cloud-amd64/kernel/drivers/net/hyperv/hv_netvsc.ko"

# --- the image that violates every Linux rule once -----------------------------------------
dirty="$work/dirty-root"
common_tree "$dirty"
rm "$dirty/usr/bin/sh"
# /bin/sh is a 32-bit ELF: a valid ELF32 header for i386
printf '\177ELF\001\001\001\000\000\000\000\000\000\000\000\000\002\000\003\000\001\000\000\000' > "$dirty/usr/bin/sh"
head -c 4096 /dev/zero >> "$dirty/usr/bin/sh"; chmod 755 "$dirty/usr/bin/sh"
{
  dpkg_entry base-files 12.4+deb12u5
  dpkg_entry openssl 0.9.8o-4squeeze14
  dpkg_entry ufw 0.36.2-1
  dpkg_entry omi 1.6.8-0
  dpkg_entry libc6 2.13-38+deb7u10
  dpkg_entry linux-image-4.9.0-9-amd64 4.9.168-1+deb9u2
} > "$dirty/var/lib/dpkg/status"
rm "$dirty/usr/sbin/sshd"   # sshd_config left behind, no SSH server
printf '4f0c1e2d3b4a59687766554433221100\n' > "$dirty/etc/machine-id"   # the build VM's ID
# the hardware clock in local time, and SELinux enforcing with no policy installed (the boot stops)
printf '0.0 0 0.0\n0\nLOCAL\n' > "$dirty/etc/adjtime"
mkdir -p "$dirty/etc/selinux"
printf 'SELINUX=enforcing\nSELINUXTYPE=default\n' > "$dirty/etc/selinux/config"
cat >> "$dirty/etc/passwd" <<'PW'
toor:x:0:0:backdoor:/root:/bin/bash
tester:x:1001:1001:Test User:/home/tester:/bin/bash
guest:x:1002:1002::/home/guest:/bin/sh
PW
sed -i 's/^root:\*:/root:$6$rounds=5000$saltsalt$Zk0e1bJm0yVYb8c5rQm9eLr6A2o9l5a0Rr9jYcB1x3m0ZC1uJtq4lq9Q7r7hFQXkq5fJZsE8p2nYtq0mQxWb1.:/' "$dirty/etc/shadow"
printf 'toor:$6$abc$defghijklmnop:19800:0:99999:7:::\ntester:$y$j9T$saltsaltsalt$hashhashhashhashhashhashhashhashhashhash:19800:0:99999:7:::\nguest::19800:0:99999:7:::\n' >> "$dirty/etc/shadow"
mkdir -p "$dirty/root/.ssh" "$dirty/home/tester/.ssh" "$dirty/home/guest"
# over 1 KiB: the size above which the self-test fails a shell history
{ printf 'ls -la\ncurl http://example.invalid/install.sh | sh\n'; for i in $(seq 1 40); do printf 'apt-get install -y build-dep-%02d\n' "$i"; done; } > "$dirty/root/.bash_history"
: > "$dirty/home/guest/.bash_history"
printf 'import os\n' > "$dirty/home/tester/.python_history"
printf 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3Qta2V5LXJlbW92ZS1tZS1iZWZvcmUtc2hpcHBpbmc test@build\n' > "$dirty/root/.ssh/authorized_keys"
{
  echo '-----BEGIN OPENSSH PRIVATE KEY-----'
  head -c 300 /dev/urandom | base64 -w 70
  echo '-----END OPENSSH PRIVATE KEY-----'
} > "$dirty/home/tester/.ssh/id_ed25519"
printf 'build.example.invalid ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE\n' > "$dirty/home/tester/.ssh/known_hosts"
printf -- '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB\n-----END OPENSSH PRIVATE KEY-----\n' > "$dirty/etc/ssh/ssh_host_ed25519_key"
chmod 600 "$dirty/etc/ssh/ssh_host_ed25519_key"
cat > "$dirty/etc/ssh/sshd_config" <<'SSHD'
Include /etc/ssh/sshd_config.d/*.conf
PermitRootLogin yes
Subsystem sftp /usr/lib/openssh/sftp-server
SSHD
cat > "$dirty/etc/default/grub" <<'GRUB'
GRUB_DEFAULT=0
GRUB_CMDLINE_LINUX_DEFAULT="quiet"
GRUB_CMDLINE_LINUX=""
GRUB
mkdir -p "$dirty/boot/grub"
# Debian 9's kernel before the SACK fix (its package says 4.9.168-1+deb9u2)
head -c 4096 /dev/urandom > "$dirty/boot/vmlinuz-4.9.0-9-amd64"
printf 'CONFIG_WATCHDOG=y\n# CONFIG_CIFS is not set\nCONFIG_HYPERV=m\nCONFIG_HYPERV_STORAGE=m\nCONFIG_HYPERV_NET=m\nCONFIG_VIRTIO_PCI=m\nCONFIG_VIRTIO_BLK=m\nCONFIG_VIRTIO_NET=m\n' > "$dirty/boot/config-4.9.0-9-amd64"
# built on a KVM host in dracut's host-only mode: virtio in, Hyper-V storage out
make_initrd "$dirty/boot/initrd.img-4.9.0-9-amd64" gzip 4.9.0-9-amd64 hv_vmbus
cat > "$dirty/boot/grub/grub.cfg" <<'CFG'
menuentry 'Debian GNU/Linux' {
	linux	/boot/vmlinuz-4.9.0-9-amd64 root=/dev/sda1 ro quiet
}
CFG
cat > "$dirty/etc/fstab" <<FSTAB
UUID=$DIRTY_ROOT_UUID / ext4 errors=remount-ro 0 1
UUID=$DIRTY_SWAP_UUID none swap sw 0 0
/swapfile none swap sw 0 0
LABEL=data /srv ext4 defaults 0 2
FSTAB
printf 'nameserver 10.0.0.2\nsearch corp.example.invalid\n' > "$dirty/etc/resolv.conf"
printf 'root ALL=(ALL:ALL) ALL\nDefaults targetpw\n' > "$dirty/etc/sudoers"
printf 'Provisioning.Agent=auto\nAutoUpdate.Enabled=n\n' > "$dirty/etc/waagent.conf"
mkdir -p "$dirty/etc/udev/rules.d"
printf 'SUBSYSTEM=="net", ACTION=="add", ATTR{address}=="00:15:5d:01:02:03", NAME="eth0"\n' > "$dirty/etc/udev/rules.d/70-persistent-net.rules"
cat > "$dirty/etc/netplan/50-cloud-init.yaml" <<'NP'
network:
  version: 2
  ethernets:
    eth0:
      match:
        macaddress: "00:15:5d:01:02:03"
      dhcp4: true
NP
printf 'Nov 24 03:10:00 build sshd[412]: Accepted publickey for root\n' > "$dirty/var/log/syslog"
printf 'scratch\n' > "$dirty/tmp/build-output.txt"
printf 'scratch\n' > "$dirty/var/tmp/cache.bin"
mkdir -p "$dirty/etc/ufw"
printf 'ENABLED=yes\nLOGLEVEL=low\n' > "$dirty/etc/ufw/ufw.conf"
printf '[Unit]\nDescription=Uncomplicated firewall\n' > "$dirty/usr/lib/systemd/system/ufw.service"
ln -s /lib/systemd/system/ufw.service "$dirty/etc/systemd/system/multi-user.target.wants/ufw.service"
mkdir -p "$dirty/opt/app" "$dirty/usr/local/bin"
# a "malware" sample: the tests give clamd a signature for exactly this content (testfixture.PlantedMalware)
printf 'marketplace-check test payload: planted by make-fixtures.sh\n' > "$dirty/usr/local/bin/xmrig-helper"
cat > "$dirty/opt/app/settings.ini" <<'INI'
[database]
host = db.internal
password = Sup3rS3cretPassw0rd
[cloud]
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
alibaba_access_key_id = LTAI5tQk8hWkMbUe3y9xZp2N
INI

# --- filesystems ---------------------------------------------------------------------------
mkfs.vfat -C -n ESP -i "$CLEAN_ESP_SERIAL" "$work/clean-esp.img" $((16 * 1024)) >/dev/null
# the EFI system partition holds the stub grub.cfg an EFI install writes (mtools: no mount needed)
mkdir -p "$work/esp/EFI/debian"
printf 'search.fs_uuid 0b7e4f2a-1c3d-4e5f-8a9b-0c1d2e3f4a5b root\nset prefix=($root)/grub\nconfigfile $prefix/grub.cfg\n' > "$work/esp/EFI/debian/grub.cfg"
mcopy -s -i "$work/clean-esp.img" "$work/esp/EFI" ::/
"$here/mkfs-from-dir.sh" ext2 "$cboot" "$work/clean-boot.img" 32M -U "$CLEAN_BOOT_UUID" -L boot
"$here/mkfs-from-dir.sh" xfs "$clean" "$work/clean-root.img" 300M -m uuid="$CLEAN_ROOT_UUID" -L root
"$here/mkfs-from-dir.sh" ext4 "$dirty" "$work/dirty-root.img" 200M -U "$DIRTY_ROOT_UUID" -L root
mkdir -p "$work/dirty-data/www"
printf '<h1>staging</h1>\n' > "$work/dirty-data/www/index.html"
"$here/mkfs-from-dir.sh" ext4 "$work/dirty-data" "$work/dirty-data.img" 8M -L data
truncate -s 16M "$work/dirty-swap.img"
mkswap -U "$DIRTY_SWAP_UUID" "$work/dirty-swap.img" >/dev/null 2>&1
# An LVM2 physical volume with VG "vg0" and one linear LV "data" of 2 MiB, laid out as pvcreate,
# vgcreate -s 1M and lvcreate leave them (label in sector 1, metadata area at 4 KiB, extents from
# 1 MiB; every checksum LVM's calc_crc computes): pvcreate itself needs a block device.
truncate -s 8M "$work/dirty-lvm.img"
python3 - "$work/dirty-lvm.img" <<'PY'
import struct, sys, zlib
M = 0xFFFFFFFF
def lvm_crc(b):  # lib/misc/crc.c: zlib's reflected CRC-32 from 0xf597a6cf, no final inversion
    return ~zlib.crc32(b, ~0xF597A6CF & M) & M
size, mda, data = 8 << 20, 4096, 1 << 20
uuid = b"Fj2lN8aY3xq0Wb7Rk1Zt5Uv9Cp4Hs6Dm"
pvid = "-".join(uuid[a:b].decode() for a, b in ((0, 6), (6, 10), (10, 14), (14, 18), (18, 22), (22, 26), (26, 32)))
text = ("""vg0 {
id = "Qm3vTz-8KpL-2xWc-9RbN-4hJd-7FsG-1aYe5U"
seqno = 2
format = "lvm2"
status = ["RESIZEABLE", "READ", "WRITE"]
flags = []
extent_size = 2048
max_lv = 0
max_pv = 0
metadata_copies = 0

physical_volumes {

pv0 {
id = "%s"
device = "/dev/sda3"
status = ["ALLOCATABLE"]
flags = []
dev_size = 16384
pe_start = 2048
pe_count = 7
}
}

logical_volumes {

data {
id = "Wd4kPq-3LmN-8vXz-2TcR-6yHb-9JsF-5eGa1K"
status = ["READ", "WRITE", "VISIBLE"]
flags = []
creation_time = 1767225600
creation_host = "build"
segment_count = 1

segment1 {
start_extent = 0
extent_count = 2
type = "striped"
stripe_count = 1

stripes = [
"pv0", 0
]
}
}
}

}
# Generated by LVM2 version 2.03.16(2) (2022-05-18)

contents = "Text Format Volume Group"
version = 1

description = "Write from lvcreate -n data -L 2M vg0."

creation_host = "build"
creation_time = 1767225600
""" % pvid).encode()
buf = bytearray(size)
label = bytearray(512)
label[0:8] = b"LABELONE"
struct.pack_into("<Q", label, 8, 1)          # sector this label is in
struct.pack_into("<I", label, 20, 32)        # offset of the pv_header
label[24:32] = b"LVM2 001"
label[32:64] = uuid
struct.pack_into("<Q", label, 64, size)      # device size
struct.pack_into("<4Q", label, 72, data, 0, 0, 0)           # data area, end of list
struct.pack_into("<4Q", label, 104, mda, data - mda, 0, 0)  # metadata area, end of list
struct.pack_into("<II", label, 136, 2, 1)    # pv_header_extension: version 2, PV in use
struct.pack_into("<I", label, 16, lvm_crc(bytes(label[20:])))
buf[512:1024] = label
h = bytearray(512)
h[4:20] = b" LVM2 x[5A%r0N*>"
struct.pack_into("<IQQ", h, 20, 1, mda, data - mda)
struct.pack_into("<QQII", h, 40, 512, len(text), lvm_crc(text), 0)
struct.pack_into("<I", h, 0, lvm_crc(bytes(h[4:])))
buf[mda:mda + 512] = h
buf[mda + 512:mda + 512 + len(text)] = text
with open(sys.argv[1], "r+b") as f:
    f.write(buf)
PY

# assemble DISK SIZE_MIB SFDISK_SCRIPT PART_IMG:START_MIB ...
assemble() {
  local disk="$1" size="$2" script="$3"; shift 3
  rm -f "$disk"; truncate -s "${size}M" "$disk"
  printf '%s\n' "$script" | sfdisk -q "$disk" >/dev/null
  local p
  for p in "$@"; do
    dd if="${p%%:*}" of="$disk" bs=1M seek="${p##*:}" conv=notrunc,sparse status=none
  done
}
assemble "$work/clean.raw" 352 "label: gpt
start=1MiB, size=1MiB, type=21686148-6449-6E6F-744E-656564454649, name=bios
start=2MiB, size=16MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=esp
start=18MiB, size=32MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=boot
start=50MiB, size=300MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=root" \
  "$work/clean-esp.img:2" "$work/clean-boot.img:18" "$work/clean-root.img:50"
# GRUB's boot code in the protective MBR, as grub-install writes it for the BIOS boot partition
# (what a boot sector starts with: a jump over the parameter area); dirty.raw has none
printf '\353\143\220' | dd of="$work/clean.raw" bs=1 conv=notrunc status=none
assemble "$work/dirty.raw" 234 "label: dos
start=1MiB, size=200MiB, type=83, bootable
start=201MiB, size=16MiB, type=82
start=217MiB, size=8MiB, type=8e
start=225MiB, size=8MiB, type=83" \
  "$work/dirty-root.img:1" "$work/dirty-swap.img:201" "$work/dirty-lvm.img:217" "$work/dirty-data.img:225"

# Keep the compliant tree (with /boot folded in) so that tests can make one-change variants of it.
rm -rf "$out/trees"; mkdir -p "$out/trees"
cp -a "$clean" "$out/trees/clean"
cp -a "$cboot/." "$out/trees/clean/boot/"

for img in clean dirty; do
  mv "$work/$img.raw" "$out/$img.raw"
  qemu-img convert -f raw -O qcow2 "$out/$img.raw" "$out/$img.qcow2"
  qemu-img convert -f raw -O qcow2 -c "$out/$img.raw" "$out/$img-compressed.qcow2"
  qemu-img convert -f raw -O vpc -o subformat=fixed,force_size=on "$out/$img.raw" "$out/$img-fixed.vhd"
  qemu-img convert -f raw -O vpc -o subformat=dynamic,force_size=on "$out/$img.raw" "$out/$img-dynamic.vhd"
  qemu-img convert -f raw -O vhdx "$out/$img.raw" "$out/$img.vhdx"
  qemu-img convert -f raw -O vmdk -o subformat=monolithicSparse "$out/$img.raw" "$out/$img.vmdk"
  qemu-img convert -f raw -O vmdk -o subformat=streamOptimized "$out/$img.raw" "$out/$img-stream.vmdk"
done
echo "fixtures in $out"
