package profile

import (
	"slices"
	"strings"
	"testing"
)

func TestClosest(t *testing.T) {
	ids := []string{"firewall-disabled", "no-ssh-keys", "no-ssh-host-keys", "windows-firewall", "empty-tmp", "no-swap"}
	for name, want := range map[string][]string{
		"firewal-disabled":        {"firewall-disabled"},
		"FIREWALL-DISABLED":       {"firewall-disabled"},
		"no-ssh-key":              {"no-ssh-keys"},
		"no-ssh-hostkeys":         {"no-ssh-host-keys"},
		"no-swp":                  {"no-swap"},
		"firewall":                {"firewall-disabled"}, // a prefix
		"xyzzy":                   nil,
		"":                        nil,
		"empty-tmp-dirs":          {"empty-tmp"}, // an extension
		"no-sap":                  {"no-swap"},   // distance 1 at the limit of 6/3 = 2
		"nx-sxp":                  nil,           // distance 3 > 2
		strings.Repeat("a", 1000): nil,
	} {
		if got := Closest(name, ids); !slices.Equal(got, want) {
			t.Errorf("Closest(%q) = %q, want %q", name, got, want)
		}
	}
	if got := Closest("no-ssh-keyz", ids); !slices.Equal(got, []string{"no-ssh-keys"}) {
		t.Errorf("%q", got)
	}
	if d := distance("kitten", "sitting"); d != 3 {
		t.Errorf("distance = %d", d)
	}
	if _, _, err := ForGuest("azure-windos", ""); err == nil || !strings.Contains(err.Error(), `did you mean "azure-windows"?`) {
		t.Errorf("ForGuest: %v", err)
	}
}

func FuzzClosest(f *testing.F) {
	f.Add("firewal-disabled")
	f.Add("")
	f.Add("\xff\xfe")
	f.Fuzz(func(t *testing.T, name string) {
		for _, c := range Closest(name, Names()) {
			if !slices.Contains(Names(), c) {
				t.Fatalf("%q not a name", c)
			}
		}
	})
}
