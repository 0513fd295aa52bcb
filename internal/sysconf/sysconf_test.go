package sysconf

import (
	"errors"
	"io/fs"
	"path"
	"strings"
	"testing"
)

func TestParseFstab(t *testing.T) {
	in := "# comment\nUUID=abc / xfs defaults 0 1\n\n/dev/sda2\tnone swap sw 0 0\nLABEL=my\\040data /srv/my\\040data ext4 noauto,bind\nbroken\n"
	got := ParseFstab([]byte(in))
	if len(got) != 3 {
		t.Fatalf("%d entries: %+v", len(got), got)
	}
	if got[0].Path != "/" || got[0].Line != 2 || !got[1].IsSwap() || got[1].Line != 4 {
		t.Errorf("entries: %+v", got)
	}
	if got[2].Spec != "LABEL=my data" || got[2].Path != "/srv/my data" || !got[2].HasOption("bind") {
		t.Errorf("octal escapes / options: %+v", got[2])
	}
}

func TestParseShadowNeverKeepsTheHash(t *testing.T) {
	in := "root:$6$salt$hash:1::::::\nbin:*:1::::::\nlocked:!$6$x$y:1::::::\nempty::1::::::\nold:abcdefghijklm:1::::::\nodd:garbage!:1::::::\n"
	want := map[string]PasswordStatus{"root": PasswordUsable, "bin": PasswordLocked, "locked": PasswordLocked,
		"empty": PasswordEmpty, "old": PasswordUsable, "odd": PasswordLocked}
	for _, e := range ParseShadow([]byte(in)) {
		if want[e.Name] != e.Status {
			t.Errorf("%s: %s, want %s", e.Name, e.Status, want[e.Name])
		}
		if strings.Contains(e.Scheme, "hash") || strings.Contains(e.Scheme, "salt") {
			t.Errorf("%s: scheme %q leaks the hash", e.Name, e.Scheme)
		}
	}
}

func TestParsePasswd(t *testing.T) {
	got := ParsePasswd([]byte("root:x:0:0:root:/root:/bin/bash\nbad:x:zero:0::/:/bin/sh\n+nis::::::\nu:x:1000:1000::/home/u:/bin/zsh\n"))
	if len(got) != 2 || got[1].Name != "u" || got[1].UID != 1000 || got[1].Line != 4 {
		t.Errorf("%+v", got)
	}
}

func TestShellVars(t *testing.T) {
	in := `GRUB_CMDLINE_LINUX="console=tty1 console=ttyS0"
export X='single quoted' # comment
Y=plain#notacomment
Z=a b
`
	s := ParseShellVars([]byte(in))
	want := map[string]string{"GRUB_CMDLINE_LINUX": "console=tty1 console=ttyS0", "X": "single quoted", "Y": "plain#notacomment", "Z": "a"}
	for k, v := range want {
		if got, ok := Last(s, k); !ok || got.Value != v {
			t.Errorf("%s = %q, want %q", k, got.Value, v)
		}
	}
}

func TestKeyValue(t *testing.T) {
	s := ParseKeyValue([]byte("[section]\nResourceDisk.EnableSwap=n\n; c\nAutoUpdate.Enabled = y # on\nkey = \"quoted\"\n"))
	for k, v := range map[string]string{"ResourceDisk.EnableSwap": "n", "AutoUpdate.Enabled": "y", "key": "quoted"} {
		if got, ok := Last(s, k); !ok || got.Value != v {
			t.Errorf("%s = %q, want %q", k, got.Value, v)
		}
	}
}

// memFS is a tiny in-memory view for the Include expander.
type memFS map[string]string

func (m memFS) src() SSHDSource {
	return SSHDSource{
		Read: func(p string) ([]byte, error) {
			if s, ok := m[p]; ok {
				return []byte(s), nil
			}
			return nil, fs.ErrNotExist
		},
		Glob: func(pat string) ([]string, error) {
			var out []string
			for p := range m {
				if ok, _ := path.Match(pat, p); ok {
					out = append(out, p)
				}
			}
			return out, nil
		},
	}
}

func TestExpandSSHD(t *testing.T) {
	m := memFS{
		"/etc/ssh/sshd_config":             "Include /etc/ssh/sshd_config.d/*.conf\nClientAliveInterval 180\nMatch User bob\n  ClientAliveInterval 5\n",
		"/etc/ssh/sshd_config.d/20-b.conf": "ClientAliveInterval=120\n",
		"/etc/ssh/sshd_config.d/10-a.conf": "Include extra.conf\nPermitRootLogin no\n",
		"/etc/ssh/extra.conf":              "ClientAliveCountMax 3\n",
	}
	ds, errs := ExpandSSHD("/etc/ssh/sshd_config", m.src())
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var order []string
	for _, d := range ds {
		order = append(order, d.Key)
	}
	if strings.Join(order, ",") != "clientalivecountmax,permitrootlogin,clientaliveinterval,clientaliveinterval,clientaliveinterval" {
		t.Errorf("order %v", order)
	}
	first, ok := FirstGlobal(ds, "clientaliveinterval")
	if !ok || first.Value != "120" || first.File != "/etc/ssh/sshd_config.d/20-b.conf" {
		t.Errorf("effective %+v", first)
	}
	if ds[len(ds)-1].Match != "User bob" {
		t.Errorf("Match not tracked: %+v", ds[len(ds)-1])
	}
}

func TestExpandSSHDIncludeLoop(t *testing.T) {
	m := memFS{"/etc/ssh/sshd_config": "Include /etc/ssh/sshd_config\n"}
	_, errs := ExpandSSHD("/etc/ssh/sshd_config", m.src())
	if len(errs) == 0 || !strings.Contains(errors.Join(errs...).Error(), "deeper") {
		t.Errorf("include loop: %v", errs)
	}
}
