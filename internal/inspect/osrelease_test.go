package inspect_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/sysconf"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// os-release is read as os-release(5) says (/etc/os-release, else /usr/lib/os-release), and a
// line over 64 KiB is an error naming the file and line, with every field empty: never a cut
// line whose tail becomes a second assignment.
func TestOSReleaseReadOrRefused(t *testing.T) {
	open := func(c testfixture.Change) inspect.OSRelease {
		t.Helper()
		img, err := inspect.Open(testfixture.Variant(t, c))
		if err != nil {
			t.Fatal(err)
		}
		defer img.Close()
		return img.OSRelease()
	}
	if o := open(nil); o.Err != nil || o.ID != "debian" || o.Path != "/etc/os-release" {
		t.Errorf("the fixture's os-release: %+v", o)
	}
	o := open(testfixture.Change{"/etc/os-release": testfixture.Remove, "/usr/lib/os-release": "ID=fedora\nVERSION_ID=39\n"})
	if o.Err != nil || o.ID != "fedora" || o.VersionID != "39" || o.Path != "/usr/lib/os-release" {
		t.Errorf("only /usr/lib/os-release: %+v", o)
	}
	// a cut line would end in "ID=ubuntu" as a line of its own
	long := "PRETTY_NAME=\"" + strings.Repeat("x", 64<<10) + "ID=ubuntu\"\nID=debian\nVERSION_ID=12\n"
	o = open(testfixture.Change{"/etc/os-release": long})
	var tooLong *sysconf.LineTooLongError
	if !errors.As(o.Err, &tooLong) || tooLong.Line != 1 || !strings.Contains(o.Err.Error(), "/etc/os-release line 1") || o.ID != "" || o.VersionID != "" {
		t.Errorf("a line over 64 KiB: %+v", o)
	}
	if o := open(testfixture.Change{"/etc/os-release": testfixture.Remove}); o.Err != nil || o.ID != "" || o.Path != "" {
		t.Errorf("no os-release: %+v", o)
	}
}
