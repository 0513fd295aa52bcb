package swap

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/cloudinit"
	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
)

func read(t *testing.T, files map[string]string) *Facts {
	t.Helper()
	root := t.TempDir()
	for p, body := range files {
		h := filepath.Join(root, p)
		os.MkdirAll(filepath.Dir(h), 0o755)
		var err error
		if target, ok := strings.CutPrefix(body, "-> "); ok {
			err = os.Symlink(target, h)
		} else {
			err = os.WriteFile(h, []byte(body), 0o755)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	src := systemd.FromDir(root)
	f := Read(src, cloudinit.Read(src))
	if err := f.Err(); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestSwaponThroughUnits(t *testing.T) {
	const wants = "/etc/systemd/system/multi-user.target.wants/"
	script := "#!/bin/sh\nswapon -a # turn it on\n"
	f := read(t, map[string]string{
		// a vendor unit running a vendor program: not opened
		"/usr/lib/systemd/system/vendor.service": "[Service]\nExecStart=/usr/sbin/vendor-helper\n",
		"/usr/sbin/vendor-helper":                script,
		wants + "vendor.service":                 "-> /usr/lib/systemd/system/vendor.service",
		// dphys-swapfile's verb
		"/lib/systemd/system/dphys-swapfile.service": "[Service]\nExecStart=/sbin/dphys-swapfile setup\nExecStart=/sbin/dphys-swapfile swapon\n",
		wants + "dphys-swapfile.service":             "-> /lib/systemd/system/dphys-swapfile.service",
		// the builder's unit running a vendor-path script: opened
		"/etc/systemd/system/mine.service": "[Service]\nExecStart=/usr/sbin/vendor-helper\n",
		wants + "mine.service":             "-> ../mine.service",
		// an instance through its template, pulled in by a target a wants directory starts
		"/etc/systemd/system/swap-on@.service": "[Service]\nExecStart=/sbin/swapon %i\n",
		"/etc/systemd/system/extra.target":     "[Unit]\nWants=swap-on@swapfile.service\n",
		wants + "extra.target":                 "-> ../extra.target",
		// masked: never started
		"/usr/lib/systemd/system/swapfile.swap":                   "[Swap]\nWhat=/swapfile\n",
		"/usr/lib/systemd/system/swap.target.wants/swapfile.swap": "-> ../swapfile.swap",
		"/etc/systemd/system/swapfile.swap":                       "-> /dev/null",
	})
	got := map[string]bool{}
	for _, s := range f.Swapons {
		got[s.Unit] = true
	}
	for unit, want := range map[string]bool{"vendor.service": false, "dphys-swapfile.service": true, "mine.service": true, "swap-on@swapfile.service": true} {
		if got[unit] != want {
			t.Errorf("%s: swapon found %v, want %v (%+v)", unit, got[unit], want, f.Swapons)
		}
	}
	if len(f.Links) != 0 {
		t.Errorf("a masked .swap unit is reported: %+v", f.Links)
	}
}

// A script too large to read is a problem, not a pass: whether it runs swapon is unknown.
func TestSwaponScriptOverBoundIsAProblem(t *testing.T) {
	root := t.TempDir()
	for p, body := range map[string]string{
		"/etc/systemd/system/big.service":                         "[Service]\nExecStart=/opt/big.sh\n",
		"/etc/systemd/system/multi-user.target.wants/big.service": "",
		"/opt/big.sh": "#!/bin/sh\n" + strings.Repeat("# padding\n", maxScript/10+1),
	} {
		h := filepath.Join(root, p)
		os.MkdirAll(filepath.Dir(h), 0o755)
		os.WriteFile(h, []byte(body), 0o755)
	}
	src := systemd.FromDir(root)
	if f := Read(src, cloudinit.Read(src)); f.Err() == nil || !strings.Contains(f.Err().Error(), "/opt/big.sh") {
		t.Errorf("a script over the bound: %v", f.Err())
	}
}
