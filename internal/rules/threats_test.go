package rules

import "testing"

// The certification FAQ's approved kernels, and what lies around them.
func TestSACKVerdict(t *testing.T) {
	for _, tc := range []struct {
		kernel string
		want   Status
	}{
		{"6.1.0-50-amd64", Pass},             // Debian 12
		{"5.15.0-1057-azure", Pass},          // Ubuntu 22.04
		{"4.19.52", Pass},                    // upstream stable with the fix
		{"4.19.51", Warn},                    // upstream stable without it, not in the table
		{"4.15.0-1049-azure", Pass},          // the approved Ubuntu release
		{"4.15.0-1048-azure", Fail},          // one below it
		{"4.15.0-1100-azure", Pass},          // later than every approved release
		{"3.10.0-957.21.3.el7.x86_64", Pass}, // RHEL 7.6 approved
		{"3.10.0-957.12.1.el7.x86_64", Fail}, // RHEL 7.6 before the fix
		{"3.10.0-1160.el7.x86_64", Pass},     // RHEL 7.9
		{"3.10.0-229.el7.x86_64", Fail},      // RHEL 7.1, older than every approved release
		{"3.10.0-600.el7.x86_64", Warn},      // between two approved lines
		{"4.9.168-1+deb9u3", Pass},           // Debian stretch's package version
		{"4.9.168-1+deb9u2", Fail},           // the one before
		{"4.18.0-80.4.2.el8_0.x86_64", Pass}, // RHEL 8.0 approved
		{"4.18.0-80.el8.x86_64", Fail},       // RHEL 8.0 GA
		{"3.2.0-4-amd64", Warn},              // not in the table: cannot tell
		{"garbage", Warn},
	} {
		if got, msg := sackVerdict(tc.kernel); got != tc.want {
			t.Errorf("%s: %s (%s), want %s", tc.kernel, got, msg, tc.want)
		}
	}
}
