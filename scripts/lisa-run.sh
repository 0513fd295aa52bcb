#!/usr/bin/env bash
# Runs Microsoft's image test suite LISA (AzureImageStandard) against a booted copy of a disk, the
# way the certification runs it against a deployed VM. `make lisa` calls it on the hardened guest
# of the end-to-end build (e2e/lisa_test.go); you can call it on such a disk yourself:
#
#   LISA_SRC=~/src/lisa LISA_DEPS=~/src/lisa-deps scripts/lisa-run.sh DISK.qcow2 OUTDIR
#
# DISK must hold an ext4 root with /boot (kernel, initrd, /boot/grub/grub.cfg), as the disks
# example/qemu-debian.pkr.hcl builds do. It is not modified: the script works on a copy, where it
# does what Azure's provisioning does before a test run: it adds the login user `azureuser` (SSH key,
# passwordless sudo; LISA excludes the login user from its checks) and an SSH host key (the
# hardened image ships none, and the agent makes one at provisioning). The guest then boots with
# the kernel, initrd and kernel command line of the disk's own grub.cfg, under QEMU with TCG.
#
# LISA runs twice: with its "ready" platform (a booted machine reachable over SSH), then the
# five cases declared for the "azure" and "qemu" platforms only, with the ready platform
# registered as "qemu" (scripts/lisa/qemu_ready.py). Results: OUTDIR/ready.xml, OUTDIR/qemu.xml
# (JUnit, LISA's own notifier), OUTDIR/lisa-*.log, OUTDIR/serial.log.
#
# What it needs and where it comes from (no Python package index is used):
#   LISA_SRC   a checkout of https://github.com/microsoft/lisa
#   LISA_DEPS  a directory holding checkouts of the six pure-Python packages LISA needs that
#              Debian 12 does not package, each in a directory named after it:
#                spurplus      https://github.com/Parquery/spurplus
#                icontract     https://github.com/Parquery/icontract
#                temppathlib   https://github.com/Parquery/temppathlib
#                randmac       https://github.com/joshschmelzle/randmac
#                func_timeout  https://github.com/kata198/func_timeout
#                assertpy      https://github.com/assertpy/assertpy
#              (the commits the committed results were made with are in docs/lisa-run.json)
#   Debian     the python3-* packages listed in $debian_packages below (apt-get install)
#
# `lisa-run.sh --check` only says what is missing (make lisa calls it before the build).
set -euo pipefail
check_only=""
[ "${1:-}" = --check ] && check_only=1
disk="${1:?usage: lisa-run.sh DISK OUTDIR | --check}"
out="${2:-}"
[ -n "$check_only" ] || [ -n "$out" ] || { echo "usage: lisa-run.sh DISK OUTDIR | --check" >&2; exit 2; }
here="$(cd "$(dirname "$0")" && pwd)"
export PATH="$PATH:/usr/sbin:/sbin"
py=/usr/bin/python3 # Debian's interpreter: the python3-* packages are installed for it

debian_packages="python3-azure python3-paramiko python3-yaml python3-retry python3-dataclasses-json python3-pluggy python3-dateutil python3-semver python3-simpleeval python3-websockets python3-charset-normalizer python3-requests python3-spur python3-msrestazure python3-cachetools python3-pil python3-pycdlib python3-asttokens python3-typing-extensions python3-marshmallow python3-msrest"
deps="spurplus icontract temppathlib randmac func_timeout assertpy"

# --- what is missing, said all at once ---
missing=()
[ -x "$py" ] || missing+=("$py (apt-get install python3)")
if [ -z "${LISA_SRC:-}" ] || [ ! -f "${LISA_SRC}/lisa/microsoft/testsuites/core/azure_image_standard.py" ]; then
  missing+=("LISA_SRC=${LISA_SRC:-<unset>}: not a checkout of https://github.com/microsoft/lisa (lisa/microsoft/testsuites/core/azure_image_standard.py not found)")
fi
for d in $deps; do
  if [ -z "${LISA_DEPS:-}" ] || [ ! -d "${LISA_DEPS}/$d/$d" ]; then
    missing+=("LISA_DEPS=${LISA_DEPS:-<unset>}: no checkout of $d (expected the package at \$LISA_DEPS/$d/$d)")
  fi
