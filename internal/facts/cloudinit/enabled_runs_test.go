package cloudinit

import (
	"io/fs"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// upstreamStage is a cloud-init stage unit with the conditions cloud-init's own units carry
// (systemd/cloud-init-local.service.tmpl and the others, cloud-init 24.x).
const upstreamStage = "[Unit]\nDescription=cloud-init stage\nConditionPathExists=!/etc/cloud/cloud-init.disabled\nConditionKernelCommandLine=!cloud-init=disabled\nConditionEnvironment=!KERNEL_CMDLINE=cloud-init=disabled\n[Service]\nType=oneshot\nExecStart=/usr/bin/cloud-init init\n[Install]\nWantedBy=cloud-init.target\n"

// Each stage runs only if its Condition*=/Assert*= hold on the image, for the booted command
// line: a failing one skips it (named with its file and line), one not decided offline leaves it
// counted as running with the reason, one that cannot be read is a problem. Both ways a stage
// is pulled in are judged: cloud-init.target pulled in by the generator, and a link from the
// default target.
func TestEnablementStageConditions(t *testing.T) {
	upstream := testfixture.CloudInit()
	for _, u := range []string{"cloud-init-local.service", "cloud-init.service", "cloud-config.service", "cloud-final.service"} {
		upstream["/lib/systemd/system/"+u] = upstreamStage
	}
	boot := []Cmdline{{Where: "/boot/grub/grub.cfg", Line: 3, Value: "root=UUID=x ro console=ttyS0"}}
	with := func(more testfixture.Change) testfixture.Change { return testfixture.With(upstream, more) }
	const dropIn = "/etc/systemd/system/cloud-final.service.d/k.conf"
	linked := testfixture.Change{"/etc/systemd/system/multi-user.target.wants/cloud-final.service": "-> /lib/systemd/system/cloud-final.service"}
	for _, c := range []struct {
		name     string
		change   testfixture.Change
		cmdlines []Cmdline
		enabled  bool
		why      string
		not      string // what the evidence must not say
	}{
		{"the upstream conditions hold", upstream, boot, true, "cloud-final.service started at boot", "counted as running"},
		{"the upstream conditions with cloud-init.disabled", with(testfixture.Change{DisabledFile: ""}), boot, false, "ConditionPathExists=!/etc/cloud/cloud-init.disabled", ""},
		{"a kernel command line condition fails", with(testfixture.Change{dropIn: "[Unit]\nConditionKernelCommandLine=!stage=off\n"}), []Cmdline{{Where: "/boot/grub/grub.cfg", Line: 3, Value: "ro stage=off"}}, false, dropIn + ":2", ""},
		{"a kernel command line condition holds", with(testfixture.Change{dropIn: "[Unit]\nConditionKernelCommandLine=!stage=off\n"}), boot, true, "", ""},
		{"a failing condition of a stage linked from the default target", with(testfixture.With(linked, testfixture.Change{dropIn: "[Unit]\nConditionPathExists=/etc/absent\n"})), boot, false, "systemd skips cloud-final.service", ""},
		{"a condition not decided offline counts as running", with(testfixture.Change{dropIn: "[Unit]\nConditionVirtualization=kvm\n"}), boot, true, "counted as running", ""},
		{"systemd.setenv= leaves ConditionEnvironment= undecided", upstream, []Cmdline{{Where: "/boot/grub/grub.cfg", Line: 3, Value: "ro systemd.setenv=A=1"}}, true, "systemd.setenv=A=1", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := ReadEnablement(writeTree(t, c.change), c.cmdlines)
			if err := e.Err(); err != nil {
				t.Fatal(err)
			}
			var why []string
			for _, w := range e.Why {
				why = append(why, w.Path+":"+strconv.Itoa(w.Line)+" "+w.Detail)
			}
			all := strings.Join(why, "\n")
			if e.Enabled != c.enabled || !strings.Contains(all, c.why) || c.not != "" && strings.Contains(all, c.not) {
				t.Errorf("enabled %v, want %v with %q:\n%s", e.Enabled, c.enabled, c.why, all)
			}
		})
	}
	t.Run("a condition that cannot be read", func(t *testing.T) {
		src := writeTree(t, with(testfixture.Change{dropIn: "[Unit]\nConditionPathExists=/etc/secret/x\n"}))
		lstat := src.Lstat
		src.Lstat = func(p string) (fs.FileInfo, error) {
			if p == "/etc/secret" {
				return nil, os.ErrPermission
			}
			return lstat(p)
		}
		e := ReadEnablement(src, boot)
		if err := e.Err(); err == nil || !strings.Contains(err.Error(), "cloud-final.service") || !strings.Contains(err.Error(), "/etc/secret") {
			t.Errorf("problems %v", err)
		}
	})
}
