package advisories

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/osv"
	"github.com/marketready/packer-plugin-marketplace/internal/pkgdb"
	"github.com/marketready/packer-plugin-marketplace/internal/pkgver"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

func TestReleaseOf(t *testing.T) {
	for _, c := range []struct {
		id, v, name, dump string
		scheme            pkgver.Scheme
	}{
		{"debian", "12", "Debian:12", "Debian", pkgver.SchemeDebian},
		{"ubuntu", "22.04", "Ubuntu:22.04:LTS", "Ubuntu", pkgver.SchemeDebian},
		{"ubuntu", "23.04", "Ubuntu:23.04", "Ubuntu", pkgver.SchemeDebian},
		{"ubuntu", "24.10", "Ubuntu:24.10", "Ubuntu", pkgver.SchemeDebian},
		{"alpine", "3.20.3", "Alpine:v3.20", "Alpine", pkgver.SchemeAlpine},
		{"rocky", "9.4", "Rocky Linux:9", "Rocky Linux", pkgver.SchemeRPM},
		{"almalinux", "8.10", "AlmaLinux:8", "AlmaLinux", pkgver.SchemeRPM},
		{"azurelinux", "3.0", "Azure Linux:3.0", "Azure Linux", pkgver.SchemeRPM},
		{"rhel", "9.4", "Red Hat:enterprise_linux:9", "Red Hat", pkgver.SchemeRPM},
		{"sles", "15.5", "SUSE:Linux Enterprise Server 15 SP5", "SUSE", pkgver.SchemeRPM},
		{"sles", "15", "SUSE:Linux Enterprise Server 15", "SUSE", pkgver.SchemeRPM},
		{"opensuse-leap", "15.5", "openSUSE:Leap 15.5", "openSUSE", pkgver.SchemeRPM},
	} {
		r, err := ReleaseOf(c.id, c.v)
		if err != nil || r.Name != c.name || r.Dump != c.dump || r.Scheme != c.scheme {
			t.Errorf("%s %s: %+v %v", c.id, c.v, r, err)
		}
	}
	for _, c := range [][2]string{{"debian", ""}, {"gentoo", "2.15"}, {"alpine", "3"}} {
		if r, err := ReleaseOf(c[0], c[1]); err == nil {
			t.Errorf("%v: %+v, want an error", c, r)
		}
	}
	if u := BucketURL("Rocky Linux"); u != "https://osv-vulnerabilities.storage.googleapis.com/Rocky%20Linux/all.zip" {
		t.Errorf("bucket URL %s", u)
	}
}

// TestCVSS3: base scores of well-known vectors (FIRST's calculator gives the same).
func TestCVSS3(t *testing.T) {
	for v, want := range map[string]float64{
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H": 9.8,
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N": 7.5,
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H": 10.0,
		"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H": 7.8,
		"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:N/A:N": 3.7,
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N": 6.1,
		"CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N": 6.4,
		"CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:L": 1.6,
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N": 0,
	} {
		got, err := CVSS3(v)
		if err != nil || got != want {
			t.Errorf("CVSS3(%s) = %v, %v; want %v", v, got, err, want)
		}
	}
	for _, v := range []string{"CVSS:2.0/AV:N", "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:Q/C:H/I:H/A:H"} {
		if _, err := CVSS3(v); err == nil {
			t.Errorf("CVSS3(%s) accepted", v)
		}
	}
	for s, want := range map[float64]Level{9.0: Critical, 8.9: High, 7.0: High, 6.9: Medium, 4.0: Medium, 3.9: Low, 0.1: Low, 0: Unknown} {
		if got := cvssLevel(s); got != want {
			t.Errorf("cvssLevel(%v) = %v, want %v", s, got, want)
		}
	}
}

