package engine

import (
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// TestMain judges the images these tests make against fresh OSV data that affects no package.
func TestMain(m *testing.M) { testfixture.MainWithInertVulnerabilityDB(m) }
