package engine

import (
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

const (
	bootParams  = "console=tty1 console=ttyS0 earlyprintk=ttyS0 rootdelay=300"
	bootKernel  = "/vmlinuz-6.1.0-28-cloud-amd64 root=UUID=6d1c2b9e-5f3a-4c1e-9a7b-2f8e1d3c4b5a ro"
	bootInitrd  = "\tinitrd\t/initrd.img-6.1.0-28-cloud-amd64\n"
	azureLinux  = "azure-linux"
	grubCfgPath = "/boot/grub/grub.cfg"
)

func grubEntry(title, params string) string {
	return "menuentry '" + title + "' {\n\tlinux\t" + bootKernel + " " + params + "\n" + bootInitrd + "}\n"
}

// Issue 26, GRUB as GRUB runs its script: the entry that boots may be in a file grub.cfg
// reads with configfile or source. grub.cfg's own entry carries the console; the real one does
// not: kernel-cmdline fails, naming the real file and line.
func TestFactsBootGrubConfigfileAndSource(t *testing.T) {
	cfg := plan.Choices{Profiles: []string{azureLinux}}
	decoy := grubEntry("Decoy", bootParams)
	for name, tc := range map[string]struct {
		changes testfixture.Change
		file    string
		line    int
	}{
		"configfile": {testfixture.Change{
			grubCfgPath:           "set default=0\nconfigfile ${prefix}/real.cfg\n" + decoy,
			"/boot/grub/real.cfg": "set timeout=0\n" + grubEntry("Real", "quiet"),
		}, "/boot/grub/real.cfg", 3},
		"source": {testfixture.Change{
			grubCfgPath:             "set default=\"Real\"\nsource /boot/grub/custom.cfg\n" + decoy,
			"/boot/grub/custom.cfg": "# the entry that boots\n" + grubEntry("Real", "quiet"),
		}, "/boot/grub/custom.cfg", 3},
	} {
		r := mustCheck(t, testfixture.Variant(t, tc.changes), cfg)
		f := finding(t, r, "kernel-cmdline")
		if f.Status != rules.Fail || r.Compliant || !hasEvidence(f, tc.file, tc.line, "console=ttyS0") {
			t.Errorf("%s: %s: %s %+v", name, f.Status, f.Message, f.Evidence)
		}
	}
	// a script that reads itself: GRUB would recurse without end; the rule errors, naming it
	r := mustCheck(t, testfixture.Variant(t, testfixture.Change{grubCfgPath: "source $prefix/grub.cfg\n" + decoy}), cfg)
	if f := finding(t, r, "kernel-cmdline"); f.Status != rules.Error || !strings.Contains(f.Message, "loop") || !strings.Contains(f.Message, "grub.cfg") {
		t.Errorf("loop: %s: %s", f.Status, f.Message)
	}
}

// set default= naming another entry: the one it names is the one judged. A one-line entry
// ("menuentry 'x' { linux ... }") is an entry like any other; an entry GRUB does not boot by
// default is listed, not judged.
func TestFactsBootGrubDefault(t *testing.T) {
	cfg := plan.Choices{Profiles: []string{azureLinux}}
	good := grubEntry("Debian GNU/Linux", bootParams)
	oneLine := "menuentry 'Rescue' --id rescue { linux " + bootKernel + " quiet; initrd /initrd.img-6.1.0-28-cloud-amd64; }\n"
	for name, def := range map[string]string{"index": "set default=1\n", "title": "set default='Rescue'\n", "id": "set default=rescue\n"} {
		r := mustCheck(t, testfixture.Variant(t, testfixture.Change{grubCfgPath: def + good + oneLine}), cfg)
		f := finding(t, r, "kernel-cmdline")
		if f.Status != rules.Fail || !hasEvidence(f, grubCfgPath, 6, "console=ttyS0") {
			t.Errorf("%s: %s: %s %+v", name, f.Status, f.Message, f.Evidence)
		}
	}
	// the saved entry of grubenv (GRUB_DEFAULT=saved), a 1024-byte block as grub-editenv writes it
	env := "# GRUB Environment Block\nsaved_entry=Rescue\n"
	env += strings.Repeat("#", 1024-len(env))
	saved := "if [ -s $prefix/grubenv ]; then\n  load_env\nfi\nset default=\"${saved_entry}\"\n"
	r := mustCheck(t, testfixture.Variant(t, testfixture.Change{grubCfgPath: saved + good + oneLine, "/boot/grub/grubenv": env}), cfg)
	if f := finding(t, r, "kernel-cmdline"); f.Status != rules.Fail || !hasEvidence(f, grubCfgPath, 9, "console=ttyS0") {
		t.Errorf("saved_entry: %s: %s %+v", f.Status, f.Message, f.Evidence)
	}
	// default=0: the rescue entry is not what boots; it is listed, not judged
	r = mustCheck(t, testfixture.Variant(t, testfixture.Change{grubCfgPath: "set default=0\n" + good + oneLine}), cfg)
	if f := finding(t, r, "kernel-cmdline"); f.Status != rules.Pass || !hasEvidence(f, grubCfgPath, 6, "not GRUB's default entry (not judged)") {
		t.Errorf("default=0: %s: %s %+v", f.Status, f.Message, f.Evidence)
	}
	// ${var} in the linux line, set by the script: the parameters are there
	vars := "set default=0\nset serial=\"console=ttyS0 earlyprintk=ttyS0\"\nmenuentry 'Debian' {\n\tlinux " + bootKernel + " console=tty1 ${serial} rootdelay=300 $vt_handoff\n}\n"
	r = mustCheck(t, testfixture.Variant(t, testfixture.Change{grubCfgPath: vars}), cfg)
	if f := finding(t, r, "kernel-cmdline"); f.Status != rules.Pass {
		t.Errorf("variables: %s: %s %+v", f.Status, f.Message, f.Evidence)
	}
}
