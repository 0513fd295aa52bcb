$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$MpDir = $PSScriptRoot
$script:MpStep = '-'

# Machine-readable lines for the provisioner: MP|kind|step|text
function Mp-Emit([string]$Kind, [string]$Text) {
	$line = 'MP|' + $Kind + '|' + $script:MpStep + '|' + ($Text -replace "[`r`n]+", ' ')
	[Console]::Out.WriteLine($line)
}
function Mp-Change([string]$Text) { Mp-Emit 'change' $Text }
function Mp-Skip([string]$Text) { Mp-Emit 'skip' $Text }
function Mp-Note([string]$Text) { [Console]::Out.WriteLine('    ' + $Text) }

# Mp-Reboot: the step needs a restart to go on. The provisioner restarts the guest and runs the
# script again; every step before this one is idempotent, so the rerun picks up where it was.
function Mp-Reboot([string]$Reason) {
	Mp-Emit 'reboot' $Reason
	Mp-Emit 'end' '0'
	exit 3010
}

function Mp-Full([string]$Path) { return [IO.Path]::GetFullPath($Path).TrimEnd('\') }

function Mp-Under([string]$Path, [string]$Dir) {
	return ($Path -ieq $Dir) -or $Path.StartsWith($Dir + '\', [StringComparison]::OrdinalIgnoreCase)
}

# Mp-Kept PATH: true when PATH is this script's own directory, a keep_paths entry, inside one, or
# a parent of one. Nothing kept is ever removed or edited.
function Mp-Kept([string]$Path) {
	$p = Mp-Full $Path
	foreach ($k in @($MpDir) + $MpKeep) {
		if ([string]::IsNullOrEmpty($k)) { continue }
		$k = Mp-Full $k
		if ((Mp-Under $p $k) -or (Mp-Under $k $p)) { return $true }
	}
	return $false
}

# Mp-Remove PATH WHAT [-BestEffort]: removes a file or a directory tree. A file Windows holds
# open fails the step, or with -BestEffort is reported and left.
function Mp-Remove([string]$Path, [string]$What, [switch]$BestEffort) {
	if (-not (Test-Path -LiteralPath $Path)) { return }
	if (Mp-Kept $Path) { Mp-Note "kept $Path (keep_paths)"; return }
	if ($MpDryRun) { Mp-Change "would remove $What $Path"; return }
	try {
		Remove-Item -LiteralPath $Path -Recurse -Force
		Mp-Change "removed $What $Path"
	} catch {
		if (-not $BestEffort) { throw }
		Mp-Note "left $Path ($($_.Exception.Message))"
	}
}

# Mp-EmptyDir DIR WHAT [-BestEffort]: removes what DIR holds, keeping DIR.
function Mp-EmptyDir([string]$Dir, [string]$What, [switch]$BestEffort) {
	if (-not (Test-Path -LiteralPath $Dir -PathType Container)) { return }
	foreach ($c in @(Get-ChildItem -LiteralPath $Dir -Force -ErrorAction SilentlyContinue)) {
		Mp-Remove $c.FullName $What -BestEffort:$BestEffort
	}
}

# Mp-RegGet KEY NAME: a registry value, $null when the key or the value is missing.
function Mp-RegGet([string]$Key, [string]$Name) {
	$item = Get-ItemProperty -LiteralPath $Key -ErrorAction SilentlyContinue
	if ($null -eq $item) { return $null }
	$p = $item.PSObject.Properties[$Name]
	if ($null -eq $p) { return $null }
	return $p.Value
}

# Mp-RegSet KEY NAME VALUE: sets a DWORD when it differs.
function Mp-RegSet([string]$Key, [string]$Name, [int]$Value) {
	$cur = Mp-RegGet $Key $Name
	if ($null -ne $cur -and [int]$cur -eq $Value) { return }
	if ($MpDryRun) { Mp-Change "would set $Name=$Value under $Key (now $cur)"; return }
	if (-not (Test-Path -LiteralPath $Key)) { New-Item -Path $Key -Force | Out-Null }
	New-ItemProperty -LiteralPath $Key -Name $Name -Value $Value -PropertyType DWord -Force | Out-Null
	Mp-Change "set $Name=$Value under $Key (was $cur)"
}

# Mp-Profiles: every user profile directory under C:\Users (junctions such as "All Users" are
# skipped) and the SYSTEM account's profile.
function Mp-Profiles() {
	$users = Join-Path $env:SystemDrive 'Users'
	foreach ($d in @(Get-ChildItem -LiteralPath $users -Directory -Force -ErrorAction SilentlyContinue)) {
		if (-not ($d.Attributes -band [IO.FileAttributes]::ReparsePoint)) { $d.FullName }
	}
	$sys = Join-Path $env:SystemRoot 'System32\config\systemprofile'
	if (Test-Path -LiteralPath $sys) { $sys }
}

# Mp-Step ID BLOCK: runs one step and reports its end; a failure stops the script unless
# on_error is continue.
function Mp-Step([string]$Id, [scriptblock]$Body) {
	$script:MpStep = $Id
	[Console]::Out.WriteLine("==> $Id")
	$code = 0
	try {
		& $Body
	} catch {
		[Console]::Out.WriteLine("step $Id failed: $($_.Exception.Message)")
		$code = 1
	}
	Mp-Emit 'end' "$code"
	$script:MpStep = '-'
	if ($code -ne 0 -and $MpOnError -eq 'abort') {
		Mp-Emit 'abort' "step $Id failed with status $code"
		exit $code
	}
}
