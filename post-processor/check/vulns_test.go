package check

import (
	"strings"
	"testing"
	"time"
)

// TestVulnerabilityOptions: the HCL options reach the plan, and a bad one fails at configure
// (packer validate) naming the option.
func TestVulnerabilityOptions(t *testing.T) {
	var p PostProcessor
	err := p.Configure(map[string]interface{}{"vulnerability_db": "https://mirror.example.com/Debian/all.zip",
		"vulnerability_db_max_age": "72h", "vulnerability_fail_on": "high", "vulnerability_scan": true})
	if err != nil {
		t.Fatal(err)
	}
	v := p.plan.Vulnerabilities()
	if v.DB != "https://mirror.example.com/Debian/all.zip" || v.MaxAge != 72*time.Hour || v.FailOn.String() != "high" || v.Off {
		t.Errorf("%+v", v)
	}
	p = PostProcessor{}
	if err := p.Configure(map[string]interface{}{"vulnerability_scan": false}); err != nil || !p.plan.Vulnerabilities().Off {
		t.Errorf("vulnerability_scan = false: %v %+v", err, p.plan.Vulnerabilities())
	}
	for raw, want := range map[string]map[string]interface{}{
		"vulnerability_fail_on": {"vulnerability_fail_on": "severe"},
		"vulnerability_db":      {"vulnerability_db": "http://mirror.example.com/all.zip"},
	} {
		p = PostProcessor{}
		if err := p.Configure(want); err == nil || !strings.Contains(err.Error(), raw) {
			t.Errorf("%v: %v", want, err)
		}
	}
}
