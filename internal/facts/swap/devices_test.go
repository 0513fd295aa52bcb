package swap

import (
	"slices"
	"testing"
)

// A .swap unit's name is the path it turns on, escaped as systemd escapes it; a name that is
// no escaped path names nothing.
func TestUnitPath(t *testing.T) {
	for unit, want := range map[string]string{
		`dev-mapper-vg0\x2dswap.swap`:          "/dev/mapper/vg0-swap",
		`dev-mapper-my\x2d\x2dvg\x2dswap.swap`: "/dev/mapper/my--vg-swap",
		`dev-vg0-swap.swap`:                    "/dev/vg0/swap",
		`swapfile.swap`:                        "/swapfile",
		`var-lib-swap\x5cfile.swap`:            `/var/lib/swap\file`,
		`-.swap`:                               "/",
		`dev-vg0-swap.service`:                 "",
		`dev--vg0.swap`:                        "",
		`dev-vg0-.swap`:                        "",
		`dev-\x2.swap`:                         "",
		`dev-\xzz.swap`:                        "",
		`dev-\y2d.swap`:                        "",
	} {
		got, ok := UnitPath(unit)
		if got != want || ok != (want != "") {
			t.Errorf("UnitPath(%q) = %q, %v; want %q", unit, got, ok, want)
		}
	}
}

// swapon's device arguments: positional words, -L/-U as LABEL=/UUID=, the values of -p, -o
// and -T skipped.
func TestSwaponDevices(t *testing.T) {
	for _, c := range []struct {
		argv []string
		want []string
	}{
		{[]string{"swapon", "-a"}, nil},
		{[]string{"swapon", "/dev/vg0/swap"}, []string{"/dev/vg0/swap"}},
		{[]string{"swapon", "-p", "5", "/dev/vg0/swap"}, []string{"/dev/vg0/swap"}},
		{[]string{"swapon", "-o", "pri=5", "-d", "/swapfile", "/dev/sdb1"}, []string{"/swapfile", "/dev/sdb1"}},
		{[]string{"swapon", "-L", "swap", "-Uabc"}, []string{"LABEL=swap", "UUID=abc"}},
		{[]string{"swapon", "--", "-odd"}, []string{"-odd"}},
	} {
		if got := swaponDevices(c.argv); !slices.Equal(got, c.want) {
			t.Errorf("swaponDevices(%q) = %q, want %q", c.argv, got, c.want)
		}
	}
}
