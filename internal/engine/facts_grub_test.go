package engine

import (
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/rules"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// Issue 26, GRUB's command line as GRUB's lexer and the kernel read it: after a '#' that
// starts a word the rest of the line is a comment, and parameters after "--" go to init, not
// to the kernel. Either way the kernel gets no console=ttyS0: kernel-cmdline fails, naming
// grub.cfg's line. A '#' inside a word, and quoting, keep the parameters (passes).
func TestFactsGrubCommentsAndDoubleDash(t *testing.T) {
	cfg := plan.Choices{Profiles: []string{"azure-linux"}}
	const params = "console=tty1 console=ttyS0 earlyprintk=ttyS0 rootdelay=300"
	entry := func(linux string) string {
		return "set default=0\nmenuentry 'Debian GNU/Linux' {\n\tlinux\t/vmlinuz-6.1.0-28-cloud-amd64 " + linux + "\n\tinitrd\t/initrd.img-6.1.0-28-cloud-amd64\n}\n"
	}
	for name, tc := range map[string]struct {
		linux string
		want  rules.Status
	}{
		"comment":        {"root=UUID=6d1c2b9e-5f3a-4c1e-9a7b-2f8e1d3c4b5a ro quiet # " + params, rules.Fail},
		"after --":       {"root=UUID=6d1c2b9e-5f3a-4c1e-9a7b-2f8e1d3c4b5a ro quiet -- " + params, rules.Fail},
		"after ;":        {"root=UUID=6d1c2b9e-5f3a-4c1e-9a7b-2f8e1d3c4b5a ro quiet; echo " + params, rules.Fail},
		"# inside words": {"root=UUID=6d1c2b9e-5f3a-4c1e-9a7b-2f8e1d3c4b5a ro a#b " + params, rules.Pass},
		"quoted":         {"root=UUID=6d1c2b9e-5f3a-4c1e-9a7b-2f8e1d3c4b5a ro 'console=ttyS0' \"earlyprintk=ttyS0\" rootdelay=300 \\# x", rules.Pass},
	} {
		r := mustCheck(t, testfixture.Variant(t, testfixture.Change{"/boot/grub/grub.cfg": entry(tc.linux)}), cfg)
		f := finding(t, r, "kernel-cmdline")
		if f.Status != tc.want {
			t.Errorf("%s: %s, want %s: %s %+v", name, f.Status, tc.want, f.Message, f.Evidence)
			continue
		}
		if tc.want == rules.Fail && (r.Compliant || !hasEvidence(f, "/boot/grub/grub.cfg", 3, "console=ttyS0")) {
			t.Errorf("%s: the evidence does not name grub.cfg line 3: %s %+v", name, f.Message, f.Evidence)
		}
	}

	// an unterminated quote: GRUB refuses the command; the rule errors, naming the line
	r := mustCheck(t, testfixture.Variant(t, testfixture.Change{"/boot/grub/grub.cfg": entry("ro '" + params)}), cfg)
	if f := finding(t, r, "kernel-cmdline"); f.Status != rules.Error || !strings.Contains(f.Message, "grub.cfg") || !strings.Contains(f.Message, "line 3") {
		t.Errorf("unterminated quote: %s: %s", f.Status, f.Message)
	}
}
