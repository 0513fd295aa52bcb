package plan_test

import (
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/plan"
)

// A reason must say something: one letter or digit at least. Invisible characters (zero-width
// space, joiner, byte-order mark, soft hyphen), spaces and punctuation alone are refused, with
// the rule named; any script's letters and digits are a reason.
func TestReasonNeedsVisibleLettersOrDigits(t *testing.T) {
	for _, reason := range []string{"\u200b", "\u200b\u200c\u200d", "\ufeff", "\u00ad", " \u2060 ", "...", "- / -", "\u200b!?\u200b", "\u3000"} {
		_, err := plan.New(plan.Choices{Waivers: []plan.Waiver{{Rule: "no-swap", Reason: reason}}})
		if err == nil || !strings.Contains(err.Error(), `"no-swap"`) || !strings.Contains(err.Error(), "no visible letters or digits") && !strings.Contains(err.Error(), "has no reason") {
			t.Errorf("reason %+q: %v", reason, err)
		}
	}
	for _, reason := range []string{"x", "7", "swap is on the data disk", "\u200bok", "データディスク", "Ω"} {
		if _, err := plan.New(plan.Choices{Waivers: []plan.Waiver{{Rule: "no-swap", Reason: reason}}}); err != nil {
			t.Errorf("reason %+q refused: %v", reason, err)
		}
	}
}
