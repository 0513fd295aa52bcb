// Package winimage builds a small Windows Server disk image like an Azure image (MBR, a System
// Reserved and a C: NTFS volume made by mkntfs and libntfs-3g, registry hives written by
// hivexregedit, event logs, profiles), compliant or with every Windows rule broken once. The
// tests check it, and the demo writes it with `go run ./internal/cmd/make-windows-image`. It
// needs ntfs-3g, libhivex-bin (hivexregedit), fdisk and qemu-utils, and a checkout of this
// repository (it runs scripts/mkfs-from-dir.sh).
package winimage

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
	"unicode/utf16"
)

// Options say what a Windows image holds; the zero value is a compliant, generalized Windows
// Server 2022 image.
type Options struct {
	Dirty bool // every Windows rule violated at once (see Build)
	// Format is "raw" (default) or "vpc" (a fixed VHD, what Azure takes).
	Format string
	// Files are extra files (path inside C:, contents) placed in the volume.
	Files map[string][]byte
	// UnflushedSoftware leaves the SOFTWARE hive's sequence numbers unequal, as a hive whose
	// last writes are still in its transaction logs.
	UnflushedSoftware bool
	// RandomMiB adds this many MiB of incompressible data (files of 32 MiB under
	// ProgramData/App/data) for benchmarks; the C: volume grows to fit.
	RandomMiB int
	// NoEC2Launch leaves out of the compliant image the EC2Launch v2 agent it otherwise has
	// (the EC2Launch service, Automatic, its program and its agent-config.yml, which sets a
	// random administrator password); the dirty image never has it.
	NoEC2Launch bool
	// SystemReg and SoftwareReg are .reg text (keys under HivePrefix) merged into the SYSTEM
	// and SOFTWARE hives after the image's own keys: a test's services or changed values.
	SystemReg, SoftwareReg string
}

// EC2LaunchProgram is where EC2Launch v2 installs its program (AWS, "Install the latest version
// of EC2Launch v2": C:\Program Files\Amazon\EC2Launch\EC2Launch.exe), on the C: volume.
const EC2LaunchProgram = "Program Files/Amazon/EC2Launch/EC2Launch.exe"

// EC2LaunchConfig is EC2Launch v2's settings file on the C: volume, and EC2LaunchConfigYAML the
// compliant image's: AWS's example agent-config.yml (Amazon EC2 User Guide, "EC2Launch v2
// settings", Example: agent-config.yml), whose setAdminAccount sets a random password.
const (
	EC2LaunchConfig     = "ProgramData/Amazon/EC2Launch/config/agent-config.yml"
	EC2LaunchConfigYAML = "version: 1.0\r\nconfig:\r\n- stage: boot\r\n  tasks:\r\n  - task: extendRootPartition\r\n" +
		"- stage: preReady\r\n  tasks:\r\n  - task: activateWindows\r\n    inputs:\r\n      activation:\r\n        type: amazon\r\n" +
		"  - task: setDnsSuffix\r\n    inputs:\r\n      suffixes:\r\n      - $REGION.ec2-utilities.amazonaws.com\r\n" +
		"  - task: setAdminAccount\r\n    inputs:\r\n      password:\r\n        type: random\r\n" +
		"- stage: postReady\r\n  tasks:\r\n  - task: startSsm\r\n"
)

// ServiceReg is the .reg text of a service key under ControlSet001\Services: its start type
// (2 automatic, 3 manual, 4 disabled; a negative start leaves the Start value out), its
// ImagePath as a REG_EXPAND_SZ, and a Win32 own-process type.
func ServiceReg(name string, start int, imagePath string) string {
	s := fmt.Sprintf("[%s\\ControlSet001\\Services\\%s]\n\"Type\"=dword:00000010\n\"ImagePath\"=%s\n", HivePrefix, name, regExpand(imagePath))
	if start >= 0 {
		s += fmt.Sprintf("\"Start\"=dword:%08x\n", start)
	}
	return s + "\n"
}

// regExpand is a REG_EXPAND_SZ value: hex(2): and the UTF-16LE string with its terminator.
func regExpand(s string) string {
	var parts []string
	for _, u := range utf16.Encode([]rune(s + "\x00")) {
		parts = append(parts, fmt.Sprintf("%02x,%02x", u&0xff, u>>8))
	}
	return "hex(2):" + strings.Join(parts, ",")
}

