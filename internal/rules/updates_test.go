package rules

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/advisories"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

func finding(id string, lvl advisories.Level) advisories.Finding {
	return advisories.Finding{Advisory: id, Aliases: []string{"CVE-2026-0001"}, Source: "openssl", Packages: []string{"libssl3", "openssl"},
		Installed: "3.0.11-1", Fixed: "3.0.15-1", Severity: lvl, SeverityFrom: "CVSS:3.1 base 7.5"}
}

func vulns(fixable, unfixed []advisories.Finding, failOn advisories.Level) *Vulnerabilities {
	return &Vulnerabilities{FailOn: failOn, Database: "/var/lib/dpkg/status", Result: &advisories.Result{
		Release: "Debian:12", Fixable: fixable, Unfixed: unfixed, Sources: 40,
		Data: advisories.Data{Source: "https://osv-vulnerabilities.storage.googleapis.com/Debian/all.zip", Date: time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC), Records: 7}}}
}

func TestJudgeAdvisories(t *testing.T) {
	high, low, unknown := finding("DSA-1-1", advisories.High), finding("DSA-2-1", advisories.Low), finding("DSA-3-1", advisories.Unknown)
	for _, c := range []struct {
		name string
		v    *Vulnerabilities
		want Status
		in   []string
	}{
		{"fixable fails", vulns([]advisories.Finding{high}, nil, advisories.Unknown), Fail, []string{"DSA-1-1 openssl", "Debian:12", "2026-12-03", "fixed in 3.0.15-1"}},
		{"nothing fixable passes", vulns(nil, nil, advisories.Unknown), Pass, []string{"40 installed source packages"}},
		{"unfixed counted, not failed", vulns(nil, []advisories.Finding{high}, advisories.Unknown), Pass, []string{"1 with no fix published yet"}},
		{"below the threshold warns", vulns([]advisories.Finding{low}, nil, advisories.High), Warn, []string{"below vulnerability_fail_on (high)"}},
		{"at the threshold fails", vulns([]advisories.Finding{high}, nil, advisories.High), Fail, nil},
		{"unknown severity fails whatever the threshold", vulns([]advisories.Finding{unknown}, nil, advisories.Critical), Fail, nil},
		{"unevaluated records error", &Vulnerabilities{Result: &advisories.Result{Release: "Debian:12", Fixable: []advisories.Finding{high}, Unevaluated: []string{"DSA-9-1 (zlib 1.2): fixed version \"x\" invalid"}}}, Error, []string{"could not be placed"}},
	} {
		r := judgeAdvisories(c.v)
		text := r.Message
		for _, e := range r.Evidence {
			text += "\n" + e.Detail
		}
		if r.Status != c.want {
			t.Errorf("%s: %s, want %s: %s", c.name, r.Status, c.want, text)
		}
		for _, s := range c.in {
			if !strings.Contains(text, s) {
				t.Errorf("%s: %q not in %s", c.name, s, text)
			}
		}
	}
}

func TestSecurityUpdatesFailsClosed(t *testing.T) {
	r, _ := ByID("security-updates-installed")
	img, err := inspect.Open(testfixture.Variant(t, testfixture.Change{}))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	for _, c := range []struct {
		v    *Vulnerabilities
		want Status
		in   string
	}{
		{nil, Error, "not loaded"},
		{&Vulnerabilities{Err: errors.New("vulnerability_db /x: no such file")}, Error, "vulnerability_db"},
		{&Vulnerabilities{Off: true}, NotApplicable, "turned off"},
	} {
		res := r.Run(&Context{Image: img, Vulnerabilities: c.v})
		if res.Status != c.want || !strings.Contains(res.Message, c.in) {
			t.Errorf("%+v: %s %q", c.v, res.Status, res.Message)
		}
	}
}
