package lifecycle

import (
	"strings"
	"testing"
)

func TestLookup(t *testing.T) {
	for _, c := range []struct{ id, v, name string }{
		{"debian", "12", "Debian 12 (bookworm)"}, {"debian", "12.7", "Debian 12 (bookworm)"},
		{"ubuntu", "22.04", "Ubuntu 22.04 LTS"}, {"alpine", "3.20.3", "Alpine 3.20"},
		{"rhel", "9.4", "Red Hat Enterprise Linux 9"}, {"amzn", "2023", "Amazon Linux 2023"},
	} {
		if r, ok := Linux(c.id, c.v); !ok || r.Name != c.name {
			t.Errorf("%s %s: %+v %v", c.id, c.v, r, ok)
		}
	}
	if _, ok := Linux("ubuntu", "22.10"); ok {
		t.Error("a release not in the table was found")
	}
	if r, ok := WindowsServer(20348); !ok || r.Name != "Windows Server 2022" {
		t.Errorf("20348: %+v", r)
	}
}

func TestEveryDateHasASource(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Releases {
		if r.End.IsZero() || !strings.HasPrefix(r.Source, "https://") || r.Name == "" || r.Support == "" {
			t.Errorf("%+v", r)
		}
		if seen[r.OS+" "+r.Version] {
			t.Errorf("%s %s twice", r.OS, r.Version)
		}
		seen[r.OS+" "+r.Version] = true
	}
}
