package inspect_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// Two filesystems hold /etc. inspect lists both, each with its own fstab's mounts, and never
// chooses one itself: without a decider (this test links no boot-chain reader) the root is
// unknown, Root is nil and RootErr names both partitions; with one, its choice is the root.
func TestTwoRootCandidates(t *testing.T) {
	first := testfixture.RootSpec{UUID: "1d2c3b4a-5f6e-4d7c-8b9a-0a1b2c3d4e5f", Changes: testfixture.Change{
		"/etc/fstab": "UUID=1d2c3b4a-5f6e-4d7c-8b9a-0a1b2c3d4e5f / ext4 defaults 0 1\n"}}
	second := testfixture.RootSpec{UUID: "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a", Changes: testfixture.Change{"/etc/fstab": "\n"}}
	disk := testfixture.TwoRootDisk(t, nil, first, second)

	saved := inspect.RootDecider
	t.Cleanup(func() { inspect.RootDecider = saved })

	inspect.RootDecider = nil
	img, err := inspect.Open(disk)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	var amb *inspect.AmbiguousRootError
	if img.Root != nil || !errors.As(img.RootErr, &amb) || len(img.RootCandidates) != 2 ||
		!strings.Contains(img.RootErr.Error(), "partition 2 and partition 3") {
		t.Fatalf("root %v, error %v, %d candidates", img.RootPartition, img.RootErr, len(img.RootCandidates))
	}
	if !img.RootCandidates[0].SelfMounting || img.RootCandidates[1].SelfMounting {
		t.Errorf("self-mounting: %v %v", img.RootCandidates[0].SelfMounting, img.RootCandidates[1].SelfMounting)
	}
	if _, err := img.ReadFile("/etc/passwd"); !errors.Is(err, img.RootErr) {
		t.Errorf("reading the unknown root: %v", err)
	}

	// a decider that takes the second (not self-mounting) candidate: it is the root
	inspect.RootDecider = func(img *inspect.Image, c []inspect.RootCandidate) (*inspect.RootCandidate, string, error) {
		return &c[1], "the test says so", nil
	}
	img2, err := inspect.Open(disk)
	if err != nil {
		t.Fatal(err)
	}
	defer img2.Close()
	if img2.RootErr != nil || img2.RootPartition == nil || img2.RootPartition.Number != 3 {
		t.Fatalf("root %v, error %v", img2.RootPartition, img2.RootErr)
	}
	if !strings.Contains(strings.Join(img2.Notes, "\n"), "partition 3 is the root: the test says so") {
		t.Errorf("notes %q", img2.Notes)
	}
}
