package plan

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/profile"
)

// ForGuest is the one rule by which the image decides the profile.
func TestForGuest(t *testing.T) {
	auto := MustNew(Choices{})
	if auto.ProfileGiven() || !slices.Equal(auto.Profiles(), []string{DefaultProfile}) {
		t.Fatalf("no profile: %q given=%v", auto.Profiles(), auto.ProfileGiven())
	}
	q, note, err := auto.ForGuest(profile.Windows)
	if err != nil || !slices.Equal(q.Profiles(), []string{profile.AzureWindows}) || !strings.Contains(note, "azure-windows") ||
		!q.HasRule("windows-firewall") || q.HasRule("no-swap") || !slices.Equal(auto.Profiles(), []string{DefaultProfile}) {
		t.Errorf("auto, Windows: %q %q %v", q.Profiles(), note, err)
	}
	if q, note, err := auto.ForGuest(profile.Linux); err != nil || q != auto || !strings.Contains(note, "azure-linux") {
		t.Errorf("auto, Linux: %v %q %v", q, note, err)
	}
	if q, note, err := auto.ForGuest(""); err != nil || q != auto || note != "" {
		t.Errorf("auto, no OS: %q %v", note, err)
	}
	given := MustNew(Choices{Profiles: []string{"azure-linux", "alibaba"}})
	_, _, err = given.ForGuest(profile.Windows)
	var m *ProfileMismatchError
	if !errors.As(err, &m) || !slices.Equal(m.Profiles, []string{"azure-linux", "alibaba"}) || !slices.Equal(m.Use, []string{"azure-windows", "alibaba-windows"}) ||
		!strings.Contains(err.Error(), "--profile azure-windows --profile alibaba-windows") {
		t.Errorf("given, Windows: %v", err)
	}
	if q, note, err := given.ForGuest(profile.Linux); err != nil || q != given || note != "" {
		t.Errorf("given, Linux: %q %v", note, err)
	}
	if q, _, err := MustNew(Choices{Profiles: []string{"azure-windows"}}).ForGuest(profile.Windows); err != nil || !q.ProfileGiven() {
		t.Errorf("azure-windows, Windows: %v", err)
	}
}
