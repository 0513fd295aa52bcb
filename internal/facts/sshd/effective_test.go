package sshd

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
)

// Values sshd can never use are not listed: a second value in a block of the same criteria, and
// any Match value after a "Match all" value; a value inside Match is listed with its line.
func TestEffectiveShadowedMatchValues(t *testing.T) {
	root := t.TempDir()
	conf := "PasswordAuthentication no\n" +
		"Match User deploy\n  PasswordAuthentication yes\n" + // line 3: deploy gets yes
		"Match User deploy\n  PasswordAuthentication no\n" + // line 5: shadowed by line 3
		"Match all\n  PermitRootLogin no\n" + // line 7: every connection
		"Match User root\n  PermitRootLogin yes\n" // line 9: shadowed by line 7
	p := filepath.Join(root, "etc/ssh/sshd_config")
	os.MkdirAll(filepath.Dir(p), 0o755)
	os.WriteFile(p, []byte(conf), 0o644)
	c := Read(systemd.FromDir(root)).Configs[0]
	pa := c.Effective(PasswordAuthentication, "yes", nil)
	if pa.Global.Value != "no" || len(pa.Match) != 1 || pa.Match[0].Value != "yes" || pa.Match[0].Directive.Line != 3 {
		t.Errorf("PasswordAuthentication: %+v", pa)
	}
	pr := c.Effective(PermitRootLogin, "prohibit-password", nil)
	if pr.Global.Value != "no" || pr.Global.Directive.Line != 7 || len(pr.Match) != 0 {
		t.Errorf("PermitRootLogin: %+v", pr)
	}
	// a block that cannot select root is left out when the caller asks for root
	if e := c.Effective(PasswordAuthentication, "yes", func(m string) bool { return CanSelectUser(m, "root") }); len(e.Match) != 0 {
		t.Errorf("Match User deploy selects root: %+v", e.Match)
	}
}

func FuzzCanSelectUser(f *testing.F) {
	f.Add("User r*,!rx Address 1.2.3.4", "root")
	f.Add("User *?*?*?*?*?*?*?*?*?*?x", "rootrootrootrootrootroot")
	f.Fuzz(func(t *testing.T, match, user string) {
		got := CanSelectUser(match, user)
		// a block without a User criterion can select any user
		if !strings.Contains(strings.ToLower(match), "user") && !got {
			t.Errorf("CanSelectUser(%q, %q) = false without a User criterion", match, user)
		}
		// matchPattern against a regular expression of the same pattern (ASCII: '?' is one byte)
		for _, p := range strings.Split(strings.TrimPrefix(match, "User "), ",") {
			if !ascii(p) || !ascii(user) {
				continue
			}
			re := "(?s)^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(p)) + "$"
			if want := regexp.MustCompile(re).MatchString(user); matchPattern(user, p) != want {
				t.Errorf("matchPattern(%q, %q) = %v, the regular expression %s says %v", user, p, !want, re, want)
			}
		}
	})
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
