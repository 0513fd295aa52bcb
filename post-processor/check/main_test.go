package check

import (
	"os"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// TestMain judges the images these tests make against fresh OSV data that affects no package
// ($MARKETPLACE_VULNERABILITY_DB; there is no network here): security-updates-installed then
// passes on them, and the tests of that rule give their own data.
func TestMain(m *testing.M) {
	done := testfixture.UseInertVulnerabilityDB()
	code := m.Run()
	done()
	os.Exit(code)
}
