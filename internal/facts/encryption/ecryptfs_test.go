package encryption

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// The files ecryptfs-setup-private leaves (ecryptfs-utils 104): in the home for ~/Private, and
// under /home/.ecryptfs/USER, linked from the home, for a whole encrypted home.
func TestOfECryptfs(t *testing.T) {
	const root = "6d1c2b9e-5f3a-4c1e-9a7b-2f8e1d3c4b5a"
	fstab, err := os.ReadFile(testfixture.Dir(t) + "/trees/clean/etc/fstab")
	if err != nil {
		t.Fatal(err)
	}
	private := testfixture.Change{
		"/home/alice/.Private/ECRYPTFS_FNEK_ENCRYPTED.FWaO": "ciphertext",
		"/home/alice/.ecryptfs/Private.sig":                 "0123456789abcdef\nfedcba9876543210\n",
		"/home/alice/.ecryptfs/Private.mnt":                 "/home/alice/Private",
		"/home/alice/.ecryptfs/wrapped-passphrase":          ":\x02wrapped",
		"/home/alice/.ecryptfs/auto-mount":                  "",
		"/home/alice/Private":                               "-> /usr/share/ecryptfs-utils/ecryptfs-mount-private.txt",
	}
	whole := testfixture.Change{
		"/home/.ecryptfs/bob/.Private/ECRYPTFS_FNEK_ENCRYPTED.x": "ciphertext",
		"/home/.ecryptfs/bob/.ecryptfs/wrapped-passphrase":       ":\x02wrapped",
		"/home/.ecryptfs/bob/.ecryptfs/Private.sig":              "0123456789abcdef\n",
		"/home/bob/.ecryptfs":                                    "-> /home/.ecryptfs/bob/.ecryptfs",
		"/home/bob/.Private":                                     "-> /home/.ecryptfs/bob/.Private",
	}
	many := testfixture.Change{}
	for i := range maxECryptfsUsers + 1 {
		many[fmt.Sprintf("/home/.ecryptfs/u%d", i)] = ""
	}
	for _, c := range []struct {
		name   string
		change testfixture.Change
		want   []string // path:line of each sign, in order
		errs   string
	}{
		{"none", nil, nil, ""},
		{"ecryptfs-setup-private", private, []string{"/home/alice/.Private", "/home/alice/.ecryptfs/wrapped-passphrase", "/home/alice/.ecryptfs/Private.mnt", "/home/alice/.ecryptfs/Private.sig"}, ""},
		{"an encrypted home, each file once", whole, []string{"/home/bob/.Private", "/home/bob/.ecryptfs/wrapped-passphrase", "/home/bob/.ecryptfs/Private.sig"}, ""},
		{"an encrypted home without the links in the home", testfixture.With(whole, testfixture.Change{"/home/bob/.ecryptfs": testfixture.Remove, "/home/bob/.Private": testfixture.Remove}),
			[]string{"/home/.ecryptfs/bob/.Private", "/home/.ecryptfs/bob/.ecryptfs/wrapped-passphrase", "/home/.ecryptfs/bob/.ecryptfs/Private.sig"}, ""},
		{"another alias of mount.ecryptfs_private", testfixture.Change{"/root/.ecryptfs/Docs.sig": "0123456789abcdef\n", "/root/.ecryptfs/Docs.conf": "/root/.Docs /root/Docs ecryptfs\n"},
			[]string{"/root/.ecryptfs/Docs.sig"}, ""},
		{"a home whose name is a pattern", testfixture.Change{"/home/a[1]*/.ecryptfs/Private.sig": "0123456789abcdef\n", "/home/a1x/.ecryptfs/Private.sig": "0123456789abcdef\n"},
			[]string{"/home/a1x/.ecryptfs/Private.sig", "/home/a[1]*/.ecryptfs/Private.sig"}, ""},
		{"an fstab line", testfixture.Change{"/etc/fstab": string(fstab) + "/srv/.secret /srv/secret ecryptfs rw,ecryptfs_sig=0123456789abcdef,ecryptfs_cipher=aes 0 0\n"},
			[]string{"/etc/fstab:5"}, ""},
		{"a login account's home outside /home", testfixture.Change{"/etc/passwd": "root:x:0:0:root:/root:/bin/bash\ncarol:x:1001:1001::/srv/carol:/bin/bash\n",
			"/srv/carol/.ecryptfs/wrapped-passphrase": ":\x02wrapped"}, []string{"/srv/carol/.ecryptfs/wrapped-passphrase"}, ""},
		{"more entries in /home/.ecryptfs than are read", many, nil, "/home/.ecryptfs: more than 4096 entries"},
		{"an unreadable fstab", testfixture.Change{"/etc/fstab": strings.Repeat("#", 9<<20)}, nil, "/etc/fstab"},
	} {
		t.Run(c.name, func(t *testing.T) {
			img, err := inspect.Open(testfixture.DiskWithData(t, c.change, root, nil, nil))
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			f := Of(img)
			var got []string
			for _, s := range f.ECryptfs {
				p := s.Path
				if s.Line > 0 {
					p += fmt.Sprintf(":%d", s.Line)
				}
				if s.Detail == "" {
					t.Errorf("%s: no detail", p)
				}
				got = append(got, p)
			}
			if strings.Join(got, " ") != strings.Join(c.want, " ") {
				t.Errorf("signs %q, want %q", got, c.want)
			}
			if err := f.Err(); c.errs == "" && err != nil || c.errs != "" && (err == nil || !strings.Contains(err.Error(), c.errs)) {
				t.Errorf("problems %v, want %q", err, c.errs)
			}
		})
	}
}
