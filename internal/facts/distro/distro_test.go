package distro

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
)

// tree writes files under a directory: "-> T" is a symbolic link to T, a "#!" body an
// executable.
func tree(t *testing.T, files map[string]string) systemd.Source {
	t.Helper()
	root := t.TempDir()
	for p, body := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(body, "-> "); ok {
			if err := os.Symlink(target, full); err != nil {
				t.Fatal(err)
			}
			continue
		}
		mode := os.FileMode(0o644)
		if strings.HasPrefix(body, "#!") {
			mode = 0o755
		}
		if err := os.WriteFile(full, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
	}
	return systemd.FromDir(root)
}

// minimalScript is enough of lsb-release-minimal for it to be recognised (its marks).
const minimalScript = "#!/bin/sh\nset -eu\n[ -f /usr/lib/os-release ] && os_release=/usr/lib/os-release\n[ -f /etc/os-release ] && os_release=/etc/os-release\n[ \"${LSB_OS_RELEASE-x}\" != \"x\" ] && [ -f \"$LSB_OS_RELEASE\" ] && os_release=\"$LSB_OS_RELEASE\"\n"

// The script's branches, in its order, with lsb_release present and not.
func TestRead(t *testing.T) {
	const usrLib = "ID=debian\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\n"
	for _, c := range []struct {
		name          string
		files         map[string]string
		from          Origin
		named, ver    string
		path, command string
		problem       string
	}{
		{"os-release, a link to /usr/lib", map[string]string{"etc/os-release": "-> ../usr/lib/os-release", "usr/lib/os-release": usrLib, "usr/bin/lsb_release": minimalScript},
			OSRelease, "Debian GNU/Linux", "12", "/etc/os-release", "", ""},
		{"no os-release, no lsb_release: lsb-release", map[string]string{"usr/lib/os-release": usrLib, "etc/lsb-release": "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=22.04\n"},
			LSBFile, "Ubuntu", "22.04", "/etc/lsb-release", "", ""},
		{"a dangling os-release, the minimal lsb_release: it reads /usr/lib/os-release", map[string]string{"etc/os-release": "-> ../usr/lib/gone", "usr/lib/os-release": usrLib, "usr/bin/lsb_release": minimalScript, "etc/lsb-release": "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=22.04\n"},
			LSBRelease, "Debian", "12", "/usr/lib/os-release", "/usr/bin/lsb_release", ""},
		{"the minimal lsb_release with no os-release at all prints n/a", map[string]string{"bin/lsb_release": minimalScript, "etc/debian_version": "12.5\n"},
			LSBRelease, "n/a", "n/a", "", "/bin/lsb_release", ""},
		{"lsb_release first on PATH: /usr/local/bin before /usr/bin", map[string]string{"usr/local/bin/lsb_release": "#!/usr/bin/python3\n", "usr/bin/lsb_release": minimalScript},
			LSBRelease, "", "", "", "/usr/local/bin/lsb_release", "other than Debian's lsb-release-minimal"},
		// bash's type finds a file it cannot run when no executable one is on PATH; running it fails
		{"a non-executable lsb_release: type finds it, it prints nothing", map[string]string{"usr/bin/lsb_release": "not executable", "etc/debian_version": "bookworm/sid\n"},
			LSBRelease, "", "", "", "/usr/bin/lsb_release", ""},
		{"an executable lsb_release later on PATH wins over a non-executable one", map[string]string{"usr/local/bin/lsb_release": "not executable", "bin/lsb_release": minimalScript},
			LSBRelease, "n/a", "n/a", "", "/bin/lsb_release", ""},
		{"a directory named lsb_release is not found", map[string]string{"usr/bin/lsb_release/x": "x", "etc/debian_version": "bookworm/sid\n"},
			DebianVersion, "Debian", "bookworm/sid", "/etc/debian_version", "", ""},
		{"redhat-release of one word: cut prints it whole as field 3", map[string]string{"etc/redhat-release": "CentOS.x\n"},
			RedHatRelease, "CentOS Linux", "CentOS", "/etc/redhat-release", "", ""},
		{"SuSe-release names nothing, before redhat-release", map[string]string{"etc/SuSe-release": "SUSE Linux Enterprise Server 11\n", "etc/redhat-release": "CentOS release 6.10 (Final)\n"},
			SuSERelease, "", "", "/etc/SuSe-release", "", ""},
		{"redhat-release of CentOS 6", map[string]string{"etc/redhat-release": "CentOS release 6.10 (Final)\n"},
			RedHatRelease, "CentOS Linux", "6", "/etc/redhat-release", "", ""},
		{"redhat-release of another vendor: no name", map[string]string{"etc/redhat-release": "Red Hat Enterprise Linux Server release 7.9 (Maipo)\n"},
			RedHatRelease, "", "Enterprise", "/etc/redhat-release", "", ""},
		{"cut's fields are single spaces", map[string]string{"etc/redhat-release": "CentOS  release 7.1\n"},
			RedHatRelease, "CentOS Linux", "release", "/etc/redhat-release", "", ""},
		{"nothing: uname", map[string]string{"etc/hostname": "h\n"}, Uname, "Linux", "", "", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := Read(tree(t, c.files))
			err := f.Err()
			if c.problem != "" {
				if err == nil || !strings.Contains(err.Error(), c.problem) || !strings.Contains(err.Error(), c.command) {
					t.Fatalf("problems %v, want %q", err, c.problem)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if f.From != c.from || f.Name != c.named || f.Version != c.ver || f.Path != c.path || f.Command != c.command {
				t.Errorf("from %s name %q version %q path %q command %q; want %s %q %q %q %q", f.From, f.Name, f.Version, f.Path, f.Command, c.from, c.named, c.ver, c.path, c.command)
			}
		})
	}
}

// FuzzRedHat: the script's reading of /etc/redhat-release never panics, and names CentOS Linux
// only for a one-line file whose first field (to a dot) is CentOS.
func FuzzRedHat(f *testing.F) {
	f.Add([]byte("CentOS release 6.10 (Final)\n"))
	f.Add([]byte("CentOS"))
	f.Add([]byte("Red Hat Enterprise Linux release 8.9 (Ootpa)\nx\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		name, _ := redHat(data)
		if name != "" && (name != "CentOS Linux" || !strings.HasPrefix(string(data), "CentOS") || strings.Contains(strings.TrimRight(string(data), "\n"), "\n")) {
			t.Fatalf("%q named %q", data, name)
		}
		_ = MinimalID(string(data), string(data))
	})
}
