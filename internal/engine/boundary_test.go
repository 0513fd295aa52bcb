package engine

import (
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// fail_on is inclusive: a failing rule of exactly the threshold's severity blocks the build, one
// below it does not (TestFailOnThreshold covers the thresholds on either side).
func TestFailOnIsInclusive(t *testing.T) {
	img := testfixture.Variant(t, testfixture.Change{"/tmp/leftover": "x"}) // empty-tmp: medium
	r := mustCheck(t, img, plan.Choices{Profiles: []string{"azure-linux"}, FailOn: "medium"})
	f := finding(t, r, "empty-tmp")
	if f.Status != rules.Fail || f.Severity.String() != "medium" {
		t.Fatalf("empty-tmp is %s/%s, want a medium failure", f.Status, f.Severity)
	}
	if !f.Blocking || r.Compliant {
		t.Fatalf("a medium failure at fail_on=medium: blocking %v, compliant %v; want blocking", f.Blocking, r.Compliant)
	}
}
