package systemd

import (
	"errors"
	"strings"
	"testing"
)

// elfHead is the start of an ELF program: class (1 32-bit, 2 64-bit), data (1 LSB, 2 MSB),
// machine.
func elfHead(class, data byte, machine uint16) string {
	b := make([]byte, 64)
	copy(b, "\x7fELF")
	b[4], b[5], b[6] = class, data, 1
	if data == 2 {
		b[18], b[19] = byte(machine>>8), byte(machine)
	} else {
		b[18], b[19] = byte(machine), byte(machine>>8)
	}
	return string(b)
}

type condCase struct {
	name     string
	settings []string
	files    map[string]string
	cmdlines []KernelCmdline
	cmdErr   error
	noHook   bool
	holds    Tri
	mention  string
}

func runCondCases(t *testing.T, cases []condCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := map[string]string{"/etc/os-release": "ID=debian\n"}
			for k, v := range c.files {
				files[k] = v
			}
			ev := NewEvaluator(FromDir(condTree(t, files)))
			if !c.noHook {
				ev.SetKernelCmdlines(func() ([]KernelCmdline, error) { return c.cmdlines, c.cmdErr })
			}
			res, err := ev.Evaluate(condUnit(c.settings...))
			if err != nil {
				if c.holds == errFail && strings.Contains(err.Error(), c.mention) {
					return
				}
				t.Fatal(err)
			}
			if c.holds == errFail {
				t.Fatalf("holds %v (%s), want an error mentioning %q", res.Holds, res, c.mention)
			}
			text := res.String()
			for _, x := range res.Conditions {
				text += "\n" + x.Why
			}
			if res.Holds != c.holds || !strings.Contains(text, c.mention) {
				t.Errorf("holds %v (%s), want %v mentioning %q", res.Holds, text, c.holds, c.mention)
			}
		})
	}
}

// ConditionOSRelease= with versions, quoting and os-release read as systemd reads it.
func TestConditionOSReleaseVersions(t *testing.T) {
	osr := func(s string) map[string]string { return map[string]string{"/etc/os-release": s} }
	deb := osr("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n")
	big := strings.Repeat("#", maxOSRelease-len("\nID=debian\n")) + "\nID=debian\n"
	runCondCases(t, []condCase{
		{"at least 12", []string{"ConditionOSRelease=VERSION_ID>=12"}, deb, nil, nil, false, True, "VERSION_ID is \"12\""},
		{"at least 11", []string{"ConditionOSRelease=VERSION_ID>=11"}, deb, nil, nil, false, True, ""},
		{"below 12", []string{"ConditionOSRelease=VERSION_ID<12"}, deb, nil, nil, false, False, "VERSION_ID"},
		{"below 12.1", []string{"ConditionOSRelease=VERSION_ID<12.1"}, deb, nil, nil, false, True, ""},
		{"above 9 (versions, not strings)", []string{"ConditionOSRelease=VERSION_ID>9"}, deb, nil, nil, false, True, ""},
		{"at most 12", []string{"ConditionOSRelease=VERSION_ID<=12"}, deb, nil, nil, false, True, ""},
		{"== compares versions", []string{"ConditionOSRelease=VERSION_ID==012"}, deb, nil, nil, false, True, ""},
		{"= compares strings", []string{"ConditionOSRelease=VERSION_ID=012"}, deb, nil, nil, false, False, ""},
		{"<> compares versions", []string{"ConditionOSRelease=VERSION_ID<>12"}, deb, nil, nil, false, False, ""},
		{"a quoted parameter", []string{`ConditionOSRelease=PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"`}, deb, nil, nil, false, True, ""},
		{"an escaped blank", []string{`ConditionOSRelease=PRETTY_NAME=Debian\ GNU/Linux\ 12\ (bookworm)`}, deb, nil, nil, false, True, ""},
		{"a blank splits the words", []string{`ConditionOSRelease=PRETTY_NAME=Debian GNU/Linux`}, deb, nil, nil, false, False, ""},
		{"unbalanced quoting fails even negated", []string{`ConditionOSRelease=!ID="debian`}, deb, nil, nil, false, False, "unbalanced"},
		{"a key that is no name fails even negated", []string{"ConditionOSRelease=!VERSION-ID=12"}, deb, nil, nil, false, False, "not KEY"},
		{"a blank after the operator fails", []string{`ConditionOSRelease=!"ID= debian"`}, deb, nil, nil, false, False, "not KEY"},
		{"an unknown operator fails", []string{"ConditionOSRelease=!ID!debian"}, deb, nil, nil, false, False, "not KEY"},
		{"fnmatch matches a slash", []string{"ConditionOSRelease=PRETTY_NAME$=Debian*/Linux*"}, deb, nil, nil, false, True, ""},
		{"fnmatch of an unset key matches the empty string", []string{"ConditionOSRelease=NOPE$=*"}, deb, nil, nil, false, True, "not set"},
		{"an unset key is older than any version", []string{"ConditionOSRelease=NOPE<1"}, deb, nil, nil, false, True, ""},
		{"every word must hold", []string{"ConditionOSRelease=ID=debian VERSION_ID>=13"}, deb, nil, nil, false, False, ""},
		{"os-release value with blanks, unquoted", []string{`ConditionOSRelease=NAME="Debian GNU/Linux"`}, osr("NAME=Debian GNU/Linux  \n"), nil, nil, false, True, ""},
		{"an empty value unsets the key", []string{"ConditionOSRelease=ID!=debian"}, osr("ID=debian\nID=\n"), nil, nil, false, True, "not set"},
		{"a comment continued by a backslash (252)", []string{"ConditionOSRelease=ID!=x"}, osr("# c\\\nID=x\n"), nil, nil, false, True, "not set"},
		{"double quotes keep an unknown escape", []string{`ConditionOSRelease=ID=a\\q`}, osr("ID=\"a\\q\"\n"), nil, nil, false, True, ""},
		{"/usr/lib/os-release when /etc has none", []string{"ConditionOSRelease=ID=fedora"}, map[string]string{"/etc/os-release": "-> ../usr/lib/nothing", "/usr/lib/os-release": "ID=fedora\n"}, nil, nil, false, True, "/usr/lib/os-release"},
		{"not UTF-8 fails systemd's parse, even negated", []string{"ConditionOSRelease=!ID=x"}, osr("ID=debian\nX=\xff\n"), nil, nil, false, False, "/etc/os-release: line 2"},
		{"a NUL byte fails systemd's parse, even negated", []string{"ConditionOSRelease=!ID=x"}, osr("ID=debian\n\x00X=1\n"), nil, nil, false, False, "offset 10: a NUL"},
		{"at the size bound", []string{"ConditionOSRelease=ID=debian"}, osr(big), nil, nil, false, True, ""},
		{"over the size bound is an error", []string{"ConditionOSRelease=ID=debian"}, osr(big + "#"), nil, nil, false, errFail, "larger than"},
	})
}

