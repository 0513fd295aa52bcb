package sysconf

import (
	"bytes"
	"testing"
)

func FuzzParsers(f *testing.F) {
	f.Add([]byte("UUID=x / ext4 defaults 0 1\nroot:$6$a$b:1::\nroot:x:0:0::/root:/bin/sh\nA=\"b c\"\nk = v\n"))
	f.Add([]byte("toor::0:0\nbad1:x: 0:0::/root:/bin/bash\n  +x\n-y:::\nz:x:-18446744073709551615:4294967296\n\x00a:x:1:1\n"))
	f.Add([]byte("linux /vmlinuz ro # console=ttyS0\n\tlinux /v 'a b' \"c\\\"d\" e\\\n f; g -- console=ttyS0\n/swap#1 none swap sw 0 0\n1m30s"))
	f.Add([]byte("Include *.conf\nMatch all\nClientAliveInterval=180\n\\040\\"))
	f.Add([]byte("\"swap\": &s {filename: /swapnull, size: 2G}\nb: *s\n<<: [*s]\nswap: !!int '0o17'\n"))
	f.Add([]byte("[Service]\nEnvironmentFile=-/etc/default/ssh\nExecStart=-@/usr/sbin/sshd sshd -D $SSHD_OPTS ${X} \"a b\" ; /bin/true\\\n x\nSSHD_OPTS='-o A=1' \"\\$x\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ReadFstab(data)
		if sh, err := ParseShadow(data); err == nil && len(sh) > bytes.Count(data, []byte("\n"))+1 {
			t.Fatalf("%d shadow entries from %d lines", len(sh), bytes.Count(data, []byte("\n"))+1)
		}
		if pw, err := ParsePasswd(data); err == nil {
			for _, e := range pw {
				if e.UID < 0 || e.UID > 0xFFFFFFFF || e.GID < 0 || e.GID > 0xFFFFFFFF {
					t.Fatalf("id out of range: %+v", e)
				}
			}
		}
		_, _ = ParsePasswdPasswords(data)
		_, _ = ReadFstab(data)
		_, _ = ParseSSHDTime(string(data))
		if cmds, err := GrubCommands(data); err == nil {
			for _, c := range cmds {
				if len(c.Words) == 0 || c.Line < 1 || c.Line > bytes.Count(data, []byte("\n"))+1 {
					t.Fatalf("command %+v", c)
				}
			}
		}
		ParseShellVars(data)
		ParseKeyValue(data)
		if s, err := ReadShellVars(data); err == nil && len(s) > bytes.Count(data, []byte("\n"))+1 {
			t.Fatalf("%d settings from %d lines", len(s), bytes.Count(data, []byte("\n"))+1)
		}
		_, _ = ReadKeyValue(data)
		if v, err := LoadYAML(data); err == nil && v != nil {
			_ = v.String()
		}
		if us, err := ParseUnit(data); err == nil {
			for _, u := range us {
				if u.Line < 1 || u.Line > bytes.Count(data, []byte("\n"))+1 {
					t.Fatalf("setting %+v", u)
				}
			}
		}
		_, _ = ParseEnvFile(data)
		if cmds, err := SplitExec(string(data)); err == nil {
			for _, c := range cmds {
				if c.Path == "" || len(c.Argv) == 0 {
					t.Fatalf("command %+v", c)
				}
				ExpandExecEnv(c, map[string]string{"SSHD_OPTS": string(data)})
				ParseSSHDArgs(c.Argv)
			}
		}
		// a config that includes itself through every directive must stop at the depth limit
		ExpandSSHD("/c", SSHDSource{
			Read: func(string) ([]byte, error) { return data, nil },
			Glob: func(p string) ([]string, error) { return []string{p}, nil },
		})
	})
}