done
if [ -x "$py" ]; then
  for m in paramiko yaml retry dataclasses_json pluggy dateutil semver simpleeval websockets charset_normalizer requests spur msrestazure cachetools PIL pycdlib asttokens typing_extensions marshmallow msrest azure.identity azure.mgmt.compute; do
    "$py" -c "import $m" 2>/dev/null || missing+=("Python module $m for $py (apt-get install $debian_packages)")
  done
fi
for t in qemu-system-x86_64 qemu-img debugfs sfdisk ssh ssh-keygen; do
  command -v "$t" >/dev/null || missing+=("$t (scripts/deps.sh installs it)")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "lisa-run: cannot run LISA; missing:" >&2
  printf '  - %s\n' "${missing[@]}" >&2
  exit 2
fi
[ -z "$check_only" ] || exit 0
[ -f "$disk" ] || { echo "lisa-run: no disk at $disk" >&2; exit 2; }

mkdir -p "$out"
out="$(cd "$out" && pwd)"
work="$out/work"
rm -rf "$work"
mkdir -p "$work"
qpid=""
cleanup() { [ -n "$qpid" ] && kill "$qpid" 2>/dev/null || true; }
trap cleanup EXIT

# --- the copy, with what provisioning would add ---
qemu-img convert -O raw "$disk" "$work/disk.raw"
start="$(sfdisk -J "$work/disk.raw" | "$py" -c '
import json, sys
t = json.load(sys.stdin)["partitiontable"]
linux = [p for p in t["partitions"] if p.get("type") in ("83", "0FC63DAF-8483-4772-8E79-3D69D8477DE4")]
print(linux[0]["start"] * t.get("sectorsize", 512) if linux else "")')"
[ -n "$start" ] || { echo "lisa-run: no Linux partition in $disk" >&2; exit 2; }
fs="$work/disk.raw?offset=$start"
dbg() { debugfs -w -R "$1" "$fs" >/dev/null 2>"$work/debugfs.err" || { cat "$work/debugfs.err" >&2; exit 1; }; }
get() { debugfs -R "dump $1 $2" "$fs" 2>/dev/null; [ -s "$2" ] || { echo "lisa-run: $1 not found in $disk" >&2; exit 2; }; }
put() { # put LOCAL PATH MODE UID GID
  debugfs -w -R "rm $2" "$fs" >/dev/null 2>&1 || true
  dbg "write $1 $2"
  dbg "sif $2 mode $3"; dbg "sif $2 uid $4"; dbg "sif $2 gid $5"
}
mkd() { dbg "mkdir $1"; dbg "sif $1 mode $2"; dbg "sif $1 uid $3"; dbg "sif $1 gid $4"; }

ssh-keygen -q -t ed25519 -N '' -C lisa -f "$work/id_lisa"
ssh-keygen -q -t ed25519 -N '' -C host -f "$work/ssh_host_ed25519_key"
for f in passwd shadow group; do get "/etc/$f" "$work/$f"; done
uid=2000
# the name Azure's portal proposes; LISA masks its login user's name in its logs, so not "lisa"
user=azureuser
printf '%s:x:%d:%d:LISA login:/home/%s:/bin/bash\n' $user $uid $uid $user >>"$work/passwd"
printf '%s:*:20000:0:99999:7:::\n' $user >>"$work/shadow"
printf '%s:x:%d:\n' $user $uid >>"$work/group"
printf '%s ALL=(ALL) NOPASSWD: ALL\n' $user >"$work/sudoers"
put "$work/passwd" /etc/passwd 0100644 0 0
put "$work/shadow" /etc/shadow 0100640 0 42
put "$work/group" /etc/group 0100644 0 0
put "$work/sudoers" /etc/sudoers.d/$user 0100440 0 0
put "$work/ssh_host_ed25519_key" /etc/ssh/ssh_host_ed25519_key 0100600 0 0
put "$work/ssh_host_ed25519_key.pub" /etc/ssh/ssh_host_ed25519_key.pub 0100644 0 0
mkd /home/$user 040755 $uid $uid
mkd /home/$user/.ssh 040700 $uid $uid
put "$work/id_lisa.pub" /home/$user/.ssh/authorized_keys 0100600 $uid $uid