// ConditionKernelCommandLine= against the booted entries' command lines.
func TestConditionKernelCommandLine(t *testing.T) {
	one := func(v string) []KernelCmdline { return []KernelCmdline{{Where: "/boot/grub/grub.cfg:3", Value: v}} }
	grub := []KernelCmdline{{Where: "/boot/grub/grub.cfg:3", Value: "root=UUID=x ro quiet", AddedKeys: []string{"BOOT_IMAGE"}}}
	line := "root=UUID=x ro quiet cloud-init=enabled rd.foo=1 a=\"b c\""
	runCondCases(t, []condCase{
		{"a word", []string{"ConditionKernelCommandLine=quiet"}, nil, one(line), nil, false, True, "grub.cfg:3 has quiet"},
		{"a missing word", []string{"ConditionKernelCommandLine=splash"}, nil, one(line), nil, false, False, "has no splash"},
		{"a key matches KEY=", []string{"ConditionKernelCommandLine=cloud-init"}, nil, one(line), nil, false, True, "cloud-init=enabled"},
		{"a prefix of a key does not", []string{"ConditionKernelCommandLine=cloud"}, nil, one(line), nil, false, False, ""},
		{"a word with = must be equal", []string{"ConditionKernelCommandLine=cloud-init=disabled"}, nil, one(line), nil, false, False, ""},
		{"a word with = is no prefix", []string{"ConditionKernelCommandLine=cloud-init=enab"}, nil, one(line), nil, false, False, ""},
		{"the real unit's negation", []string{"ConditionKernelCommandLine=!cloud-init=disabled"}, nil, one(line), nil, false, True, ""},
		{"disabled on the command line", []string{"ConditionKernelCommandLine=!cloud-init=disabled"}, nil, one("ro cloud-init=disabled"), nil, false, False, "cloud-init=disabled"},
		{"rd. words are not the word", []string{"ConditionKernelCommandLine=foo"}, nil, one(line), nil, false, False, ""},
		{"rd. words are words", []string{"ConditionKernelCommandLine=rd.foo"}, nil, one(line), nil, false, True, ""},
		{"quotes are removed", []string{"ConditionKernelCommandLine=a=b c"}, nil, one(line), nil, false, True, ""},
		{"GRUB adds BOOT_IMAGE", []string{"ConditionKernelCommandLine=BOOT_IMAGE"}, nil, grub, nil, false, True, "boot loader adds it"},
		{"BOOT_IMAGE's value is not known", []string{"ConditionKernelCommandLine=BOOT_IMAGE=/vmlinuz"}, nil, grub, nil, false, Unknown, "BOOT_IMAGE"},
		{"entries that agree", []string{"ConditionKernelCommandLine=quiet"}, nil, append(one(line), KernelCmdline{Where: "/boot/efi/x.conf", Value: "quiet"}), nil, false, True, ""},
		{"entries that disagree", []string{"ConditionKernelCommandLine=quiet"}, nil, append(one(line), KernelCmdline{Where: "/boot/efi/x.conf", Value: "ro"}), nil, false, Unknown, "disagree"},
		{"no booted entry", []string{"ConditionKernelCommandLine=quiet"}, nil, nil, nil, false, Unknown, "no boot entry"},
		{"an unreadable boot chain", []string{"ConditionKernelCommandLine=quiet"}, nil, nil, errors.New("grub.cfg: too long"), false, Unknown, "grub.cfg: too long"},
		{"no boot chain given", []string{"ConditionKernelCommandLine=quiet"}, nil, nil, nil, true, Unknown, "not read here"},
	})
}