// Build makes, in the directory work, an MBR disk like an Azure Windows Server image: a small
// "System Reserved" NTFS partition and the C: NTFS volume, built without mounting (mkntfs and the
// libntfs-3g copier of scripts/mkfs-from-dir.sh), with SOFTWARE, SYSTEM and SAM hives written by
// hivexregedit from .reg text, small PE headers for the kernel and kernel32, EVTX event logs
// and user profiles; the compliant one also has the EC2Launch v2 launch agent (a service that
// starts at boot, its program, and an agent-config.yml that sets a random password). The dirty variant has no launch agent, an enabled "admin" account with a password, a
// disabled firewall profile and a custom inbound rule, automatic updates off, no sysprep, an
// old last update, the DHCP role, .ssh keys, saved credentials, a PSReadLine history, temp
// files, a HOSTS entry and uncleared event logs. It returns the image's path.
func Build(work string, o Options) (path string, err error) {
	defer catch(&err)
	e := &env{work: work}
	root := filepath.Join(work, "c")
	write := func(p string, b []byte) {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			e.fail("%v", err)
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			e.fail("%v", err)
		}
	}
	mkdir := func(p string) {
		if err := os.MkdirAll(filepath.Join(root, filepath.FromSlash(p)), 0o755); err != nil {
			e.fail("%v", err)
		}
	}
	d := o.Dirty
	software := readFile(e, hive(e, softwareReg(d)+"\n"+o.SoftwareReg))
	if o.UnflushedSoftware {
		binary.LittleEndian.PutUint32(software[4:], binary.LittleEndian.Uint32(software[8:])+1)
	}
	write("Windows/System32/config/SOFTWARE", software)
	ec2launch := !d && !o.NoEC2Launch
	system := systemReg(d)
	if ec2launch {
		system += "\n" + ServiceReg("EC2Launch", 2, `"%ProgramFiles%\Amazon\EC2Launch\EC2Launch.exe" service`)
		write(EC2LaunchProgram, PEHeader(0x8664))
		write(EC2LaunchConfig, []byte(EC2LaunchConfigYAML))
	}
	write("Windows/System32/config/SYSTEM", readFile(e, hive(e, system+"\n"+o.SystemReg)))
	write("Windows/System32/config/SAM", readFile(e, hive(e, samReg(d))))
	write("Windows/System32/ntoskrnl.exe", PEHeader(0x8664))
	write("Windows/System32/kernel32.dll", PEHeader(0x8664))
	hosts := "# Copyright (c) 1993-2009 Microsoft Corp.\r\n#\r\n#\t127.0.0.1       localhost\r\n#\t::1             localhost\r\n"
	if d {
		hosts += "10.1.2.3\tbuild-cache.internal\r\n"
	}
	write("Windows/System32/drivers/etc/hosts", []byte(hosts))
	records := map[string]uint64{"System": 41, "Application": 7, "Security": 1, "Setup": 0}
	if d {
		records = map[string]uint64{"System": 3120, "Application": 812, "Security": 9000, "Setup": 40}
	}
	for name, n := range records {
		write("Windows/System32/winevt/Logs/"+name+".evtx", EVTX(n))
	}
	mkdir("Windows/Temp")
	mkdir("Windows/System32/config/systemprofile/AppData/Local/Temp")
	for _, u := range []string{"Default", "Public", "packer"} {
		mkdir("Users/" + u + "/AppData/Local/Temp")
		mkdir("Users/" + u + "/AppData/Roaming/Microsoft")
	}
	if err := os.Symlink("/Users", filepath.Join(root, "Documents and Settings")); err != nil {
		e.fail("%v", err)
	}
	if d {
		write("Users/packer/.ssh/authorized_keys", []byte("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITestKeyLeftByTheBuild build@ci\n"))
		write("ProgramData/ssh/ssh_host_ed25519_key", []byte("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ==\n-----END OPENSSH PRIVATE KEY-----\n"))
		write("Users/packer/AppData/Roaming/Microsoft/Credentials/DFBE70A7E5CC19A398EBF1B96859CE5D", []byte{1, 0, 0, 0, 0xd0, 0x8c, 0x9d, 0xdf})
		write("Users/packer/AppData/Roaming/Microsoft/Windows/PowerShell/PSReadLine/ConsoleHost_history.txt", []byte("choco install -y git\r\nnet use \\\\files\\share /user:build\r\n"))
		write("Users/packer/AppData/Local/Temp/setup.log", []byte("installer log\r\n"))
		write("Windows/System32/config/systemprofile/AppData/Roaming/Microsoft/Windows/PowerShell/PSReadLine/ConsoleHost_history.txt", []byte("Get-WindowsUpdate\r\n"))
		write("Windows/Temp/packer-ps-env-vars-1.ps1", []byte("$env:PACKER_BUILD_NAME=\"windows\"\r\n"))
	}
	for p, b := range o.Files {
		write(p, b)
	}
	for i := 0; i < (o.RandomMiB+31)/32; i++ {
		blob := make([]byte, 32<<20)
		rand.Read(blob)
		write(fmt.Sprintf("ProgramData/App/data/blob-%03d.bin", i), blob)
	}

	reserved := filepath.Join(work, "reserved")
	os.MkdirAll(filepath.Join(reserved, "Boot"), 0o755)
	os.WriteFile(filepath.Join(reserved, "bootmgr"), []byte("bootmgr"), 0o644)
	const resMiB = 4
	cMiB := 64 + o.RandomMiB*11/10
	resImg := makeFilesystem(e, "ntfs", reserved, fmt.Sprintf("%dM", resMiB), "-L", "System Reserved")
	cImg := makeFilesystem(e, "ntfs", root, fmt.Sprintf("%dM", cMiB), "-L", "Windows")

	disk := filepath.Join(work, "windows.raw")
	f, err := os.Create(disk)
	if err != nil {
		e.fail("%v", err)
	}
	if err := f.Truncate(int64(1+resMiB+cMiB+1) << 20); err != nil {
		e.fail("%v", err)
	}
	f.Close()
	layout := fmt.Sprintf("label: dos\nstart=2048, size=%d, type=7, bootable\nsize=%d, type=7\n", resMiB<<11, cMiB<<11)
	sf := exec.Command("sfdisk", "-q", disk)
	sf.Stdin = strings.NewReader(layout)
	sf.Env = append(os.Environ(), "PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin")
	if b, err := sf.CombinedOutput(); err != nil {
		e.fail("sfdisk: %v\n%s", err, b)
	}
	for i, p := range []string{resImg, cImg} {
		off := int64(1) << 20
		if i == 1 {
			off += resMiB << 20
		}
		cmd := exec.Command("dd", "if="+p, "of="+disk, "bs=1M", "conv=notrunc,sparse", fmt.Sprintf("seek=%d", off>>20), "status=none")
		if b, err := cmd.CombinedOutput(); err != nil {
			e.fail("dd: %v\n%s", err, b)
		}
	}
	if o.Format == "" || o.Format == "raw" {
		return disk, nil
	}
	out := filepath.Join(work, "windows."+map[string]string{"vpc": "vhd"}[o.Format])
	args := []string{"convert", "-O", o.Format}
	if o.Format == "vpc" {
		args = append(args, "-o", "subformat=fixed,force_size=on")
	}
	if b, err := exec.Command("qemu-img", append(args, disk, out)...).CombinedOutput(); err != nil {
		e.fail("qemu-img convert: %v\n%s", err, b)
	}
	return out, nil
}

