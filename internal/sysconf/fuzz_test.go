package sysconf

import "testing"

func FuzzParsers(f *testing.F) {
	f.Add([]byte("UUID=x / ext4 defaults 0 1\nroot:$6$a$b:1::\nroot:x:0:0::/root:/bin/sh\nA=\"b c\"\nk = v\n"))
	f.Add([]byte("Include *.conf\nMatch all\nClientAliveInterval=180\n\\040\\"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ParseFstab(data)
		ParseShadow(data)
		ParsePasswd(data)
		ParsePasswdPasswords(data)
		ParseShellVars(data)
		ParseKeyValue(data)
		// a config that includes itself through every directive must stop at the depth limit
		ExpandSSHD("/c", SSHDSource{
			Read: func(string) ([]byte, error) { return data, nil },
			Glob: func(p string) ([]string, error) { return []string{p}, nil },
		})
	})
}
