package inspect

import (
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/partition"
)

// Device-mapper names double each "-" of the VG and LV names, so that /dev/mapper/VG-LV is
// unambiguous (lib/activate/dev_manager.c dm_build_dm_name).
func TestDMName(t *testing.T) {
	for vg, want := range map[string]string{"rhel": "rhel-root", "my-vg": "my--vg-root", "a--b": "a----b-root"} {
		if got := dmName(vg, "root"); got != want {
			t.Errorf("dmName(%q, root) = %q, want %q", vg, got, want)
		}
	}
	if got := dmName("vg", "lv-home"); got != "vg-lv--home" {
		t.Errorf("dmName(vg, lv-home) = %q", got)
	}
	lv := &LogicalVolume{VG: "my-vg", Name: "lv-root"}
	lv.Partition = &partition.Partition{Number: 2, UUID: "00000000-02"}
	for spec, want := range map[string]bool{
		"/dev/mapper/my--vg-lv--root":             true,
		"/dev/my-vg/lv-root":                      true,
		"/dev/disk/by-id/dm-name-my--vg-lv--root": true,
		"/dev/mapper/my-vg-lv-root":               false,
		"/dev/sda2":                               false,
		"PARTUUID=00000000-02":                    false,
		"UUID=":                                   false,
	} {
		if got := lv.matches(spec); got != want {
			t.Errorf("matches(%q) = %v, want %v", spec, got, want)
		}
	}
}