func readFile(e *env, p string) []byte {
	b, err := os.ReadFile(p)
	if err != nil {
		e.fail("%v", err)
	}
	return b
}

// env gives the builders scratch directories under work and stops a build at the first failure.
type env struct {
	work string
	n    int
}

// TempDir is a new directory under work.
func (e *env) TempDir() string {
	e.n++
	d := filepath.Join(e.work, fmt.Sprintf("scratch-%d", e.n))
	if err := os.MkdirAll(d, 0o755); err != nil {
		e.fail("%v", err)
	}
	return d
}

// fail stops the build; Build and MakeHive return the error.
func (e *env) fail(format string, args ...any) { panic(buildError{fmt.Errorf(format, args...)}) }

type buildError struct{ err error }

// catch turns a stopped build into its error.
func catch(err *error) {
	if p := recover(); p != nil {
		be, ok := p.(buildError)
		if !ok {
			panic(p)
		}
		*err = be.err
	}
}

// makeFilesystem makes a filesystem image of typ holding dir with scripts/mkfs-from-dir.sh.
func makeFilesystem(e *env, typ, dir, size string, opts ...string) string {
	img := filepath.Join(e.TempDir(), typ+".img")
	args := append([]string{filepath.Join(repoRoot(), "scripts", "mkfs-from-dir.sh"), typ, dir, img, size}, opts...)
	if b, err := exec.Command("bash", args...).CombinedOutput(); err != nil {
		e.fail("mkfs-from-dir %s: %v\n%s", typ, err, b)
	}
	return img
}