func dbOf(t *testing.T, f osv.Filter, records ...string) *osv.DB {
	dump := testfixture.OSVDump(records...)
	db, err := osv.ReadZip("all.zip", bytes.NewReader(dump), int64(len(dump)), f)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestMatch(t *testing.T) {
	rel, _ := ReleaseOf("debian", "12")
	db := dbOf(t, rel.Filter,
		// fixed above the installed openssl: fixable, CVSS high
		`{"id": "DSA-5532-1", "modified": "2026-11-01T00:00:00Z", "aliases": ["CVE-2023-5678"], "upstream": ["DEBIAN-CVE-2023-5363"],
		  "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}],
		  "affected": [{"package": {"ecosystem": "Debian:12", "name": "openssl"},
		   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.15-1~deb12u1"}]}]}]}`,
		// already fixed: not a finding
		`{"id": "DSA-5000-1", "modified": "2026-01-01T00:00:00Z",
		  "affected": [{"package": {"ecosystem": "Debian:12", "name": "openssl"},
		   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.9-1"}]}]}]}`,
		// no fix yet: counted, not fixable
		`{"id": "DEBIAN-CVE-2026-1", "modified": "2026-01-01T00:00:00Z",
		  "affected": [{"package": {"ecosystem": "Debian:12", "name": "bash"},
		   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]}`,
		// another release: ignored
		`{"id": "DLA-1-1", "modified": "2026-01-01T00:00:00Z",
		  "affected": [{"package": {"ecosystem": "Debian:11", "name": "bash"},
		   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "9.9"}]}]}]}`,
		// a binNMU: the source version (12.2.0-14) is compared, not the binary's
		`{"id": "DSA-9-1", "modified": "2026-01-01T00:00:00Z",
		  "affected": [{"package": {"ecosystem": "Debian:12", "name": "gcc-12"},
		   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "12.2.0-14+deb12u1"}]}]}]}`,
	)
	inv := &pkgdb.Inventory{Manager: "dpkg", Packages: []pkgdb.Package{
		{Name: "libssl3", Version: "3.0.11-1~deb12u2", Source: "openssl"},
		{Name: "openssl", Version: "3.0.11-1~deb12u2"},
		{Name: "bash", Version: "5.2.15-2+b7", Source: "bash", SourceVersion: "5.2.15-2"},
		{Name: "libgcc-s1", Version: "12.2.0-14+b1", Source: "gcc-12", SourceVersion: "12.2.0-14"},
	}}
	res := Match(inv, rel, db)
	if len(res.Fixable) != 2 || len(res.Unfixed) != 1 || len(res.Unevaluated) != 0 || res.Sources != 3 {
		t.Fatalf("%+v", res)
	}
	f := res.Fixable[1]
	if f.Advisory != "DSA-5532-1" || f.Source != "openssl" || f.Fixed != "3.0.15-1~deb12u1" || f.Installed != "3.0.11-1~deb12u2" ||
		len(f.Packages) != 2 || f.Severity != High || f.SeverityFrom != "CVSS:3.1 base 7.5" {
		t.Errorf("openssl finding %+v", f)
	}
	if got := fmt.Sprint(f.Aliases); got != "[CVE-2023-5363 CVE-2023-5678]" {
		t.Errorf("aliases %s", got)
	}
	if g := res.Fixable[0]; g.Advisory != "DSA-9-1" || g.Installed != "12.2.0-14" {
		t.Errorf("binNMU finding %+v", g)
	}
	if u := res.Unfixed[0]; u.Advisory != "DEBIAN-CVE-2026-1" || u.Fixed != "" {
		t.Errorf("unfixed %+v", u)
	}
	if !res.Fixable[1].Below(Critical) || res.Fixable[1].Below(High) || res.Unfixed[0].Below(Critical) {
		t.Error("Below: high is below critical and not below high; unknown is never below")
	}
}

func TestMatchUnevaluated(t *testing.T) {
	rel, _ := ReleaseOf("debian", "12")
	db := dbOf(t, rel.Filter, `{"id": "DSA-7-1", "modified": "2026-01-01T00:00:00Z",
	  "affected": [{"package": {"ecosystem": "Debian:12", "name": "zlib"},
	   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "not-a-version"}]}]}]}`)
	inv := &pkgdb.Inventory{Packages: []pkgdb.Package{{Name: "zlib1g", Version: "1:1.2.13.dfsg-1", Source: "zlib"}}}
	res := Match(inv, rel, db)
	if len(res.Unevaluated) != 1 || len(res.Fixable) != 0 {
		t.Fatalf("%+v", res)
	}
}

func TestSeverityFromDatabases(t *testing.T) {
	for _, c := range []struct {
		rec  string
		want Level
	}{
		{`{"id":"A","database_specific":{"severity":"Important"},"affected":[{"package":{"ecosystem":"AlmaLinux:9","name":"x"}}]}`, High},
		{`{"id":"A","affected":[{"package":{"ecosystem":"Ubuntu:22.04:LTS","name":"x"},"database_specific":{"cves_map":{"cves":[{"severity":[{"type":"Ubuntu","score":"medium"},{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]}]}}}]}`, Critical},
		{`{"id":"A","severity":[{"type":"Ubuntu","score":"negligible"}],"affected":[{"package":{"ecosystem":"Ubuntu:22.04:LTS","name":"x"}}]}`, Low},
		{`{"id":"A","affected":[{"package":{"ecosystem":"Debian:12","name":"x"},"ecosystem_specific":{"urgency":"not yet assigned"}}]}`, Unknown},
	} {
		r, err := osv.Parse("r.json", []byte(c.rec))
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := Severity(r, r.Affected[0]); got != c.want {
			t.Errorf("%s: %v, want %v", c.rec, got, c.want)
		}
	}
}

// TestMatchByBinaryName: a database that names binary packages (as some RPM ones do) is
// matched by the installed binary and its own version.
func TestMatchByBinaryName(t *testing.T) {
	rel, _ := ReleaseOf("rocky", "9.4")
	db := dbOf(t, rel.Filter, `{"id": "RLSA-2026:1", "modified": "2026-01-01T00:00:00Z",
	  "affected": [{"package": {"ecosystem": "Rocky Linux:9", "name": "openssl-libs"},
	   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:3.0.7-28.el9"}]}]}]}`)
	inv := &pkgdb.Inventory{Manager: "rpm", Packages: []pkgdb.Package{
		{Name: "openssl-libs", Version: "1:3.0.7-27.el9", Source: "openssl"},
		{Name: "openssl", Version: "1:3.0.7-29.el9"},
	}}
	res := Match(inv, rel, db)
	if len(res.Fixable) != 1 || res.Fixable[0].Source != "openssl-libs" || res.Fixable[0].Installed != "1:3.0.7-27.el9" {
		t.Fatalf("%+v", res)
	}
}