// ConditionArchitecture= from the image's systemd binary.
func TestConditionArchitecture(t *testing.T) {
	x64 := map[string]string{"/usr/lib/systemd/systemd": elfHead(2, 1, 62)}
	a64 := map[string]string{"/lib/systemd/systemd": elfHead(2, 1, 183)}
	i386 := map[string]string{"/usr/lib/systemd/systemd": elfHead(1, 1, 3)}
	runCondCases(t, []condCase{
		{"x86-64", []string{"ConditionArchitecture=x86-64"}, x64, nil, nil, false, True, "built for x86-64"},
		{"not arm64", []string{"ConditionArchitecture=arm64"}, x64, nil, nil, false, False, ""},
		{"negated", []string{"ConditionArchitecture=!arm64"}, x64, nil, nil, false, True, ""},
		{"native", []string{"ConditionArchitecture=native"}, x64, nil, nil, false, True, ""},
		{"arm64", []string{"ConditionArchitecture=arm64"}, a64, nil, nil, false, True, ""},
		{"uname's spelling is no systemd name", []string{"ConditionArchitecture=!x86_64"}, x64, nil, nil, false, False, "not an architecture"},
		{"32-bit userland: which kernel is open", []string{"ConditionArchitecture=x86-64"}, i386, nil, nil, false, Unknown, "x86 or x86-64 kernel"},
		{"32-bit userland: another family is decided", []string{"ConditionArchitecture=arm64"}, i386, nil, nil, false, False, "only a x86 or x86-64 kernel"},
		{"no systemd binary", []string{"ConditionArchitecture=x86-64"}, nil, nil, nil, false, Unknown, "no systemd binary"},
		{"not an ELF binary is an error", []string{"ConditionArchitecture=x86-64"}, map[string]string{"/usr/lib/systemd/systemd": "#!/bin/sh\n"}, nil, nil, false, errFail, "/usr/lib/systemd/systemd"},
	})
}

// ConditionEnvironment= against the system manager's environment.
func TestConditionEnvironment(t *testing.T) {
	line := one2("ro quiet")
	runCondCases(t, []condCase{
		{"the real cloud-init unit's", []string{"ConditionEnvironment=!KERNEL_CMDLINE=cloud-init=disabled"}, nil, line, nil, false, True, "not in the system manager's environment"},
		{"a name", []string{"ConditionEnvironment=KUBERNETES_PORT"}, nil, line, nil, false, False, ""},
		{"PATH is set, its value not decided", []string{"ConditionEnvironment=PATH"}, nil, line, nil, false, Unknown, "PATH"},
		{"DefaultEnvironment=", []string{"ConditionEnvironment=X"}, map[string]string{"/etc/systemd/system.conf": "[Manager]\nDefaultEnvironment=X=1\n"}, line, nil, false, Unknown, "/etc/systemd/system.conf:2"},
		{"a drop-in's DefaultEnvironment=", []string{"ConditionEnvironment=X"}, map[string]string{"/usr/lib/systemd/system.conf.d/a.conf": "[Manager]\nDefaultEnvironment=X=1\n"}, line, nil, false, Unknown, "a.conf:2"},
		{"an environment generator", []string{"ConditionEnvironment=X"}, map[string]string{"/usr/lib/systemd/system-environment-generators/snapd-env-generator": "x:#!/bin/sh\n"}, line, nil, false, Unknown, "snapd-env-generator"},
		{"systemd.setenv= on the command line", []string{"ConditionEnvironment=X"}, nil, one2("ro systemd.setenv=X=1"), nil, false, Unknown, "systemd.setenv=X=1"},
		{"system.conf at its bound", []string{"ConditionEnvironment=X"}, map[string]string{"/etc/systemd/system.conf": strings.Repeat("#", maxSystemConf)}, line, nil, false, False, ""},
		{"system.conf over its bound is an error", []string{"ConditionEnvironment=X"}, map[string]string{"/etc/systemd/system.conf": strings.Repeat("#", maxSystemConf+1)}, line, nil, false, errFail, "larger than"},
		{"the command line not known", []string{"ConditionEnvironment=X"}, nil, nil, nil, true, Unknown, "systemd.setenv="},
	})
}

func one2(v string) []KernelCmdline {
	return []KernelCmdline{{Where: "/boot/grub/grub.cfg:3", Value: v}}
}
