set -u
umask 022
export LC_ALL=C
unset HISTFILE
# MP_ROOT lets the script treat another directory as / (an image tree, a test root). Unset on
# a real guest.
R="${MP_ROOT:-}"
R="${R%/}"
if [ -n "$R" ]; then
	# every path touched must resolve inside the root (mp_inside)
	MP_ROOT_REAL=$(cd -P -- "$R" && pwd -P) || { echo "MP_ROOT $R is not a directory" >&2; exit 2; }
fi
# MP_DIR is the script's own directory when it runs from a file (kept, and removed at the end
# with MP_CLEANUP=1); a piped script (... | sudo sh) has none. Scratch files go to a private
# temporary directory, removed when the script ends.
MP_DIR=
if [ -f "$0" ]; then MP_DIR=$(cd -P -- "$(dirname -- "$0")" && pwd -P); fi
MP_TMP=$(mktemp -d "${TMPDIR:-/tmp}/marketplace-harden.XXXXXX") || { echo "cannot create a temporary directory" >&2; exit 2; }
MP_STEP=-

# Machine-readable lines for the provisioner: MP|kind|step|text
mp_msg() { printf 'MP|%s|%s|%s\n' "$1" "$MP_STEP" "$2"; }
mp_note() { printf '    %s\n' "$*"; }
mp_change() { mp_msg change "$*"; }
mp_skip() { mp_msg skip "$*"; }
mp_live() { [ -z "$R" ]; }
mp_has() { command -v "$1" >/dev/null 2>&1; }
mp_show() { printf '%s' "${1#"$R"}"; }

