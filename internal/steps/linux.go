package steps

import (
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/profile"
	"github.com/marketready/packer-plugin-marketplace/internal/requirements"
)

// The files and units the steps act on are the ones the checker's rules look for: one list serves
// both, so the provisioner fixes exactly what the check flags.
var (
	kernelParams = strings.Join(requirements.KernelParams, " ")
	firewallList = strings.Join(requirements.FirewallUnits, " ")
	historyList  = strings.Join(requirements.HistoryFiles, " ")
	keyGlobs     = `"$d"/` + strings.Join(requirements.UserKeyFiles, ` "$d"/`) + ` "$d"/id_*`
)

// credentialFiles are where command-line tools keep a user's credentials, relative to the home
// directory; the credentials step removes exactly these. None of them is a glob.
var credentialFiles = []string{
	".aws/credentials", ".aliyun/config.json", ".azure/accessTokens.json", ".azure/msal_token_cache.json",
	".config/gcloud/credentials.db", ".config/gcloud/access_tokens.db", ".docker/config.json",
	".git-credentials", ".netrc", ".pgpass",
}

var credentialList = strings.Join(credentialFiles, " ")

// sshAuthDropIn is the file the ssh-auth step writes in /etc/ssh/sshd_config.d: its name sorts
// before the distributions' and cloud-init's (50-cloud-init.conf, 60-cloudimg-settings.conf).
const sshAuthDropIn = "00-marketplace-harden.conf"