// repoRoot is the checkout this package was built from.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// PEHeader is the first bytes of a PE file of the given machine type (enough for the checker).
func PEHeader(machine uint16) []byte {
	b := make([]byte, 0x200)
	copy(b, "MZ")
	binary.LittleEndian.PutUint32(b[0x3C:], 0x80)
	copy(b[0x80:], "PE\x00\x00")
	binary.LittleEndian.PutUint16(b[0x84:], machine)
	return b
}

// EVTX is an event log file with n records spread over 64 KiB chunks (headers only: record
// contents are not read by the checker).
func EVTX(n uint64) []byte {
	const perChunk = 100
	chunks := (n + perChunk - 1) / perChunk
	if chunks == 0 {
		chunks = 1
	}
	b := make([]byte, 4096+chunks*65536)
	le := binary.LittleEndian
	copy(b, "ElfFile\x00")
	le.PutUint64(b[16:], chunks-1)
	le.PutUint64(b[24:], n+1)
	le.PutUint32(b[32:], 128)
	le.PutUint16(b[36:], 2)
	le.PutUint16(b[38:], 3)
	le.PutUint16(b[40:], 4096)
	le.PutUint16(b[42:], uint16(chunks))
	for i := uint64(0); i < chunks && n > 0; i++ {
		c := b[4096+i*65536:]
		first := i*perChunk + 1
		last := min(first+perChunk-1, n)
		copy(c, "ElfChnk\x00")
		le.PutUint64(c[8:], first)
		le.PutUint64(c[16:], last)
	}
	return b
}

func regStr(s string) string {
	return `"` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) + `"`
}

func regHex(b []byte) string {
	parts := make([]string, len(b))
	for i, c := range b {
		parts[i] = fmt.Sprintf("%02x", c)
	}
	return "hex:" + strings.Join(parts, ",")
}

func filetimeOf(t time.Time) uint64 {
	return uint64(t.UnixNano()/100) + 116444736000000000
}

func softwareReg(dirty bool) string {
	state, noAU, auOpt := "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE", 0, 4
	installed := time.Now().Add(-10 * 24 * time.Hour)
	roles := []string{"Web-Server", "NET-Framework-45-Core", "Windows-Defender"}
	if dirty {
		state, noAU, auOpt = "IMAGE_STATE_COMPLETE", 1, 2
		installed = time.Now().Add(-200 * 24 * time.Hour)
		roles = append(roles, "DHCP", "Failover-Clustering")
	}
	ft := filetimeOf(installed)
	var s strings.Builder
	fmt.Fprintf(&s, `[%s\Microsoft\Windows NT\CurrentVersion]
"ProductName"="Windows Server 2022 Datacenter"
"EditionID"="ServerDatacenter"
"InstallationType"="Server"
"CurrentBuild"="20348"
"CurrentBuildNumber"="20348"
"DisplayVersion"="21H2"
"UBR"=dword:00000b11

[%s\Microsoft\Windows\CurrentVersion\Setup\State]
"ImageState"=%s

[%s\Policies\Microsoft\Windows\WindowsUpdate\AU]
"NoAutoUpdate"=dword:%08x
"AUOptions"=dword:%08x

[%s\Microsoft\Windows\CurrentVersion\Component Based Servicing\Packages\Package_for_RollupFix~31bf3856ad364e35~amd64~~20348.2849.1.3]
"InstallTimeHigh"=dword:%08x
"InstallTimeLow"=dword:%08x
"CurrentState"=dword:00000070

`, HivePrefix, HivePrefix, regStr(state), HivePrefix, noAU, auOpt, HivePrefix, ft>>32, ft&0xFFFFFFFF)
	for _, r := range roles {
		fmt.Fprintf(&s, "[%s\\Microsoft\\ServerManager\\ServicingStorage\\ServerComponentCache\\%s]\n\"InstallState\"=dword:00000001\n\n", HivePrefix, r)
	}
	return s.String()
}