# mp_inside PATH: on a live system, true. Under MP_ROOT, true when PATH's directory, with every
# symlink and .. resolved, lies inside the root, and PATH's last component is a name: a home
# that is a symlink to a host path, or a passwd home like /../../tmp/x, never reaches the host.
mp_inside() {
	mp_live && return 0
	mp_b=$(basename -- "$1")
	case "$mp_b" in . | .. | /) return 1 ;; esac
	mp_p=$(cd -P -- "$(dirname -- "$1")" 2>/dev/null && pwd -P) || return 1
	case "$mp_p/" in "$MP_ROOT_REAL"/*) return 0 ;; esac
	return 1
}

# mp_refused PATH: says why PATH is not touched when it resolves outside MP_ROOT.
mp_refused() {
	if mp_inside "$1"; then return 1; fi
	mp_note "refused $(mp_show "$1"): it resolves outside MP_ROOT"
	return 0
}

# mp_kept PATH: true when PATH is this script's own directory, a keep_paths entry, inside one,
# or a parent of one. Nothing kept is ever removed, truncated or edited.
mp_kept() {
	for mp_own in "$MP_DIR" "$MP_TMP"; do
		[ -n "$mp_own" ] || continue
		case "$1" in "$mp_own" | "$mp_own"/*) return 0 ;; esac
		case "$mp_own" in "$1"/*) return 0 ;; esac
	done
	printf '%s\n' "$MP_KEEP" | {
		while IFS= read -r k; do
			[ -n "$k" ] || continue
			k="$R$k"
			case "$1" in "$k" | "$k"/*) exit 0 ;; esac
			case "$k" in "$1"/*) exit 0 ;; esac
		done
		exit 1
	}
}

# mp_rm PATH...: removes each path that exists (files, links, whole directories).
mp_rm() {
	for p in "$@"; do
		[ -e "$p" ] || [ -L "$p" ] || continue
		if mp_refused "$p"; then continue; fi
		if mp_kept "$p"; then
			mp_note "kept $(mp_show "$p") (keep_paths)"
			continue
		fi
		if [ "$MP_DRY_RUN" = 1 ]; then
			mp_change "would remove $(mp_show "$p")"
			continue
		fi
		rm -rf -- "$p" && mp_change "removed $(mp_show "$p")"
	done
}

# mp_empty_dir DIR: removes what DIR holds, keeping DIR.
mp_empty_dir() {
	if [ ! -d "$1" ] || [ -L "$1" ]; then return 0; fi
	if mp_refused "$1"; then return 0; fi
	for p in "$1"/* "$1"/.[!.]* "$1"/..?*; do
		[ -e "$p" ] || [ -L "$p" ] || continue
		mp_rm "$p"
	done
}

# mp_shared FILE: offline, true when FILE is a regular file with more than one hard link (or
# whose link count cannot be read), and then mp_why says so. Its other names may lie outside
# MP_ROOT (a build host's file linked into the tree), so it is never written or truncated in
# place: mp_replace gives the name a new file instead.
mp_shared() {
	mp_live && return 1
	[ -f "$1" ] && [ ! -L "$1" ] || return 1
	mp_n=$(stat -c %h -- "$1" 2>/dev/null)
	case "$mp_n" in
	'' | *[!0-9]*) mp_why="its hard link count could not be read; any other link keeps the old content" ;;
	1) return 1 ;;
	*) mp_why="it had $mp_n hard links; the other $((mp_n - 1)) keep the old content" ;;
	esac
	return 0
}

# mp_replace FILE SOURCE: makes FILE a new file with SOURCE's content and FILE's mode and
# owner, renamed over FILE: the name is unlinked from the shared inode, whose other links keep
# their bytes.
mp_replace() {
	mp_new=$(mktemp "$(dirname -- "$1")/.mp-new.XXXXXX") || return 1
	cat -- "$2" >"$mp_new" || { rm -f -- "$mp_new"; return 1; }
	chmod "$(stat -c %a -- "$1")" "$mp_new" 2>/dev/null || true
	chown "$(stat -c %u:%g -- "$1")" "$mp_new" 2>/dev/null || true
	mv -f -- "$mp_new" "$1" || { rm -f -- "$mp_new"; return 1; }
}

# mp_truncate FILE...: empties non-empty regular files. Offline, a file with other hard links is
# not truncated (that would empty the other names too): its name gets a new empty file.
mp_truncate() {
	for p in "$@"; do
		if [ ! -f "$p" ] || [ -L "$p" ] || [ ! -s "$p" ]; then continue; fi
		if mp_refused "$p"; then continue; fi
		if mp_kept "$p"; then
			mp_note "kept $(mp_show "$p") (keep_paths)"
			continue
		fi
		if [ "$MP_DRY_RUN" = 1 ]; then
			mp_change "would truncate $(mp_show "$p")"
			continue
		fi
		if mp_shared "$p"; then
			if ! mp_replace "$p" /dev/null; then
				echo "could not recreate $(mp_show "$p") empty ($mp_why); it was not truncated in place" >&2
				return 1
			fi
			mp_change "truncated $(mp_show "$p") by unlinking and recreating it empty: $mp_why"
			continue
		fi
		: >"$p" && mp_change "truncated $(mp_show "$p")"
	done
}

# mp_write FILE: replaces FILE's content with standard input when it differs. The file keeps
# its inode, mode and owner; offline, a file with other hard links keeps its mode and owner but
# not its inode (see mp_shared): the other links keep the old content.
mp_write() {
	mp_tmp="$MP_TMP/edit.tmp"
	cat >"$mp_tmp"
	if [ -f "$1" ] && cmp -s "$mp_tmp" "$1"; then
		rm -f "$mp_tmp"
		return 0
	fi
	# offline, a file is never written through a symlink (its target is the image's, not ours)
	if mp_refused "$1"; then
		rm -f "$mp_tmp"
		return 0
	fi
	if ! mp_live && [ -L "$1" ]; then
		mp_note "refused to edit $(mp_show "$1"): it is a symlink"
		rm -f "$mp_tmp"
		return 0
	fi
	if mp_kept "$1"; then
		mp_note "kept $(mp_show "$1") (keep_paths)"
		rm -f "$mp_tmp"
		return 0
	fi
	if [ "$MP_DRY_RUN" = 1 ]; then
		mp_change "would edit $(mp_show "$1")"
		rm -f "$mp_tmp"
		return 0
	fi
	if mp_shared "$1"; then
		if ! mp_replace "$1" "$mp_tmp"; then
			rm -f "$mp_tmp"
			echo "could not recreate $(mp_show "$1") ($mp_why); it was not written in place" >&2
			return 1
		fi
		mp_change "edited $(mp_show "$1") by unlinking and recreating it: $mp_why"
		rm -f "$mp_tmp"
		return 0
	fi
	cat "$mp_tmp" >"$1" && mp_change "edited $(mp_show "$1")"
	rm -f "$mp_tmp"
}

# mp_run DESCRIPTION COMMAND...: runs COMMAND (only described in a dry run).
mp_run() {
	mp_d=$1
	shift
	if [ "$MP_DRY_RUN" = 1 ]; then
		mp_change "would run: $*"
		return 0
	fi
	mp_note "\$ $*"
	"$@" || return $?
	mp_change "$mp_d"
}

# mp_systemctl: systemctl on the running system, or offline against MP_ROOT.
mp_systemctl() {
	if mp_live; then systemctl "$@"; else systemctl --root="$R" "$@"; fi
}

mp_unit_enabled() {
	mp_has systemctl || return 1
	case "$(mp_systemctl is-enabled "$1" 2>/dev/null)" in enabled | enabled-runtime | alias) return 0 ;; esac
	return 1
}

mp_unit_exists() {
	for d in /etc/systemd/system /usr/lib/systemd/system /lib/systemd/system; do
		[ -e "$R$d/$1" ] && return 0
	done
	return 1
}

# mp_installed PACKAGE: asks the guest's package database (works offline too).
mp_installed() {
	if [ -f "$R/var/lib/dpkg/status" ] && mp_has dpkg-query; then
		dpkg-query --admindir="$R/var/lib/dpkg" -W -f='${Status}' "$1" 2>/dev/null | grep -q ' installed$'
	elif mp_has rpm; then
		rpm --root "${R:-/}" -q "$1" >/dev/null 2>&1
	elif [ -f "$R/lib/apk/db/installed" ]; then
		grep -qx "P:$1" "$R/lib/apk/db/installed"
	else
		return 1
	fi
}

# mp_homes: /root, /home/*, and the home of every account with UID 0 or >= 1000, each once.
mp_homes() {
	{
		echo /root
		for h in "$R"/home/*; do [ -d "$h" ] && echo "${h#"$R"}"; done
		[ -f "$R/etc/passwd" ] && awk -F: '($3 == 0 || $3 >= 1000) && $3 != 65534 && $6 != "" && $6 != "/" { print $6 }' "$R/etc/passwd"
	} | sort -u
}

# mp_setkv FILE KEY VALUE: sets KEY=VALUE in a KEY=VALUE file (waagent.conf), appending if absent.
mp_setkv() {
	[ -f "$1" ] || return 0
	awk -v k="$2" -v v="$3" '
		BEGIN { done = 0 }
		{ line = $0; sub(/^[ \t]+/, "", line) }
		index(line, k "=") == 1 { if (!done) { print k "=" v; done = 1 }; next }
		{ print }
		END { if (!done) print k "=" v }' "$1" | mp_write "$1"
}

# mp_step ID FUNCTION: runs one step with errexit in a subshell and reports its end.
mp_step() {
	MP_STEP=$1
	printf '==> %s\n' "$1"
	(
		set -e
		"$2"
	)
	mp_rc=$?
	mp_msg end "$mp_rc"
	if [ "$mp_rc" -ne 0 ] && [ "$MP_ON_ERROR" = abort ]; then
		MP_STEP=-
		mp_msg abort "step $1 failed with status $mp_rc"
		exit "$mp_rc"
	fi
	MP_STEP=-
	return 0
}

# The scratch directory goes when the script ends. The provisioner runs the script from a
# private directory it created and sets MP_CLEANUP=1 so that the directory goes too (even after
# deprovision removed the build user).
mp_cleanup() {
	rm -rf -- "$MP_TMP"
	if [ "${MP_CLEANUP:-0}" = 1 ] && [ -n "$MP_DIR" ]; then rm -rf -- "$MP_DIR"; fi
}
trap mp_cleanup EXIT

# mp_add_params PARAMS FILE: prints FILE with each missing parameter added to the lines that carry a kernel command
# line (GRUB's linux lines, BLS options lines; with ALL=1 every line: /etc/kernel/cmdline).
mp_add_params() {
	awk -v params="$1" -v all="${ALL:-0}" '
		{
			n = split(params, p, " ")
			if (all == 1 && $0 !~ /^[ \t]*(#|$)/ || $1 == "linux" || $1 == "linuxefi" || $1 == "linux16" || $1 == "options") {
				for (i = 1; i <= n; i++) {
					if ((" " $0 " ") !~ (" " p[i] "[ ,]")) $0 = $0 " " p[i]
				}
			}
			print
		}' "$2"
}

# mp_systemd_boot_cmdline PARAMS: a systemd-boot image (no /etc/default/grub) gets the parameters
# in /etc/kernel/cmdline, from which kernel-install makes the next kernel's entry, and in the
# options lines of the type #1 entries on the ESP and XBOOTLDR (/efi, /boot, /boot/efi). A
# unified kernel image carries its command line inside, signed: it is not edited, the step fails
# and says how to rebuild it.
mp_systemd_boot_cmdline() {
	mp_sb_found=0
	if [ -f "$R/etc/kernel/cmdline" ]; then
		mp_sb_found=1
		ALL=1 mp_add_params "$1" "$R/etc/kernel/cmdline" | mp_write "$R/etc/kernel/cmdline"
	fi
	for mp_e in "$R"/efi/loader/entries/*.conf "$R"/boot/loader/entries/*.conf "$R"/boot/efi/loader/entries/*.conf; do
		[ -f "$mp_e" ] || continue
		mp_sb_found=1
		mp_add_params "$1" "$mp_e" | mp_write "$mp_e"
	done
	mp_ukis=""
	for mp_e in "$R"/efi/EFI/Linux/*.efi "$R"/boot/EFI/Linux/*.efi "$R"/boot/efi/EFI/Linux/*.efi; do
		[ -f "$mp_e" ] && mp_ukis="$mp_ukis $(mp_show "$mp_e")"
	done
	if [ -n "$mp_ukis" ]; then
		echo "unified kernel images carry their command line inside:$mp_ukis; rebuild them with $1 (ukify build --cmdline, mkosi KernelCommandLine=)" >&2
		return 1
	fi
	if [ "$mp_sb_found" = 0 ]; then
		mp_skip "no /etc/default/grub, no systemd-boot entry, no /etc/kernel/cmdline"
	elif [ ! -f "$R/etc/kernel/cmdline" ]; then
		mp_note "no /etc/kernel/cmdline: kernel-install will take the running kernel's command line for the next kernel"
	fi
	return 0
}
