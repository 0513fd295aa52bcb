package profile_test

import (
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/profile"
)

func TestForGuest(t *testing.T) {
	cases := []struct {
		name, os, want, note, err string
	}{
		{"azure-linux", "", "azure-linux", "", ""},
		{"azure-windows", "windows", "azure-windows", "", ""},
		{"alibaba", "linux", "alibaba", "", ""},
		{"azure", "", "azure-linux", `write "azure-linux"`, ""},
		{"azure", "windows", "azure-windows", `write "azure-windows"`, ""},
		{"alibaba", "windows", "alibaba-windows", `write "alibaba-windows"`, ""},
		{"azure-windows", "linux", "", "", "for windows guests, but the guest is linux"},
		{"aws", "windows", "aws-windows", `for this windows guest "aws-windows" is used`, ""},
		{"aws", "linux", "aws", "", ""},
		{"digitalocean", "windows", "", "", "for linux guests, but the guest is windows"},
		{"gcp", "", "", "", `unknown profile "gcp"`},
	}
	for _, c := range cases {
		p, note, err := profile.ForGuest(c.name, c.os)
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s on %q: err %v, want %q", c.name, c.os, err, c.err)
			}
		case err != nil || p.Name != c.want || (c.note == "") != (note == "") || !strings.Contains(note, c.note):
			t.Errorf("%s on %q: %+v, note %q, err %v; want %s, note %q", c.name, c.os, p, note, err, c.want, c.note)
		}
	}
}