// The Linux steps, in the order they run. Each body is a POSIX sh function body; "$R" prefixes
// every guest path so the same script works on a running guest and on a mounted tree.
var linuxSteps = []*Step{
	{
		ID:      "patch",
		Title:   "Install the latest security updates (marketplace-check's security-updates-installed then proves none is missing)",
		Markets: []string{profile.MarketAzure, profile.MarketAlibaba, profile.MarketAWS, profile.MarketDO, profile.MarketOracle},
		Touches: "the package database and installed packages (apt-get upgrade; dnf/yum/tdnf upgrade --security; zypper patch --category security; apk upgrade)",
		Body: `
	if ! mp_live; then mp_skip "needs a running system (MP_ROOT is set)"; return 0; fi
	if mp_has apt-get; then
		export DEBIAN_FRONTEND=noninteractive
		mp_run "refreshed the package index" apt-get -q update
		mp_run "installed updates (apt-get upgrade)" apt-get -q -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold upgrade
	elif mp_has dnf; then
		mp_run "installed security updates (dnf upgrade --security)" dnf -y -q upgrade --security
	elif mp_has tdnf; then
		mp_run "installed security updates (tdnf update --security)" tdnf -y -q update --security
	elif mp_has yum; then
		mp_run "installed security updates (yum update --security)" yum -y -q update --security
	elif mp_has zypper; then
		# 102/103: updates installed, a reboot or a restart of zypper is advised
		mp_run "installed security patches (zypper patch)" zypper --non-interactive patch --category security || {
			rc=$?
			[ "$rc" -eq 102 ] || [ "$rc" -eq 103 ]
		}
	elif mp_has apk; then
		mp_run "installed updates (apk upgrade)" apk upgrade --no-cache
	else
		mp_skip "no known package manager (apt-get, dnf, tdnf, yum, zypper, apk)"
	fi`,
	},
	{
		ID:      "azure-agent",
		Title:   "Install the Azure Linux agent, keep auto-update on, make sure something provisions the VM, enable its service",
		Markets: []string{profile.MarketAzure},
		Touches: "the agent package (walinuxagent / waagent / WALinuxAgent / python-azure-agent); /etc/waagent.conf (AutoUpdate.Enabled=y when set to anything else; Provisioning.Agent=auto when it names a cloud-init that is absent or disabled); the agent's systemd unit (enabled)",
		Body: `
	agent=
	for p in walinuxagent waagent WALinuxAgent python-azure-agent python3-azure-agent; do
		if mp_installed "$p"; then agent=$p; break; fi
	done
	if [ -z "$agent" ]; then
		if ! mp_live; then echo "the agent is not installed and packages cannot be installed offline" >&2; return 1; fi
		if mp_has apt-get; then
			export DEBIAN_FRONTEND=noninteractive
			if apt-cache show walinuxagent >/dev/null 2>&1; then agent=walinuxagent; else agent=waagent; fi
			mp_run "installed $agent" apt-get -q -y install "$agent"
		elif mp_has dnf; then agent=WALinuxAgent; mp_run "installed $agent" dnf -y -q install "$agent"
		elif mp_has tdnf; then agent=WALinuxAgent; mp_run "installed $agent" tdnf -y -q install "$agent"
		elif mp_has yum; then agent=WALinuxAgent; mp_run "installed $agent" yum -y -q install "$agent"
		elif mp_has zypper; then agent=python-azure-agent; mp_run "installed $agent" zypper --non-interactive install "$agent"
		else echo "no package manager to install the Azure Linux agent with" >&2; return 1
		fi
	fi
	conf="$R/etc/waagent.conf"
	if [ -f "$conf" ] || [ "$MP_DRY_RUN" = 1 ]; then
		# the agent's default is on: only an explicit other value is changed
		if grep -Eiq '^[[:space:]]*AutoUpdate\.Enabled[[:space:]]*=[[:space:]]*[^yY[:space:]]' "$conf" 2>/dev/null; then
			mp_setkv "$conf" AutoUpdate.Enabled y
		fi
		# the agent must provision when cloud-init will not: Debian's package ships
		# Provisioning.Agent=cloud-init without depending on cloud-init
		if { ! mp_installed cloud-init || [ -f "$R/etc/cloud/cloud-init.disabled" ]; } &&
			grep -Eiq '^[[:space:]]*Provisioning\.Agent[[:space:]]*=[[:space:]]*cloud-init' "$conf" 2>/dev/null; then
			mp_note "Provisioning.Agent=cloud-init but cloud-init will not run: nothing would provision the VM"
			mp_setkv "$conf" Provisioning.Agent auto
		fi
	else
		echo "/etc/waagent.conf is missing after installing $agent" >&2
		return 1
	fi
	for unit in walinuxagent.service waagent.service; do
		mp_unit_exists "$unit" || continue
		if ! mp_unit_enabled "$unit"; then mp_run "enabled $unit" mp_systemctl enable "$unit"; fi
		return 0
	done
	mp_note "no walinuxagent.service or waagent.service unit found to enable"`,
	},
	{
		ID:      "droplet-agent",
		Title:   "Remove DigitalOcean's droplet and monitoring agents and /opt/digitalocean, left from the build droplet",
		Markets: []string{profile.MarketDO},
		Touches: "the packages droplet-agent and do-agent (apt-get purge, dnf/yum remove; needs a running system); the directory /opt/digitalocean (removed)",
		Body: `
	for p in droplet-agent do-agent; do
		mp_installed "$p" || continue
		if ! mp_live; then echo "$p is installed and packages cannot be removed offline" >&2; return 1; fi
		if mp_has apt-get; then
			mp_run "purged $p" env DEBIAN_FRONTEND=noninteractive apt-get -q -y purge "$p"
		elif mp_has dnf; then
			mp_run "removed $p" dnf -y -q remove "$p"
		elif mp_has yum; then
			mp_run "removed $p" yum -y -q remove "$p"
		else
			echo "no package manager to remove $p with" >&2
			return 1
		fi
	done
	mp_rm "$R/opt/digitalocean"`,
	},
	{
		ID:      "ssh-keepalive",
		Title:   "Set ClientAliveInterval 180 in the main sshd_config",
		Markets: []string{profile.MarketAzure},
		Touches: "/etc/ssh/sshd_config (the first global ClientAliveInterval line, or a new first line); ClientAliveInterval lines in /etc/ssh/sshd_config.d/*.conf (commented out); validated with sshd -t, restored if invalid",
		Body: `
	f="$R/etc/ssh/sshd_config"
	if [ ! -f "$f" ]; then mp_skip "no /etc/ssh/sshd_config"; return 0; fi
	cp -p "$f" "$MP_TMP/sshd_config.orig"
	# The value goes in the main file before any Include or Match, so that it is the effective
	# one (sshd keeps the first value it reads), as Microsoft's test reads it with sshd -T.
	awk '
		BEGIN { done = 0; inmatch = 0 }
		tolower($1) == "match" { inmatch = 1 }
		!inmatch && tolower($1) ~ /^clientaliveinterval(=|$)/ {
			if (!done) { print "ClientAliveInterval 180"; done = 1 }
			next
		}
		{ lines[++n] = $0 }
		END {
			if (!done) print "ClientAliveInterval 180"
			for (i = 1; i <= n; i++) print lines[i]
		}' "$f" | mp_write "$f"
	for d in "$R"/etc/ssh/sshd_config.d/*.conf; do
		[ -f "$d" ] || continue
		grep -qi '^[[:space:]]*ClientAliveInterval' "$d" || continue
		sed 's/^\([[:space:]]*[Cc][Ll][Ii][Ee][Nn][Tt][Aa][Ll][Ii][Vv][Ee][Ii][Nn][Tt][Ee][Rr][Vv][Aa][Ll]\)/# marketplace-harden: set in sshd_config # \1/' "$d" | mp_write "$d"
	done
	if [ "$MP_DRY_RUN" = 1 ]; then return 0; fi
	if mp_live && mp_has sshd; then
		# a throwaway host key, so that the check does not depend on the image's (the ssh-keys
		# step may have removed them, and a second run must pass too)
		set -- -t -f "$f"
		if mp_has ssh-keygen && ssh-keygen -q -t ed25519 -N '' -f "$MP_TMP/hostkey" >/dev/null 2>&1; then
			set -- "$@" -h "$MP_TMP/hostkey"
		fi
		if ! sshd "$@"; then
			cat "$MP_TMP/sshd_config.orig" >"$f"
			echo "sshd -t rejected the edited configuration; the original is restored" >&2
			return 1
		fi
	elif ! mp_live; then
		mp_note "not validated with sshd -t (offline tree)"
	fi`,
	},
	{
		ID:      "ssh-auth",
		Title:   "Turn off password and keyboard-interactive logins in sshd and root's password login (PermitRootLogin prohibit-password; Oracle: no) with a drop-in read first",
		Markets: []string{profile.MarketAWS, profile.MarketOracle},
		Touches: "/etc/ssh/sshd_config.d/" + sshAuthDropIn + " (written: PasswordAuthentication no, KbdInteractiveAuthentication no, ChallengeResponseAuthentication no, PermitRootLogin prohibit-password, on the oracle profile no); " +
			"in /etc/ssh/sshd_config and /etc/ssh/sshd_config.d/*.conf, the lines, global or in a Match block, that set one of these keywords to a weaker value (commented out); " +
			"a first line `Include /etc/ssh/sshd_config.d/*.conf` in /etc/ssh/sshd_config when it does not include that directory before its first Match; " +
			"on a running system validated with sshd -t and sshd -T, every edited file restored if invalid",
		Body: `
	f="$R/etc/ssh/sshd_config"
	if [ ! -f "$f" ]; then mp_skip "no /etc/ssh/sshd_config"; return 0; fi
	d="$R/etc/ssh/sshd_config.d"
	drop="$d/` + sshAuthDropIn + `"
	# what may be edited is saved first, to be restored if sshd rejects the result
	: >"$MP_TMP/sshauth.list"
	n=0
	for c in "$f" "$d"/*.conf; do
		[ -f "$c" ] || continue
		n=$((n + 1))
		cp -p "$c" "$MP_TMP/sshauth.$n"
		printf '%s\n' "$c" >>"$MP_TMP/sshauth.list"
	done
	created=0
	[ -e "$drop" ] || created=1
	# sshd keeps the first value it reads of a keyword, and a Match block can set another for the
	# connections it selects: every weaker line, wherever it is, is commented out, so that what is
	# left (the drop-in, read first) is the effective value for every connection.
	for c in "$f" "$d"/*.conf; do
		[ -f "$c" ] || continue
		[ "$c" = "$drop" ] && continue
		awk -v rl="$MP_ROOT_LOGIN" '
			function weak(k, v) {
				if (k == "passwordauthentication" || k == "kbdinteractiveauthentication" || k == "challengeresponseauthentication") return v != "no"
				if (k != "permitrootlogin") return 0
				if (rl == "no") return v != "no"
				return v != "no" && v != "prohibit-password" && v != "without-password" && v != "forced-commands-only"
			}
			{
				line = $0
				sub(/^[ \t]+/, "", line)
				k = line
				sub(/[ \t=].*$/, "", k)
				v = substr(line, length(k) + 1)
				sub(/^[ \t]*=?[ \t]*/, "", v)
				gsub(/"/, "", v)
				sub(/[ \t].*$/, "", v)
				if (weak(tolower(k), tolower(v))) { print "# marketplace-harden (ssh-auth): " $0; next }
				print
			}' "$c" | mp_write "$c"
	done
	# the drop-in directory must be read before the main file's own lines and its first Match
	if ! awk '
		tolower($1) == "match" { inmatch = 1 }
		!inmatch && tolower($1) == "include" {
			for (i = 2; i <= NF; i++) {
				a = $i
				gsub(/"/, "", a)
				if (a == "/etc/ssh/sshd_config.d/*.conf" || a == "sshd_config.d/*.conf") found = 1
			}
		}
		END { exit !found }' "$f"; then
		{ echo "Include /etc/ssh/sshd_config.d/*.conf"; cat "$f"; } | mp_write "$f"
	fi
	if [ ! -d "$d" ]; then
		if mp_refused "$d"; then return 1; fi
		if [ "$MP_DRY_RUN" = 1 ]; then
			mp_change "would create $(mp_show "$d")"
			return 0
		fi
		mkdir -p "$d"
	fi
	printf '# marketplace-harden (ssh-auth): read first, so these are the effective values\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nChallengeResponseAuthentication no\nPermitRootLogin %s\n' "$MP_ROOT_LOGIN" | mp_write "$drop"
	if [ "$MP_DRY_RUN" = 1 ]; then return 0; fi
	if ! mp_live; then
		mp_note "not validated with sshd -t (offline tree)"
		return 0
	fi
	mp_has sshd || { mp_note "sshd is not installed: not validated"; return 0; }
	set -- -f "$f"
	if mp_has ssh-keygen && ssh-keygen -q -t ed25519 -N '' -f "$MP_TMP/sshauth-hostkey" >/dev/null 2>&1; then
		set -- "$@" -h "$MP_TMP/sshauth-hostkey"
	fi
	why=""
	if ! sshd -t "$@"; then
		why="sshd -t rejected the edited configuration"
	else
		eff=$(sshd -T "$@" 2>/dev/null | tr '[:upper:]' '[:lower:]')
		printf '%s\n' "$eff" | grep -qx 'passwordauthentication no' || why="sshd -T does not resolve PasswordAuthentication to no"
		if printf '%s\n' "$eff" | grep -qx 'permitrootlogin yes'; then why="sshd -T resolves PermitRootLogin to yes"; fi
		if [ "$MP_ROOT_LOGIN" = no ] && ! printf '%s\n' "$eff" | grep -qx 'permitrootlogin no'; then why="sshd -T does not resolve PermitRootLogin to no"; fi
	fi
	[ -z "$why" ] && return 0
	n=0
	while IFS= read -r c; do
		n=$((n + 1))
		cat "$MP_TMP/sshauth.$n" >"$c"
	done <"$MP_TMP/sshauth.list"
	if [ "$created" = 1 ]; then rm -f -- "$drop"; fi
	echo "$why; the original files are restored" >&2
	return 1`,
	},
	{
		ID:      "kernel-cmdline",
		Title:   "Add " + kernelParams + " to the kernel command line and regenerate the boot configuration",
		Markets: []string{profile.MarketAzure},
		Touches: "GRUB_CMDLINE_LINUX in /etc/default/grub (rootdelay=300 only where the initramfs is not made by initramfs-tools, which would sleep it at every boot, or with kernel_rootdelay); the generated boot configuration (update-grub, grub2-mkconfig, grub-mkconfig or grubby; offline: the linux lines of grub.cfg and the options lines of BLS entries). On systemd-boot images (no /etc/default/grub): /etc/kernel/cmdline and the options lines of the entries in /efi, /boot and /boot/efi/loader/entries; a unified kernel image (EFI/Linux/*.efi) is not edited: the step fails and says to rebuild it",
		Body: `
	params="` + kernelParams + `"
	# initramfs-tools (Debian, Ubuntu) sleeps the whole rootdelay before it mounts the root, at
	# every boot; dracut only waits up to that long. The self-test merely warns without it.
	if [ "$MP_ROOTDELAY" != 1 ] && { [ -f "$R/usr/share/initramfs-tools/init" ] || [ -f "$R/etc/initramfs-tools/initramfs.conf" ]; }; then
		kept=""
		for p in ` + kernelParams + `; do
			case "$p" in rootdelay=*) ;; *) kept="${kept:+$kept }$p" ;; esac
		done
		params=$kept
		mp_note "rootdelay=300 left out: initramfs-tools would sleep 300 s at every boot (kernel_rootdelay = true adds it)"
	fi
	g="$R/etc/default/grub"
	if [ ! -f "$g" ]; then
		mp_systemd_boot_cmdline "$params"
		return $?
	fi
	awk -v params="$params" '
		function fix(v,    n, i, p, out) {
			out = v
			n = split(params, p, " ")
			for (i = 1; i <= n; i++) {
				if ((" " v " ") !~ (" " p[i] "[ ,]")) out = (out == "" ? p[i] : out " " p[i])
			}
			return out
		}
		/^GRUB_CMDLINE_LINUX=/ {
			v = $0; sub(/^GRUB_CMDLINE_LINUX=/, "", v); gsub(/^["'"'"']|["'"'"']$/, "", v)
			print "GRUB_CMDLINE_LINUX=\"" fix(v) "\""; found = 1; next
		}
		{ print }
		END { if (!found) print "GRUB_CMDLINE_LINUX=\"" params "\"" }' "$g" | mp_write "$g"
	# regenerate what the boot loader reads
	if mp_live; then
		if mp_has grubby; then
			mp_run "added the parameters to every kernel entry (grubby)" grubby --update-kernel=ALL --args="$params"
		fi
		if mp_has update-grub; then
			mp_run "regenerated grub.cfg (update-grub)" update-grub
		elif mp_has grub2-mkconfig && [ -f /boot/grub2/grub.cfg ]; then
			mp_run "regenerated /boot/grub2/grub.cfg" grub2-mkconfig -o /boot/grub2/grub.cfg
		elif mp_has grub-mkconfig && [ -f /boot/grub/grub.cfg ]; then
			mp_run "regenerated /boot/grub/grub.cfg" grub-mkconfig -o /boot/grub/grub.cfg
		elif ! mp_has grubby; then
			echo "no update-grub, grub2-mkconfig, grub-mkconfig or grubby to regenerate the boot configuration" >&2
			return 1
		fi
		return 0
	fi
	# offline: the generator cannot run, so the generated files get the parameters directly
	for c in "$R"/boot/grub/grub.cfg "$R"/boot/grub2/grub.cfg "$R"/boot/efi/EFI/*/grub.cfg "$R"/boot/loader/entries/*.conf; do
		[ -f "$c" ] || continue
		mp_add_params "$params" "$c" | mp_write "$c"
	done`,
	},
	{
		ID:      "swap",
		Title:   "Remove swap from the OS disk: fstab swap lines, swap files, enabled swap units, agent swap",
		Markets: []string{profile.MarketAzure},
		Touches: "swap lines of /etc/fstab (commented out); the swap files they named; enabled *.swap units (disabled); the swap: block and swap mounts: entries of /etc/cloud/cloud.cfg and cloud.cfg.d/*.cfg (commented out); with no_resource_disk_swap, ResourceDisk.EnableSwap in /etc/waagent.conf (n). Swap on the resource disk is left alone by default: Microsoft recommends it",
		Body: `
	f="$R/etc/fstab"
	if [ -f "$f" ]; then
		awk '$0 !~ /^[[:space:]]*#/ && $3 == "swap" { print $1 }' "$f" > "$MP_TMP/swaps"
		awk '$0 !~ /^[[:space:]]*#/ && $3 == "swap" { print "# marketplace-harden: no swap on the OS disk # " $0; next } { print }' "$f" | mp_write "$f"
		while IFS= read -r s; do
			case "$s" in
			/dev/* | UUID=* | LABEL=* | PARTUUID=* | PARTLABEL=*) mp_note "swap partition $s is no longer used; remove the partition from the disk layout" ;;
			/*)
				if mp_live && [ "$MP_DRY_RUN" != 1 ]; then swapoff "$s" 2>/dev/null || true; fi
				if [ -f "$R$s" ]; then mp_rm "$R$s"; fi
				;;
			esac
		done < "$MP_TMP/swaps"
	fi
	for w in "$R"/etc/systemd/system/*.wants/*.swap; do
		[ -e "$w" ] || [ -L "$w" ] || continue
		mp_run "disabled $(basename "$w")" mp_systemctl disable "$(basename "$w")"
	done
	if [ "$MP_NO_RESOURCE_SWAP" = 1 ]; then mp_setkv "$R/etc/waagent.conf" ResourceDisk.EnableSwap n; fi
	# cloud-init: comment out the swap: block and mounts: entries that add swap
	for c in "$R"/etc/cloud/cloud.cfg "$R"/etc/cloud/cloud.cfg.d/*.cfg; do
		[ -f "$c" ] || continue
		awk '
			/^swap:/ { inswap = 1; print "# marketplace-harden: no swap on the OS disk # " $0; next }
			inswap && /^[ \t]/ { print "# marketplace-harden # " $0; next }
			{ inswap = 0 }
			/^mounts:/ { inmounts = 1; print; next }
			inmounts && /^[ \t-]/ && /swap/ { print "# marketplace-harden: no swap on the OS disk # " $0; next }
			inmounts && !/^[ \t-]/ { inmounts = 0 }
			{ print }' "$c" | mp_write "$c"
	done`,
	},
	{
		ID:      "firewall",
		Title:   "Disable the host firewall (ufw, firewalld, nftables, iptables persistence)",
		Markets: []string{profile.MarketAzure},
		Touches: "ENABLED in /etc/ufw/ufw.conf (no); the units " + firewallList + " (disabled; stopped on a running system). Left alone with keep_firewall",
		Body: `
	if [ -f "$R/etc/ufw/ufw.conf" ] && grep -q '^ENABLED=yes' "$R/etc/ufw/ufw.conf"; then
		sed 's/^ENABLED=yes/ENABLED=no/' "$R/etc/ufw/ufw.conf" | mp_write "$R/etc/ufw/ufw.conf"
		if mp_live && mp_has ufw && [ "$MP_DRY_RUN" != 1 ]; then ufw --force disable >/dev/null || true; fi
	fi
	for u in ` + firewallList + `; do
		mp_unit_enabled "$u" || continue
		if mp_live; then
			mp_run "disabled and stopped $u" systemctl disable --now "$u"
		else
			mp_run "disabled $u" mp_systemctl disable "$u"
		fi
	done`,
	},
	{
		ID:      "accounts",
		Title:   "Lock every password and delete the accounts in remove_users",
		Markets: []string{profile.MarketAzure, profile.MarketAlibaba, profile.MarketAWS, profile.MarketDO, profile.MarketOracle},
		Touches: "the password field of /etc/shadow entries with a usable or empty password (prefixed with !); the accounts in remove_users and their home directories (userdel -r; when a keep_paths entry lies in the home, the account is deleted without -r and the home emptied around the kept paths); the backups /etc/passwd-, /etc/shadow-, /etc/group- and /etc/gshadow- (removed)",
		Body: `
	s="$R/etc/shadow"
	if [ -f "$s" ]; then
		awk -F: -v OFS=: '$2 !~ /^[!*]/ && $2 != "x" && NF > 1 { $2 = "!" $2 } { print }' "$s" | mp_write "$s"
	fi
	printf '%s\n' "$MP_REMOVE_USERS" | while IFS= read -r u; do
		[ -n "$u" ] || continue
		if ! grep -q "^$u:" "$R/etc/passwd" 2>/dev/null; then continue; fi
		if [ -n "${SUDO_USER:-}" ] && [ "$u" = "$SUDO_USER" ]; then
			echo "refusing to delete $u: the build is connected as this user (use deprovision = true instead)" >&2
			exit 1
		fi
		home=$(awk -F: -v u="$u" '$1 == u { print $6 }' "$R/etc/passwd")
		rflag=-r
		if [ -n "$home" ] && [ "$home" != / ] && mp_kept "$R$home"; then
			rflag="" # keep_paths inside the home: userdel -r would delete them
		fi
		if mp_live; then
			mp_run "deleted account $u" userdel $rflag "$u"
		else
			mp_run "deleted account $u" userdel -R "$R" $rflag "$u"
		fi
		if [ -z "$rflag" ]; then
			mp_note "home $home holds keep_paths: emptied around them instead of removed"
			mp_empty_dir "$R$home"
		fi
	done
	# the password files' backups keep the hashes and accounts as they were before (userdel and
	# passwd write them): removed, as virt-sysprep's passwd-backups operation does
	mp_rm "$R/etc/passwd-" "$R/etc/shadow-" "$R/etc/group-" "$R/etc/gshadow-"`,
	},
	{
		ID:      "password-hashes",
		Title:   "Remove every password hash: a locked account keeps no hash (a hash is a hard-coded secret, and checkers accept only !, !! or *)",
		Markets: []string{profile.MarketAWS, profile.MarketDO, profile.MarketOracle},
		Touches: "the password field of /etc/shadow entries that hold anything but *, ! or !! (a hash, locked or not, or an empty field: set to !); the password field of /etc/passwd entries that hold anything but x, * or ! (set to *); NIS compat lines (+, -) are left alone",
		Body: `
	s="$R/etc/shadow"
	if [ -f "$s" ]; then
		awk -F: -v OFS=: 'NF > 1 && $1 !~ /^[+-]/ && $2 != "*" && $2 != "!" && $2 != "!!" { $2 = "!" } { print }' "$s" | mp_write "$s"
	fi
	p="$R/etc/passwd"
	if [ -f "$p" ]; then
		awk -F: -v OFS=: 'NF > 1 && $1 !~ /^[+-]/ && $2 != "x" && $2 != "*" && $2 != "!" { $2 = "*" } { print }' "$p" | mp_write "$p"
	fi`,
	},
	{
		ID:      "ssh-keys",
		Title:   "Remove SSH keys and known_hosts from every home, and the host keys",
		Markets: []string{profile.MarketAzure, profile.MarketAlibaba, profile.MarketAWS, profile.MarketDO, profile.MarketOracle},
		Touches: "~/.ssh/" + strings.Join(requirements.UserKeyFiles, ", ") + ", id_* of /root, /home/* and every account with UID 0 or >= 1000; /etc/ssh/ssh_host_*key* when cloud-init or the Azure agent will regenerate them at first boot",
		Body: `
	mp_homes > "$MP_TMP/homes"
	while IFS= read -r h; do
		d="$R$h/.ssh"
		[ -d "$d" ] || continue
		for k in ` + keyGlobs + `; do
			mp_rm "$k"
		done
	done < "$MP_TMP/homes"
	if [ -x "$R/usr/sbin/waagent" ] || [ -x "$R/usr/bin/cloud-init" ]; then
		for k in "$R"/etc/ssh/ssh_host_*key*; do mp_rm "$k"; done
	elif ls "$R"/etc/ssh/ssh_host_*key* >/dev/null 2>&1; then
		mp_note "host keys kept: neither cloud-init nor the Azure agent would regenerate them at first boot"
	fi`,
	},
	{
		ID:      "credentials",
		Title:   "Remove the credential files command-line tools leave in a home (cloud CLIs, git, netrc, pgpass, docker)",
		Markets: []string{profile.MarketAWS, profile.MarketDO, profile.MarketOracle},
		Touches: "in /root, /home/* and the home of every account with UID 0 or >= 1000: " + strings.Join(credentialFiles, ", "),
		Body: `
	mp_homes > "$MP_TMP/homes"
	while IFS= read -r h; do
		for f in ` + credentialList + `; do
			mp_rm "$R$h/$f"
		done
	done < "$MP_TMP/homes"`,
	},
	{
		ID:      "network",
		Title:   "Remove build-network configuration: a static resolv.conf, persistent-net rules, MAC matches",
		Markets: []string{profile.MarketAzure, profile.MarketAlibaba, profile.MarketAWS, profile.MarketDO, profile.MarketOracle},
		Touches: "/etc/resolv.conf when it is a regular file; /etc/udev/rules.d/*persistent-net*.rules (the /dev/null mask of the generator is kept); /etc/udev/rules.d/75-persistent-net-generator.rules (made a link to /dev/null) when udev ships the generator; netplan files written by cloud-init that match a MAC address (others lose their macaddress lines); HWADDR/MACADDR lines of ifcfg files; mac-address lines of NetworkManager connections; MACAddress lines of systemd-networkd .network files",
		Body: `
	r="$R/etc/resolv.conf"
	if [ -f "$r" ] && [ ! -L "$r" ]; then mp_rm "$r"; fi
	mask="$R/etc/udev/rules.d/75-persistent-net-generator.rules"
	for f in "$R"/etc/udev/rules.d/*persistent-net*.rules; do
		if [ "$f" = "$mask" ] && [ -L "$f" ] && [ "$(readlink "$f")" = /dev/null ]; then continue; fi
		mp_rm "$f"
	done
	# udev's generator would write 70-persistent-net.rules (the build's MACs) at first boot
	for g in "$R"/lib/udev/rules.d/75-persistent-net-generator.rules "$R"/usr/lib/udev/rules.d/75-persistent-net-generator.rules; do
		[ -s "$g" ] || continue
		if [ -L "$mask" ] || mp_refused "$mask" || mp_kept "$mask"; then break; fi
		if [ "$MP_DRY_RUN" = 1 ]; then
			mp_change "would mask the persistent-net generator ($(mp_show "$mask") -> /dev/null)"
		else
			mkdir -p "$(dirname "$mask")" && ln -s /dev/null "$mask" && mp_change "masked the persistent-net generator ($(mp_show "$mask") -> /dev/null)"
		fi
		break
	done
	for f in "$R"/etc/netplan/*.yaml "$R"/etc/netplan/*.yml; do
		if [ ! -f "$f" ] || ! grep -q 'macaddress:' "$f"; then continue; fi
		if grep -q 'generated from information provided by the datasource' "$f"; then
			mp_rm "$f"
		else
			awk '
				{ line[NR] = $0 }
				END {
					for (i = 1; i <= NR; i++) {
						if (line[i] ~ /^[[:space:]]*macaddress:/) continue
						if (line[i] ~ /^[[:space:]]*match:[[:space:]]*$/) {
							ind = match(line[i], /[^ ]/); keep = 0
							for (j = i + 1; j <= NR; j++) {
								if (line[j] ~ /^[[:space:]]*$/) continue
								if (match(line[j], /[^ ]/) <= ind) break
								if (line[j] !~ /^[[:space:]]*macaddress:/) { keep = 1; break }
							}
							if (!keep) continue
						}
						print line[i]
					}
				}' "$f" | mp_write "$f"
		fi
	done
	for f in "$R"/etc/sysconfig/network-scripts/ifcfg-* "$R"/etc/sysconfig/network/ifcfg-*; do
		if [ ! -f "$f" ] || ! grep -Eq '^[[:space:]]*(HWADDR|MACADDR)=' "$f"; then continue; fi
		grep -Ev '^[[:space:]]*(HWADDR|MACADDR)=' "$f" | mp_write "$f"
	done
	for f in "$R"/etc/NetworkManager/system-connections/*; do
		if [ ! -f "$f" ] || ! grep -q '^[[:space:]]*mac-address=' "$f"; then continue; fi
		grep -v '^[[:space:]]*mac-address=' "$f" | mp_write "$f"
	done
	for f in "$R"/etc/systemd/network/*.network; do
		if [ ! -f "$f" ] || ! grep -Eq '^[[:space:]]*(Permanent)?MACAddress=' "$f"; then continue; fi
		grep -Ev '^[[:space:]]*(Permanent)?MACAddress=' "$f" | mp_write "$f"
	done`,
	},
	{
		ID:      "distro-network",
		Title:   "Write the network and DHCP settings Microsoft's suite reads on RHEL-family and SUSE images",
		Markets: []string{profile.MarketAzure},
		Touches: "RHEL family (before Fedora 39's NetworkManager profiles): /etc/sysconfig/network (NETWORKING=yes, created with HOSTNAME=localhost.localdomain when missing) and /etc/sysconfig/network-scripts/ifcfg-eth0 (DEVICE=eth0, ONBOOT=yes, BOOTPROTO=dhcp; created as Microsoft's RHEL guide writes it when missing); SUSE: DHCLIENT_SET_HOSTNAME=\"no\" in /etc/sysconfig/network/dhcp. Nothing on other distributions",
		Body: `
	osr="$R/etc/os-release"
	[ -f "$osr" ] || osr="$R/usr/lib/os-release"
	# read, never sourced: the file is the image's
	osval() { sed -n "s/^$1=//p" "$osr" 2>/dev/null | tail -1 | tr -d '"' | tr '[:upper:]' '[:lower:]'; }
	id=$(osval ID); like=$(osval ID_LIKE); ver=$(osval VERSION_ID)
	family=""
	for w in $id $like; do
		case "$w" in
			rhel|centos|fedora|ol|almalinux|rocky) family=${family:-rhel} ;;
			sles|sled|suse|opensuse|opensuse-leap|opensuse-tumbleweed) family=${family:-suse} ;;
		esac
	done
	major=${ver%%.*}
	case "$family" in
	rhel)
		if [ "$id" = fedora ] && [ "${major:-0}" -ge 39 ] 2>/dev/null; then
			mp_skip "Fedora $ver: NetworkManager profiles, written by cloud-init at first boot"
			return 0
		fi
		f="$R/etc/sysconfig/network"
		if [ ! -f "$f" ]; then
			mkdir -p "$R/etc/sysconfig" && printf 'NETWORKING=yes\nHOSTNAME=localhost.localdomain\n' | mp_write "$f"
		elif ! grep -qi '^[[:space:]]*NETWORKING=yes' "$f"; then
			mp_setkv "$f" NETWORKING yes
		fi
		f="$R/etc/sysconfig/network-scripts/ifcfg-eth0"
		if [ ! -f "$f" ]; then
			mkdir -p "$R/etc/sysconfig/network-scripts" &&
				printf 'DEVICE=eth0\nONBOOT=yes\nBOOTPROTO=dhcp\nTYPE=Ethernet\nUSERCTL=no\nPEERDNS=yes\nIPV6INIT=no\n' | mp_write "$f"
		else
			grep -q '^DEVICE=eth0' "$f" || mp_setkv "$f" DEVICE eth0
			grep -q '^BOOTPROTO=dhcp' "$f" || mp_setkv "$f" BOOTPROTO dhcp
			grep -q '^ONBOOT=yes' "$f" || mp_setkv "$f" ONBOOT yes
		fi
		;;
	suse)
		f="$R/etc/sysconfig/network/dhcp"
		if [ -f "$f" ]; then
			grep -q '^DHCLIENT_SET_HOSTNAME="no"' "$f" || mp_setkv "$f" DHCLIENT_SET_HOSTNAME '"no"'
		else
			mkdir -p "$R/etc/sysconfig/network" && printf 'DHCLIENT_SET_HOSTNAME="no"\n' | mp_write "$f"
		fi
		;;
	*)
		mp_skip "not a RHEL-family or SUSE image (${id:-unknown})"
		;;
	esac`,
	},
	{
		ID:      "machine-id",
		Title:   "Empty the machine ID so that every VM gets its own",
		Markets: []string{profile.MarketAzure, profile.MarketAlibaba, profile.MarketAWS, profile.MarketDO, profile.MarketOracle},
		Touches: "/etc/machine-id (emptied); /var/lib/dbus/machine-id when it is a regular file",
		Body: `
	mp_truncate "$R/etc/machine-id"
	d="$R/var/lib/dbus/machine-id"
	if [ -f "$d" ] && [ ! -L "$d" ]; then mp_rm "$d"; fi`,
	},
	{
		ID:      "cloud-init",
		Title:   "Reset cloud-init so it runs again on first boot",
		Markets: []string{profile.MarketAzure, profile.MarketAlibaba, profile.MarketAWS, profile.MarketDO, profile.MarketOracle},
		Touches: "cloud-init clean --logs (/var/lib/cloud instance data, /var/log/cloud-init*.log); offline: the same files directly",
		Body: `
	if [ ! -x "$R/usr/bin/cloud-init" ]; then mp_skip "cloud-init is not installed"; return 0; fi
	if mp_live; then
		if [ -d /var/lib/cloud/instances ] || ls /var/log/cloud-init*.log >/dev/null 2>&1; then
			mp_run "cleaned cloud-init state and logs" cloud-init clean --logs
		fi
	else
		mp_rm "$R/var/lib/cloud/instances" "$R/var/lib/cloud/instance" "$R"/var/log/cloud-init*.log
	fi`,
	},
	{
		ID:      "package-cache",
		Title:   "Empty the package manager's download cache",
		Markets: []string{profile.MarketAzure, profile.MarketAlibaba, profile.MarketAWS, profile.MarketDO, profile.MarketOracle},
		Touches: "apt-get clean, dnf/yum/tdnf clean all, zypper clean --all, apk cache clean; offline: /var/cache/apt/archives/*.deb, /var/cache/dnf, /var/cache/yum contents",
		Body: `
	if mp_live; then
		if mp_has apt-get; then mp_run "emptied the apt cache" apt-get clean
		elif mp_has dnf; then mp_run "emptied the dnf cache" dnf clean all
		elif mp_has tdnf; then mp_run "emptied the tdnf cache" tdnf clean all
		elif mp_has yum; then mp_run "emptied the yum cache" yum clean all
		elif mp_has zypper; then mp_run "emptied the zypper cache" zypper --non-interactive clean --all
		elif mp_has apk; then mp_run "emptied the apk cache" apk cache clean
		fi
	else
		for f in "$R"/var/cache/apt/archives/*.deb "$R"/var/cache/apt/*.bin; do mp_rm "$f"; done
		mp_empty_dir "$R/var/cache/dnf"
		mp_empty_dir "$R/var/cache/yum"
	fi`,
	},
	{
		ID:      "logs",
		Title:   "Empty /var/log: truncate logs, remove rotated ones, keep the rest of the build's journal out of the image",
		Markets: []string{profile.MarketAzure, profile.MarketAlibaba, profile.MarketAWS, profile.MarketDO, profile.MarketOracle},
		Touches: "every regular file under /var/log (rotated and compressed ones removed, the others truncated); the systemd journal files " +
			"(removed; on a running system journald is first moved to /run/log/journal for the rest of the boot with journalctl " +
			"--relinquish-var, so the build's last messages and its shutdown never reach the image; older journald: rotated and vacuumed); " +
			"on a running system wtmp, btmp and lastlog are removed rather than truncated, so the shutdown record is not written " +
			"(systemd-tmpfiles creates them again at first boot)",
		Body: `
	journal_in_use=0
	if mp_live && mp_has journalctl; then
		if journalctl --help 2>/dev/null | grep -q -e '--relinquish-var'; then
			if [ "$MP_DRY_RUN" != 1 ] && ! journalctl --relinquish-var >/dev/null 2>&1; then journal_in_use=1; fi
			[ "$journal_in_use" = 1 ] || mp_note "journald keeps the rest of this boot in /run/log/journal (journalctl --relinquish-var)"
		else
			journal_in_use=1
			if [ "$MP_DRY_RUN" != 1 ]; then
				journalctl --rotate >/dev/null 2>&1 || true
				journalctl --vacuum-time=1s >/dev/null 2>&1 || true
			fi
		fi
	fi
	[ -d "$R/var/log" ] || return 0
	find "$R/var/log" -type f > "$MP_TMP/logs"
	while IFS= read -r f; do
		case "$f" in
		*.gz | *.xz | *.bz2 | *.zst | *.old | *.[0-9] | *-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]) mp_rm "$f" ;;
		*.journal | *.journal~) if [ "$journal_in_use" = 1 ]; then mp_note "journal file $(mp_show "$f") is in use"; else mp_rm "$f"; fi ;;
		*/var/log/wtmp | */var/log/btmp | */var/log/lastlog) if mp_live; then mp_rm "$f"; else mp_truncate "$f"; fi ;;
		*) mp_truncate "$f" ;;
		esac
	done < "$MP_TMP/logs"`,
	},
	{
		ID:      "tmp",
		Title:   "Empty /tmp and /var/tmp",
		Markets: []string{profile.MarketAzure, profile.MarketAlibaba, profile.MarketAWS, profile.MarketDO, profile.MarketOracle},
		Touches: "everything inside /tmp and /var/tmp except this script's own directory and keep_paths",
		Body: `
	mp_empty_dir "$R/tmp"
	mp_empty_dir "$R/var/tmp"`,
	},
	{
		ID:      "clean-paths",
		Title:   "Empty the business data and cache paths listed in clean_paths",
		Markets: []string{profile.MarketAlibaba},
		Touches: "the contents of each clean_paths directory; each clean_paths file",
		Body: `
	if [ -z "$MP_CLEAN_PATHS" ]; then mp_skip "no clean_paths configured"; return 0; fi
	printf '%s\n' "$MP_CLEAN_PATHS" | while IFS= read -r p; do
		[ -n "$p" ] || continue
		if [ -d "$R$p" ] && [ ! -L "$R$p" ]; then mp_empty_dir "$R$p"; else mp_rm "$R$p"; fi
	done`,
	},
	{
		ID:      "history",
		Title:   "Remove every shell and REPL history of every user",
		Markets: []string{profile.MarketAzure, profile.MarketAlibaba, profile.MarketAWS, profile.MarketDO, profile.MarketOracle},
		Touches: "the history files of /root, /home/* and every account with UID 0 or >= 1000: " + strings.Join(requirements.HistoryFiles, ", "),
		Body: `
	mp_homes > "$MP_TMP/homes"
	while IFS= read -r h; do
		for f in ` + historyList + `; do
			mp_rm "$R$h/$f"
		done
	done < "$MP_TMP/homes"`,
	},
	{
		ID:      "deprovision",
		Title:   "Deprovision with the Azure agent (waagent -force -deprovision+user); opt-in, always last",
		Markets: nil,
		Touches: "whatever waagent -deprovision+user removes: the last provisioned user (the one Packer is connected as) and its home, host keys, DHCP leases, resolv.conf; nothing can run on the guest afterwards",
		Body: `
	if ! mp_live; then mp_skip "needs a running system (MP_ROOT is set)"; return 0; fi
	if ! mp_has waagent; then echo "waagent is not installed: add the azure-agent step" >&2; return 1; fi
	mp_run "deprovisioned the VM and removed the build user" waagent -force -deprovision+user`,
	},
}
