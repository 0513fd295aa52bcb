package rules_test

import (
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/profile"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
)

// The profile data and the catalogue agree: every check names a registered rule, once per
// profile, and every rule is judged by some profile.
func TestProfilesNameRegisteredRules(t *testing.T) {
	judged := map[string]bool{}
	for _, p := range profile.All() {
		seen := map[string]bool{}
		for _, c := range p.Checks {
			if _, ok := rules.ByID(c.Rule); !ok {
				t.Errorf("profile %s names rule %q, which is not registered", p.Name, c.Rule)
			}
			if seen[c.Rule] {
				t.Errorf("profile %s names rule %q twice", p.Name, c.Rule)
			}
			seen[c.Rule] = true
			judged[c.Rule] = true
		}
		if p.Title == "" || p.Marketplace == "" || p.OS == "" {
			t.Errorf("profile %s lacks its title, marketplace or OS", p.Name)
		}
	}
	for _, r := range rules.All() {
		if !judged[r.ID] {
			t.Errorf("rule %s is in no profile", r.ID)
		}
	}
}

// ForProfiles refuses what would judge less than it says: an unknown profile, and a profile
// whose data names no rule at all.
func TestForProfilesRefusesWhatJudgesNothing(t *testing.T) {
	if _, err := rules.ForProfiles([]string{"gcp"}); err == nil || !strings.Contains(err.Error(), `unknown profile "gcp"`) {
		t.Errorf("unknown profile: %v", err)
	}
	for _, p := range profile.All() {
		_, err := rules.ForProfiles([]string{p.Name})
		if len(p.Checks) == 0 && (err == nil || !strings.Contains(err.Error(), "judges no rule")) {
			t.Errorf("profile %s has no checks, yet ForProfiles gave %v", p.Name, err)
		}
	}
	rs, err := rules.ForProfiles([]string{profile.Alibaba})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := profile.Lookup(profile.Alibaba)
	if len(rs) != len(want.Checks) {
		t.Errorf("alibaba: %d rules for %d checks", len(rs), len(want.Checks))
	}
}

func TestChecksOfAndAdvisory(t *testing.T) {
	checks := rules.ChecksOf("first-nic-dhcp", []string{profile.AzureLinux, profile.Alibaba, "gcp"})
	if len(checks) != 2 || checks[0].Profile != profile.AzureLinux || checks[1].Profile != profile.Alibaba || checks[1].ID != "GUESTOS.Dhcp" {
		t.Fatalf("ChecksOf = %+v", checks)
	}
	if rules.Advisory(checks) {
		t.Error("two required checks are not advisory")
	}
	if rules.Advisory(nil) {
		t.Error("no checks is not advisory")
	}
	adv := []rules.ProfileCheck{{Profile: "a", Check: profile.Check{Level: profile.Advisory}}}
	if !rules.Advisory(adv) {
		t.Error("one advisory check is advisory")
	}
	if rules.Advisory(append(adv, rules.ProfileCheck{Profile: "b", Check: profile.Check{Level: profile.Required}})) {
		t.Error("an advisory and a required check: the required one decides")
	}
}
