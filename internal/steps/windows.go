package steps

import (
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/profile"
	"github.com/marketready/packer-plugin-marketplace/internal/requirements"
)

// psList renders paths as a PowerShell array of single-quoted strings, with backslashes.
func psList(paths []string) string {
	q := make([]string, len(paths))
	for i, p := range paths {
		q[i] = PSQuote(strings.ReplaceAll(p, "/", `\`))
	}
	return "@(" + strings.Join(q, ", ") + ")"
}

// The per-profile folders the cleanup steps empty are the ones the checker's Windows rules
// look in, from one list.
var (
	winCredentialDirs = psList(requirements.WindowsCredentialPaths)
	winHistoryDirs    = psList(requirements.WindowsHistoryPaths)
	winTempDirs       = psList(requirements.WindowsTempPaths)
	winSSHDirs        = psList(requirements.WindowsSSHKeyProfilePaths)
)

// The Windows steps, in the order they run. Each body is the body of a PowerShell script block
// run by Mp-Step (prelude.ps1); $MpDryRun, $MpKeep and the option lists are set above it.
var windowsSteps = []*Step{
	{
		ID:      "windows-update",
		Title:   "Install the missing security, critical, rollup and definition updates from Windows Update, restarting as often as they need",
		Markets: []string{profile.MarketAzure, profile.MarketAlibaba, profile.MarketAWS},
		Touches: "installed Windows updates (Windows Update Agent API); the guest restarts when an update asks for it (at most `windows_update_max_reboots` times)",
		Body: `
	$categories = @(
		'0fa1201d-4330-4fa8-8ae9-b877473b6441', # Security Updates
		'e6cf1350-c01b-414d-a61f-263d14d133b4', # Critical Updates
		'28bc880e-0592-4cbf-8f95-c79b17911d5f', # Update Rollups
		'e0789628-ce08-4437-be74-2495b842f43b'  # Definition Updates
	)
	$pendingKeys = @(
		'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired',
		'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending'
	)
	$rebootPending = @($pendingKeys | Where-Object { Test-Path -LiteralPath $_ }).Count -gt 0
	if ($rebootPending -and -not $MpDryRun) { Mp-Reboot 'a restart from an earlier update is pending' }
	$session = New-Object -ComObject Microsoft.Update.Session
	$searcher = $session.CreateUpdateSearcher()
	Mp-Note "searching Windows Update for missing software updates"
	try {
		$found = $searcher.Search("IsInstalled=0 and Type='Software' and IsHidden=0").Updates
	} catch {
		if ($_.Exception.HResult -eq -2147024891) {
			throw 'Windows Update refuses a remote session (E_ACCESSDENIED): set elevated_user = "SYSTEM" so that the script runs as a scheduled task'
		}
		throw
	}
	$wanted = New-Object -ComObject Microsoft.Update.UpdateColl
	foreach ($u in $found) {
		$ids = @($u.Categories | ForEach-Object { $_.CategoryID.ToLower() })
		if (@($ids | Where-Object { $categories -contains $_ }).Count -eq 0) { continue }
		if ($MpDryRun) { Mp-Change "would install $($u.Title)"; continue }
		if (-not $u.EulaAccepted) { $u.AcceptEula() }
		[void]$wanted.Add($u)
	}
	if ($wanted.Count -eq 0) { Mp-Note 'no security, critical, rollup or definition update is missing'; return }
	Mp-Note "downloading $($wanted.Count) update(s)"
	$downloader = $session.CreateUpdateDownloader()
	$downloader.Updates = $wanted
	[void]$downloader.Download()
	Mp-Note "installing $($wanted.Count) update(s)"
	$installer = $session.CreateUpdateInstaller()
	$installer.Updates = $wanted
	$result = $installer.Install()
	$failed = 0
	for ($i = 0; $i -lt $wanted.Count; $i++) {
		$r = $result.GetUpdateResult($i)
		# ResultCode 2: succeeded, 3: succeeded with errors, 4: failed, 5: aborted
		if ($r.ResultCode -eq 2 -or $r.ResultCode -eq 3) {
			Mp-Change "installed $($wanted.Item($i).Title)"
		} else {
			Mp-Note ("failed to install {0} (result {1}, HRESULT 0x{2:X8})" -f $wanted.Item($i).Title, $r.ResultCode, $r.HResult)
			$failed++
		}
	}
	if ($failed -gt 0) { throw "$failed update(s) failed to install" }
	if ($result.RebootRequired) { Mp-Reboot "$($wanted.Count) update(s) installed; a restart completes them" }`,
	},
	{
		ID:      "auto-updates",
		Title:   "Turn automatic updates on by policy (NoAutoUpdate=0, AUOptions=4: download and install on a schedule)",
		Markets: []string{profile.MarketAzure},
		Touches: `the values NoAutoUpdate and AUOptions of HKLM\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate\AU`,
		Body: `
	$key = 'HKLM:\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate\AU'
	Mp-RegSet $key 'NoAutoUpdate' 0
	Mp-RegSet $key 'AUOptions' 4`,
	},
	{
		ID:      "firewall",
		Title:   "Turn the firewall on for every profile and disable the enabled inbound allow rules the build added (Windows' own rules and `keep_firewall_rules` stay)",
		Markets: []string{profile.MarketAzure},
		Touches: "the Domain, Private and Public firewall profiles' Enabled setting; the Enabled flag of local inbound allow rules whose name is not a Windows resource reference (@...)",
		Body: `
	foreach ($p in @(Get-NetFirewallProfile -PolicyStore PersistentStore)) {
		if ([string]$p.Enabled -eq 'True') { continue }
		if ($MpDryRun) { Mp-Change "would enable the $($p.Name) firewall profile"; continue }
		Set-NetFirewallProfile -PolicyStore PersistentStore -Name $p.Name -Enabled True
		Mp-Change "enabled the $($p.Name) firewall profile"
	}
	$key = 'HKLM:\SYSTEM\CurrentControlSet\Services\SharedAccess\Parameters\FirewallPolicy\FirewallRules'
	$item = Get-ItemProperty -LiteralPath $key -ErrorAction SilentlyContinue
	if ($null -eq $item) { return }
	$meta = @('PSPath', 'PSParentPath', 'PSChildName', 'PSDrive', 'PSProvider')
	foreach ($prop in $item.PSObject.Properties) {
		if ($meta -contains $prop.Name) { continue }
		$f = @{}
		foreach ($part in ([string]$prop.Value).Split('|')) {
			$kv = $part.Split('=', 2)
			if ($kv.Count -eq 2) { $f[$kv[0]] = $kv[1] }
		}
		if ($f['Dir'] -ne 'In' -or $f['Action'] -ne 'Allow' -or $f['Active'] -ne 'TRUE') { continue }
		$name = [string]$f['Name']
		if ($name.StartsWith('@')) { continue }
		if ($MpKeepFirewallRules -contains $prop.Name -or $MpKeepFirewallRules -contains $name) {
			Mp-Note "kept inbound rule $name (keep_firewall_rules)"
			continue
		}
		if ($MpDryRun) { Mp-Change "would disable inbound rule $name ($($prop.Name))"; continue }
		Disable-NetFirewallRule -PolicyStore PersistentStore -Name $prop.Name
		Mp-Change "disabled inbound rule $name ($($prop.Name))"
	}`,
	},
	{
		ID:      "accounts",
		Title:   "Remove the local accounts listed in `remove_users` with their profiles",
		Markets: nil, // selected by remove_users
		Touches: "the local accounts named in `remove_users` and their profile directories (never the account the script runs as)",
		Body: `
	$me = [Security.Principal.WindowsIdentity]::GetCurrent().User.Value
	foreach ($u in $MpRemoveUsers) {
		$acct = Get-LocalUser -Name $u -ErrorAction SilentlyContinue
		if ($null -eq $acct) { continue }
		if ($acct.SID.Value -eq $me) { throw "remove_users: $u is the account this script runs as" }
		$prof = @(Get-CimInstance -ClassName Win32_UserProfile | Where-Object { $_.SID -eq $acct.SID.Value })
		if ($MpDryRun) { Mp-Change "would remove local account $u and its profile"; continue }
		Remove-LocalUser -SID $acct.SID
		Mp-Change "removed local account $u"
		foreach ($p in $prof) {
			if (Mp-Kept $p.LocalPath) { Mp-Note "kept $($p.LocalPath) (keep_paths)"; continue }
			$p | Remove-CimInstance
			Mp-Change "removed the profile $($p.LocalPath)"
		}
	}`,
	},
	{
		ID:      "ssh-keys",
		Title:   "Remove the OpenSSH keys of every profile and the machine's authorized and host keys",
		Markets: []string{profile.MarketAzure, profile.MarketAlibaba, profile.MarketAWS},
		Touches: `C:\Users\*\.ssh and the SYSTEM profile's .ssh; C:\ProgramData\ssh\administrators_authorized_keys and ssh_host_* (sshd makes new host keys when it next starts)`,
		Body: `
	foreach ($profile in @(Mp-Profiles)) {
		foreach ($sub in ` + winSSHDirs + `) { Mp-Remove (Join-Path $profile $sub) 'SSH keys' }
	}
	$ssh = Join-Path $env:ProgramData 'ssh'
	Mp-Remove (Join-Path $ssh 'administrators_authorized_keys') 'authorized keys'
	foreach ($k in @(Get-ChildItem -LiteralPath $ssh -Filter 'ssh_host_*' -Force -ErrorAction SilentlyContinue)) {
		Mp-Remove $k.FullName 'host key'
	}`,
	},
	{
		ID:      "credentials",
		Title:   "Delete saved credentials: cmdkey entries of the account running the script and the Credentials folders of every profile",
		Markets: []string{profile.MarketAzure, profile.MarketAlibaba, profile.MarketAWS},
		Touches: `Credential Manager entries listed by cmdkey /list; the files in AppData\Local\Microsoft\Credentials and AppData\Roaming\Microsoft\Credentials of every profile`,
		Body: `
	foreach ($line in @(& cmdkey.exe /list)) {
		if ($line -notmatch '^\s*Target:\s*(.+?)\s*$') { continue }
		$target = $Matches[1]
		if ($target -match 'target=(.+)$') { $target = $Matches[1] }
		if ($MpDryRun) { Mp-Change "would delete saved credential $target"; continue }
		& cmdkey.exe "/delete:$target" | Out-Null
		Mp-Change "deleted saved credential $target"
	}
	foreach ($profile in @(Mp-Profiles)) {
		foreach ($sub in ` + winCredentialDirs + `) { Mp-EmptyDir (Join-Path $profile $sub) 'saved credential' }
	}`,
	},
	{
		ID:      "hosts",
		Title:   "Reset the HOSTS file: remove its entries, keep its comments",
		Markets: []string{profile.MarketAzure},
		Touches: `the non-comment lines of C:\Windows\System32\drivers\etc\hosts`,
		Body: `
	$hosts = Join-Path $env:SystemRoot 'System32\drivers\etc\hosts'
	if (-not (Test-Path -LiteralPath $hosts)) { return }
	$lines = @(Get-Content -LiteralPath $hosts)
	$entries = @($lines | Where-Object { $_.Trim() -ne '' -and -not $_.Trim().StartsWith('#') })
	if ($entries.Count -eq 0) { return }
	if (Mp-Kept $hosts) { Mp-Note "kept $hosts (keep_paths)"; return }
	foreach ($e in $entries) {
		if ($MpDryRun) { Mp-Change "would remove HOSTS entry $($e.Trim())" } else { Mp-Change "removed HOSTS entry $($e.Trim())" }
	}
	if ($MpDryRun) { return }
	$comments = @($lines | Where-Object { $_.Trim() -eq '' -or $_.Trim().StartsWith('#') })
	Set-Content -LiteralPath $hosts -Value $comments -Encoding ASCII`,
	},
	{
		ID:      "clean-paths",
		Title:   "Empty the business data and cache directories listed in `clean_paths`",
		Markets: nil, // selected by clean_paths
		Touches: "the contents of each `clean_paths` directory (the directories stay)",
		Body: `
	foreach ($p in $MpCleanPaths) { Mp-EmptyDir $p 'file' }`,
	},
	{
		ID:      "component-cleanup",
		Title:   "Remove superseded Windows components and update downloads (what Disk Cleanup's Windows Update Cleanup does)",
		Markets: []string{profile.MarketAzure, profile.MarketAlibaba},
		Touches: `superseded component store packages (Dism /Online /Cleanup-Image /StartComponentCleanup); C:\Windows\SoftwareDistribution\Download`,
		Body: `
	Mp-EmptyDir (Join-Path $env:SystemRoot 'SoftwareDistribution\Download') 'downloaded update' -BestEffort
	if ($MpDryRun) { Mp-Change 'would run: Dism.exe /Online /Cleanup-Image /StartComponentCleanup'; return }
	& (Join-Path $env:SystemRoot 'System32\Dism.exe') /Online /Cleanup-Image /StartComponentCleanup /Quiet /NoRestart | Out-Null
	if ($LASTEXITCODE -ne 0 -and $LASTEXITCODE -ne 3010) { throw "Dism.exe exited with $LASTEXITCODE" }
	Mp-Change 'removed superseded components (Dism /StartComponentCleanup)'`,
	},
	{
		ID:      "temp",
		Title:   "Empty C:\\Windows\\Temp and every profile's AppData\\Local\\Temp (files Windows holds open are left and reported)",
		Markets: []string{profile.MarketAzure, profile.MarketAlibaba, profile.MarketAWS},
		Touches: `the contents of C:\Windows\Temp and of AppData\Local\Temp in every profile (this script's own folder stays until the provisioner removes it)`,
		Body: `
	Mp-EmptyDir (Join-Path $env:SystemRoot 'Temp') 'temp file' -BestEffort
	foreach ($profile in @(Mp-Profiles)) {
		foreach ($sub in ` + winTempDirs + `) { Mp-EmptyDir (Join-Path $profile $sub) 'temp file' -BestEffort }
	}`,
	},
	{
		ID:      "history",
		Title:   "Clear the session history and delete the PSReadLine history (ConsoleHost_history.txt) of every profile",
		Markets: []string{profile.MarketAzure, profile.MarketAlibaba, profile.MarketAWS},
		Touches: `the files in AppData\Roaming\Microsoft\Windows\PowerShell\PSReadLine of every profile`,
		Body: `
	Clear-History
	foreach ($profile in @(Mp-Profiles)) {
		foreach ($sub in ` + winHistoryDirs + `) { Mp-EmptyDir (Join-Path $profile $sub) 'PowerShell history' }
	}`,
	},
	{
		ID:      "event-logs",
		Title:   "Clear every event log that holds records, Security and then System last",
		Markets: []string{profile.MarketAzure, profile.MarketAlibaba, profile.MarketAWS},
		Touches: "the records of every event log (wevtutil cl); clearing writes one record to Security (1102) and System (104)",
		Body: `
	$logs = @(Get-WinEvent -ListLog * -Force -ErrorAction SilentlyContinue | Where-Object { $_.RecordCount -gt 0 })
	$last = @('Security', 'System')
	$ordered = @($logs | Where-Object { $last -notcontains $_.LogName }) + @($last | ForEach-Object { $n = $_; $logs | Where-Object { $_.LogName -eq $n } })
	foreach ($l in $ordered) {
		if ($MpDryRun) { Mp-Change "would clear event log $($l.LogName) ($($l.RecordCount) records)"; continue }
		& wevtutil.exe cl "$($l.LogName)" 2>$null
		if ($LASTEXITCODE -eq 0) {
			Mp-Change "cleared event log $($l.LogName) ($($l.RecordCount) records)"
		} else {
			Mp-Note "could not clear $($l.LogName) (wevtutil exit $LASTEXITCODE)"
		}
	}`,
	},
	{
		ID:      "sysprep",
		Title:   "Generalize the image with sysprep and wait for IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE (opt-in: `sysprep = true`)",
		Markets: nil, // opt-in
		Touches: "the whole Windows installation, as sysprep /generalize /oobe /mode:vm does (machine SID, computer name, drivers, logs); the guest keeps running (/quit) for the build to shut it down",
		Body: `
	foreach ($svc in 'RdAgent', 'WindowsAzureGuestAgent') {
		$s = Get-Service -Name $svc -ErrorAction SilentlyContinue
		if ($null -eq $s) { continue }
		$deadline = (Get-Date).AddMinutes(10)
		while ($s.Status -ne 'Running' -and (Get-Date) -lt $deadline) { Start-Sleep -Seconds 5; $s.Refresh() }
		Mp-Note "$svc is $($s.Status)"
	}
	$stateKey = 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Setup\State'
	$state = Mp-RegGet $stateKey 'ImageState'
	if ($state -eq 'IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE') { Mp-Note 'already generalized'; return }
	if ($MpDryRun) { Mp-Change 'would run: Sysprep.exe /generalize /oobe /quiet /quit /mode:vm'; return }
	& (Join-Path $env:SystemRoot 'System32\Sysprep\Sysprep.exe') /generalize /oobe /quiet /quit /mode:vm
	$deadline = (Get-Date).AddMinutes($MpSysprepTimeoutMinutes)
	while ($true) {
		$state = Mp-RegGet $stateKey 'ImageState'
		if ($state -eq 'IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE') { break }
		if ((Get-Date) -gt $deadline) {
			throw "sysprep did not reach IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE in $MpSysprepTimeoutMinutes minutes (ImageState=$state); see C:\Windows\System32\Sysprep\Panther\setupact.log"
		}
		Mp-Note "ImageState=$state; waiting for sysprep"
		Start-Sleep -Seconds 10
	}
	Mp-Change 'generalized the image (ImageState=IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE)'`,
	},
}