# --- the disk's own kernel, initrd and command line (the first entry of grub.cfg) ---
get /boot/grub/grub.cfg "$work/grub.cfg"
read -r kernel cmdline < <(awk '$1 == "linux" { k = $2; $1 = ""; $2 = ""; sub(/^ +/, ""); print k, $0; exit }' "$work/grub.cfg")
initrd="$(awk '$1 == "initrd" { print $2; exit }' "$work/grub.cfg")"
[ -n "$kernel" ] && [ -n "$initrd" ] || { echo "lisa-run: no linux/initrd line in /boot/grub/grub.cfg of $disk" >&2; exit 2; }
case "$kernel" in /boot/*) ;; *) kernel="/boot$kernel" ;; esac
case "$initrd" in /boot/*) ;; *) initrd="/boot$initrd" ;; esac
get "$kernel" "$work/vmlinuz"
get "$initrd" "$work/initrd.img"
echo "lisa-run: booting $kernel with: $cmdline"
qemu-img convert -f raw -O qcow2 "$work/disk.raw" "$work/disk.qcow2"
rm -f "$work/disk.raw"

# --- boot it (TCG: KVM does not work on these machines) ---
port="$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
qemu-system-x86_64 -accel tcg -m 2048 -smp 2 -display none -no-reboot \
  -drive "file=$work/disk.qcow2,if=virtio,format=qcow2" \
  -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$port-:22" -device virtio-net-pci,netdev=n0 \
  -kernel "$work/vmlinuz" -initrd "$work/initrd.img" -append "$cmdline" \
  -serial "file:$out/serial.log" </dev/null >"$work/qemu.log" 2>&1 &
qpid=$!
sshcmd=(ssh -i "$work/id_lisa" -p "$port" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=10 -o BatchMode=yes "$user@127.0.0.1")
deadline=$(( $(date +%s) + ${LISA_BOOT_TIMEOUT:-900} ))
until "${sshcmd[@]}" true 2>/dev/null; do
  if [ "$(date +%s)" -gt "$deadline" ] || ! kill -0 "$qpid" 2>/dev/null; then
    echo "lisa-run: the guest did not let $user in over SSH; last of its console:" >&2
    tail -c 3000 "$out/serial.log" >&2 || true
    exit 1
  fi
  sleep 10
done
echo "lisa-run: the guest is up ($(( ${LISA_BOOT_TIMEOUT:-900} - deadline + $(date +%s) ))s)"
# what the guest runs on, for the record
"${sshcmd[@]}" 'grep PRETTY_NAME /etc/os-release; uname -r' >"$out/guest.txt" || true

# --- LISA, twice ---
export PYTHONPATH="$here/lisa/shim:$(for d in $deps; do printf '%s:' "$LISA_DEPS/$d"; done)$LISA_SRC"
run() { # run NAME PLATFORM CASE-REGEX
  cat >"$work/$1.yml" <<EOF
name: marketplace-check $1
extension:
  - $LISA_SRC/lisa/microsoft/testsuites/core
  - $here/lisa
environment:
  environments:
    - nodes:
        - type: remote
          public_address: 127.0.0.1
          public_port: $port
          username: $user
          private_key_file: $work/id_lisa
platform:
  - type: $2
notifier:
  - type: junit
    path: $out/$1.xml
testcase:
  - criteria:
      area: azure_image_standard
      name: "$3"
EOF
  echo "lisa-run: LISA $1 ($2 platform)"
  (cd "$work" && "$py" -m lisa -r "$work/$1.yml" -l "$work/log-$1" -w "$work/wd-$1") >"$out/lisa-$1.log" 2>&1 || true
  [ -s "$out/$1.xml" ] || { echo "lisa-run: LISA wrote no results; its log:" >&2; tail -40 "$out/lisa-$1.log" >&2; exit 1; }
}
start_run=$(date +%s)
# Not run here, each for its reason (docs/certification.md lists them): verify_os_update upgrades
# the guest from the mirror and reboots it (one more five-minute rootdelay under TCG), and its
# result is the mirror's; verify_repository_installed judges the mirror's answer; and
# verify_boot_error_fail_warnings reads the kernel log, whose warnings under TCG emulation come
# and go from one run to the next.
run ready ready '^(?!(verify_os_update|verify_repository_installed|verify_boot_error_fail_warnings)$).*'
run qemu qemu '^verify_(python_version|openssl_version|azure_64bit_os|omi_version|no_swap_on_osdisk)$'
echo "lisa-run: LISA took $(( $(date +%s) - start_run ))s; results in $out"
"${sshcmd[@]}" 'sudo -n poweroff' >/dev/null 2>&1 || true
