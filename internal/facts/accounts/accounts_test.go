package accounts

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
)

func TestAccountsAndHomes(t *testing.T) {
	root := t.TempDir()
	for p, body := range map[string]string{
		"/etc/passwd":                "root:x:0:0:root:/root:/bin/bash\nsvc:x:998:998::/var/lib/svc:/bin/bash\ndaemon:x:1:1::/usr/sbin:/usr/sbin/nologin\ntoor::0:0\n",
		"/etc/shadow":                "root:*:1::\nsvc:$6$s$h:1::\n",
		"/etc/sudoers":               "Defaults env_reset\n@includedir /etc/sudoers.d\n",
		"/etc/sudoers.d/90-x":        "Defaults targetpw\n",
		"/var/lib/svc/.keep":         "",
		"/home/alice/.bash_history":  "",
		"/root/.profile":             "",
		"/usr/sbin/not-a-home-check": "",
	} {
		h := filepath.Join(root, p)
		os.MkdirAll(filepath.Dir(h), 0o755)
		os.WriteFile(h, []byte(body), 0o644)
	}
	src := systemd.FromDir(root)
	f := Read(src)
	if f.PasswdErr != nil || f.ShadowErr != nil || len(f.Passwd) != 4 || len(f.Shadow) != 2 || !f.PasswdExists || !f.ShadowExists {
		t.Fatalf("%+v", f)
	}
	if f.Passwd[3].Name != "toor" || f.Passwd[3].UID != 0 {
		t.Errorf("toor::0:0 read as %+v", f.Passwd[3])
	}
	homes, err := f.Homes(func(p string) (os.FileInfo, error) {
		fi, err := os.Stat(filepath.Join(root, p))
		if os.IsNotExist(err) {
			return nil, nil
		}
		return fi, err
	}, func(p string) ([]os.DirEntry, error) { return src.ReadDir(p) })
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, h := range homes {
		dirs = append(dirs, h.User+":"+h.Dir)
	}
	// the UID 998 account with a shell counts; daemon (nologin) does not
	if got := strings.Join(dirs, " "); got != "alice:/home/alice root:/root svc:/var/lib/svc" {
		t.Errorf("homes %s", got)
	}
	sf, err := Sudoers(src)
	if err != nil || len(sf) != 2 || sf[1].Path != "/etc/sudoers.d/90-x" || sf[1].Lines[0] != "Defaults targetpw" {
		t.Errorf("sudoers %+v %v", sf, err)
	}
}