func systemReg(dirty bool) string {
	public := 1
	if dirty {
		public = 0
	}
	fw := HivePrefix + `\ControlSet001\Services\SharedAccess\Parameters\FirewallPolicy`
	s := fmt.Sprintf(`[%s\Select]
"Current"=dword:00000001
"Default"=dword:00000001

[%s\DomainProfile]
"EnableFirewall"=dword:00000001

[%s\StandardProfile]
"EnableFirewall"=dword:00000001

[%s\PublicProfile]
"EnableFirewall"=dword:%08x

[%s\FirewallRules]
"RemoteDesktop-UserMode-In-TCP"=%s
"WINRM-HTTP-In-TCP"=%s
`, HivePrefix, fw, fw, fw, public, fw,
		regStr(`v2.31|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=3389|App=%SystemRoot%\system32\svchost.exe|Svc=termservice|Name=@FirewallAPI.dll,-28775|Desc=@FirewallAPI.dll,-28756|EmbedCtxt=@FirewallAPI.dll,-28752|`),
		regStr(`v2.31|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=5985|App=System|Name=@FirewallAPI.dll,-35001|Desc=@FirewallAPI.dll,-35002|EmbedCtxt=@FirewallAPI.dll,-30267|`))
	if dirty {
		s += `"{6A1C3B2E-6F3D-4C55-9E0B-7D2A1F0C4B11}"=` + regStr(`v2.31|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=8080|Name=build test web server|`) + "\n"
	}
	return s
}

// SAMAccount renders the F and V values of one SAM user record.
func SAMAccount(name string, rid uint32, disabled, password bool) (f, v []byte) {
	le := binary.LittleEndian
	f = make([]byte, 0x50)
	le.PutUint32(f[0x30:], rid)
	acb := uint16(0x0010) // normal account
	if disabled {
		acb |= 0x0001
	}
	le.PutUint16(f[0x38:], acb)
	u := utf16.Encode([]rune(name))
	nameBytes := make([]byte, 2*len(u))
	for i, c := range u {
		le.PutUint16(nameBytes[2*i:], c)
	}
	// AES-era hash fields: a 24-byte header with the salt, then 16 bytes when a password is set
	nt := make([]byte, 0x18)
	if password {
		nt = make([]byte, 0x38)
	}
	le.PutUint16(nt, 2)
	v = make([]byte, 0xCC, 0xCC+len(nameBytes)+len(nt)+8)
	le.PutUint32(v[0x0C:], uint32(len(v)-0xCC))
	le.PutUint32(v[0x10:], uint32(len(nameBytes)))
	v = append(v, nameBytes...)
	for len(v)%4 != 0 {
		v = append(v, 0)
	}
	le.PutUint32(v[0xA8:], uint32(len(v)-0xCC))
	le.PutUint32(v[0xAC:], uint32(len(nt)))
	v = append(v, nt...)
	return f, v
}

func samReg(dirty bool) string {
	type acct struct {
		name               string
		rid                uint32
		disabled, password bool
	}
	list := []acct{{"Administrator", 500, true, true}, {"Guest", 501, true, false}, {"DefaultAccount", 503, true, false}, {"WDAGUtilityAccount", 504, true, true}}
	if dirty {
		list = append(list, acct{"admin", 1001, false, true})
	}
	var s strings.Builder
	for _, a := range list {
		f, v := SAMAccount(a.name, a.rid, a.disabled, a.password)
		fmt.Fprintf(&s, "[%s\\SAM\\Domains\\Account\\Users\\%08X]\n\"F\"=%s\n\"V\"=%s\n\n", HivePrefix, a.rid, regHex(f), regHex(v))
	}
	return s.String()
}
