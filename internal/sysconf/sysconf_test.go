package sysconf

import (
	"errors"
	"io/fs"
	"path"
	"strings"
	"testing"
)

func TestReadFstab(t *testing.T) {
	in := "# comment\nUUID=abc / xfs defaults 0 1\n\n/dev/sda2\tnone swap sw 0 0\nLABEL=my\\040data /srv/my\\040data ext4 noauto,bind\nbroken\n"
	got, err := ReadFstab([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
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
	got, err := ParseShadow([]byte(in))
	if err != nil || len(got) != len(want) {
		t.Fatalf("%d entries, %v", len(got), err)
	}
	for _, e := range got {
		if want[e.Name] != e.Status {
			t.Errorf("%s: %s, want %s", e.Name, e.Status, want[e.Name])
		}
		if strings.Contains(e.Scheme, "hash") || strings.Contains(e.Scheme, "salt") {
			t.Errorf("%s: scheme %q leaks the hash", e.Name, e.Scheme)
		}
	}
}

func TestParsePasswd(t *testing.T) {
	got, err := ParsePasswd([]byte("root:x:0:0:root:/root:/bin/bash\nbad:x:zero:0::/:/bin/sh\n+nis::::::\nu:x:1000:1000::/home/u:/bin/zsh\n"))
	if err != nil || len(got) != 3 || !got[1].Compat || got[2].Name != "u" || got[2].UID != 1000 || got[2].Line != 4 {
		t.Errorf("%+v %v", got, err)
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

// Issue 25: an Include inside a Match block is read under that Match (sshd carries it into the
// included file), so its ClientAliveInterval is not the global value; a Match line inside the
// included file narrows the context, and the including file's context is back after it.
func TestExpandSSHDIncludeInsideMatch(t *testing.T) {
	m := memFS{
		"/etc/ssh/sshd_config": "PermitRootLogin no\nMatch User deploy\nInclude deploy.conf\nMaxAuthTries 4\n" +
			"Match all\nInclude all.conf\n",
		"/etc/ssh/deploy.conf": "ClientAliveInterval 180\nMatch Address 10.0.0.0/8\nClientAliveCountMax 2\nMatch all\nX11Forwarding no\n",
		"/etc/ssh/all.conf":    "LoginGraceTime 30\nMatch User bob\nBanner none\n",
	}
	ds, errs := ExpandSSHD("/etc/ssh/sshd_config", m.src())
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if d, ok := FirstGlobal(ds, "clientaliveinterval"); ok {
		t.Errorf("ClientAliveInterval included under Match User deploy is read as global: %+v", d)
	}
	want := map[string]string{"permitrootlogin": "", "clientaliveinterval": "User deploy", "clientalivecountmax": "User deploy Address 10.0.0.0/8",
		"x11forwarding": "User deploy", "maxauthtries": "User deploy", "logingracetime": "all", "banner": "User bob"}
	for _, d := range ds {
		if w, ok := want[d.Key]; !ok || d.Match != w {
			t.Errorf("%s (%s:%d): Match %q, want %q", d.Key, d.File, d.Line, d.Match, w)
		}
	}
	if d, ok := FirstGlobal(ds, "logingracetime"); !ok || d.Value != "30" {
		t.Errorf("a value inside Match all applies to every connection: %+v %v", d, ok)
	}
}

// A file that includes itself twice per level is not read 2^16 times: the expansion stops at
// maxSSHDFiles files and says the configuration was not all read.
func TestExpandSSHDBoundsTheFilesRead(t *testing.T) {
	reads := 0
	src := SSHDSource{
		Read: func(string) ([]byte, error) {
			reads++
			return []byte("Match User " + strings.Repeat("u", 200) + "\nInclude /c /c\nClientAliveInterval 5\n"), nil
		},
		Glob: func(p string) ([]string, error) { return []string{p}, nil },
	}
	_, errs := ExpandSSHD("/c", src)
	if reads > maxSSHDFiles || len(errs) == 0 || !strings.Contains(errors.Join(errs...).Error(), "more than 4096 files") {
		t.Errorf("%d reads, %v", reads, errs)
	}
}
