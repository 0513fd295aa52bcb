#!/usr/bin/env bash
# Installs the system tools (Debian/Ubuntu) that a make target needs, and only those:
#
#   scripts/deps.sh demo   what `make demo` uses: mke2fs, mkfs.xfs, mkfs.vfat, mtools, sfdisk, mkswap,
#                          qemu-img, python3, cpio, zstd, xz (the fixture images), mkntfs and
#                          libntfs-3g with a C compiler, hivexregedit (the Windows images)
#   scripts/deps.sh        (or `test`) everything the tests use besides: qemu-system-x86_64 (the
#                          end-to-end guest), shellcheck, sshd, debootstrap, rpmbuild, clamd, npm, lz4
#                          (initramfs fixtures), objcopy and systemd's EFI stub (unified kernel images),
#                          vmdb2 with parted and zerofree (a Debian image made by Debian's builder), bzip2, zip,
#                          python3-apt, python3-yaml, grub-common, cloud-guest-utils and lsb-release (oracles of
#                          the version orders, YAML, GRUB, growpart, lsb_release), squashfs-tools (a squashfs
#                          partition and file, which the checker names as not read), cryptsetup-bin and lvm2
#                          (real LUKS2 headers, and LVM's own tools as the oracle of the PV reader), openssl (DER
#                          and PKCS#12 keys, SHA3-384 digests), git (real packfiles), makeself, xorriso and
#                          systemd-journal-remote (self-extracting installers, ISO 9660 images, journals) and
#                          brotli (precompressed .br files)
#
# As root it runs apt-get; otherwise it prints the command.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"
target="${1:-test}"
case "$target" in demo|test) ;; *) echo "deps: unknown target $target (demo, test)" >&2; exit 2 ;; esac
need=()
command -v mke2fs    >/dev/null || need+=(e2fsprogs)
command -v mkfs.xfs  >/dev/null || need+=(xfsprogs)
command -v mkfs.vfat >/dev/null || need+=(dosfstools)
command -v mcopy     >/dev/null || need+=(mtools)
command -v sfdisk    >/dev/null || need+=(fdisk)
command -v mkswap    >/dev/null || need+=(util-linux)
command -v qemu-img  >/dev/null || need+=(qemu-utils)
[ "$target" = demo ] || { command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86); }
command -v python3   >/dev/null || need+=(python3)
[ "$target" = demo ] || { command -v shellcheck >/dev/null || need+=(shellcheck); }
[ "$target" = demo ] || { [ -x /usr/sbin/sshd ]             || need+=(openssh-server); }
[ "$target" = demo ] || { command -v debootstrap >/dev/null || need+=(debootstrap); }
[ "$target" = demo ] || { command -v rpmbuild  >/dev/null || need+=(rpm); }
[ "$target" = demo ] || { [ -x /usr/sbin/clamd ]           || need+=(clamav-daemon); }
[ "$target" = demo ] || { command -v npm       >/dev/null || need+=(npm); }
command -v mkntfs    >/dev/null || need+=(ntfs-3g)
[ -f /usr/include/ntfs-3g/volume.h ] || need+=(ntfs-3g-dev)
command -v cc        >/dev/null || need+=(gcc libc6-dev)
command -v hivexregedit >/dev/null || need+=(libwin-hivex-perl)
command -v gawk >/dev/null || command -v awk >/dev/null || need+=(mawk)
command -v cpio >/dev/null || need+=(cpio)      # initramfs fixtures
command -v zstd >/dev/null || need+=(zstd)
command -v xz   >/dev/null || need+=(xz-utils)
[ "$target" = demo ] || { command -v lz4  >/dev/null || need+=(lz4); }
# objcopy: unified kernel images (UKI) for the systemd-boot fixtures
[ "$target" = demo ] || { command -v objcopy >/dev/null || need+=(binutils); }
[ "$target" = demo ] || { [ -f /usr/lib/systemd/boot/efi/linuxx64.efi.stub ] || need+=(systemd-boot-efi); }
# vmdb2: a real image from Debian's own image builder
[ "$target" = demo ] || { command -v vmdb2 >/dev/null || need+=(vmdb2); }
[ "$target" = demo ] || { command -v parted >/dev/null || need+=(parted); }
[ "$target" = demo ] || { command -v zerofree >/dev/null || need+=(zerofree); }
[ "$target" = demo ] || { command -v bzip2 >/dev/null || need+=(bzip2); }
[ "$target" = demo ] || { command -v zip >/dev/null || need+=(zip); }   # prefixed and encrypted zip fixtures
# the version orders' and readers' oracles: apt's own version comparison, PyYAML
[ "$target" = demo ] || { /usr/bin/python3 -c 'import apt_pkg' 2>/dev/null || need+=(python3-apt); }
[ "$target" = demo ] || { /usr/bin/python3 -c 'import yaml' 2>/dev/null || need+=(python3-yaml); }
# GRUB's own script checker and grubenv tool: the boot-chain facts' oracles
[ "$target" = demo ] || { command -v grub-script-check >/dev/null || need+=(grub-common); }
# growpart: root-partition-last's oracle (differential on generated MBR and GPT layouts)
[ "$target" = demo ] || { command -v growpart >/dev/null || need+=(cloud-guest-utils); }
# Debian's lsb_release: the oracle of the DigitalOcean distribution fact's lsb_release branch
[ "$target" = demo ] || { command -v lsb_release >/dev/null || need+=(lsb-release); }
# mksquashfs: a partition and a file holding squashfs, which the checker does not read and names
[ "$target" = demo ] || { command -v mksquashfs >/dev/null || need+=(squashfs-tools); }
# cryptsetup and LVM's tools: real LUKS2 headers, and the oracle of the LVM2 PV reader
[ "$target" = demo ] || { command -v cryptsetup >/dev/null || need+=(cryptsetup-bin); }
[ "$target" = demo ] || { command -v lvcreate >/dev/null || need+=(lvm2); }
# openssl: binary private keys and snap digests; git: real packfiles for the packfile reader
[ "$target" = demo ] || { command -v openssl >/dev/null || need+=(openssl); }
[ "$target" = demo ] || { command -v git >/dev/null || need+=(git); }
# containers the credential scan opens, made by their own tools: makeself installers, ISO 9660
# images (xorriso), systemd journals with compressed fields (systemd-journal-remote writes them);
# mkfs.cramfs comes with util-linux, pzstd with zstd
[ "$target" = demo ] || { command -v makeself >/dev/null || need+=(makeself); }
[ "$target" = demo ] || { command -v xorriso >/dev/null || need+=(xorriso); }
[ "$target" = demo ] || { [ -x /lib/systemd/systemd-journal-remote ] || need+=(systemd-journal-remote); }
[ "$target" = demo ] || { command -v brotli >/dev/null || need+=(brotli); }
# debugfs (e2fsprogs) sets the fscrypt flag on a directory for the encrypted-directory fixtures
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing tools; run: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "installing ${need[*]} (for make $target)"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
