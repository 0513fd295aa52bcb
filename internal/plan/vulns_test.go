package plan

import (
	"strings"
	"testing"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/advisories"
	"github.com/marketready/packer-plugin-marketplace/internal/osvdata"
)

func TestVulnerabilityChoices(t *testing.T) {
	p, err := New(Choices{Vulnerabilities: VulnChoices{DB: "https://mirror.example.com/Debian/all.zip?sig=x", FailOn: "HIGH", MaxAge: 48 * time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	v := p.Vulnerabilities()
	if v.FailOn != advisories.High || v.MaxAge != 48*time.Hour || v.Off {
		t.Errorf("%+v", v)
	}
	if d := MustNew(Choices{}).Vulnerabilities(); d.MaxAge != osvdata.DefaultMaxAge || d.FailOn != advisories.Unknown || d.DB != "" {
		t.Errorf("defaults %+v", d)
	}
	for _, c := range []struct {
		v     VulnChoices
		flags bool
		want  string
	}{
		{VulnChoices{DB: "http://mirror.example.com/all.zip"}, false, "vulnerability_db: "},
		{VulnChoices{DB: "http://mirror.example.com/all.zip"}, true, "--vulnerability-db: "},
		{VulnChoices{DB: "ftp://x/all.zip"}, false, "vulnerability_db"},
		{VulnChoices{FailOn: "severe"}, false, "vulnerability_fail_on: "},
		{VulnChoices{MaxAge: -time.Hour}, true, "--vulnerability-db-max-age must be positive"},
	} {
		_, err := New(Choices{Vulnerabilities: c.v, Flags: c.flags})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.v, err, c.want)
		}
	}
	if _, err := New(Choices{Vulnerabilities: VulnChoices{DB: "http://127.0.0.1:8080/all.zip"}}); err != nil {
		t.Errorf("loopback http: %v", err)
	}
}
