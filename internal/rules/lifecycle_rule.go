package rules

import (
	"fmt"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/lifecycle"
	"github.com/marketready/packer-plugin-marketplace/internal/windows"
)

// today is the date the support ends are compared with (tests set it).
var today = time.Now

var _ = register(&Rule{
	ID:       "supported-release",
	Title:    "The operating system release still gets security updates from its vendor",
	Severity: High,
	Source: "Alibaba Cloud image best practices (no end-of-life release); AWS Marketplace product policies (no end-of-life operating system); " +
		"the vendors' published end dates (internal/lifecycle: Debian LTS, Ubuntu's release cycle, Alpine, Red Hat and its rebuilds, " +
		"Amazon Linux, Microsoft's lifecycle for Windows Server)",
	Rationale: "A release past its end gets no more security fixes: every vulnerability found after that date ships with the image for good.",
	Fix:       "Rebuild the image on a release that is supported (the rule's message says when the current one ends).",
	Check: anyOS(func(c *Context) Result {
		if c.Image.Root != nil {
			osr := c.Image.OSRelease()
			if osr.Err != nil {
				return errResult(osr.Err)
			}
			where := Evidence{Path: "/etc/os-release", Detail: Quotef("ID=%s VERSION_ID=%s", osr.ID, osr.VersionID)}
			rel, ok := lifecycle.Linux(osr.ID, osr.VersionID)
			if !ok {
				r := warn(Quotef("%s %s is not in the table of release end dates: whether it still gets security updates is not known here", osr.ID, osr.VersionID), where)
				r.Actual, r.Required = Quote(osr.PrettyName), "a release inside its vendor's support"
				return r
			}
			return judgeRelease(rel, where)
		}
		h, err := c.Image.Hives()
		if err != nil {
			return errResult(err)
		}
		v, err := h.ReadVersion()
		if err != nil {
			return errResult(err)
		}
		where := Evidence{Path: winPath(windows.SoftwareHive), Detail: `Microsoft\Windows NT\CurrentVersion: ` + v.String()}
		rel, ok := lifecycle.WindowsServer(v.Build)
		if !ok || !v.IsServer() {
			r := warn(Quotef("%s (build %d) is not in the table of Windows Server releases: its support end is not known here", v.ProductName, v.Build), where)
			r.Actual, r.Required = v.String(), "a release inside its vendor's support"
			return r
		}
		return judgeRelease(rel, where)
	}),
})

func judgeRelease(rel lifecycle.Release, where Evidence) Result {
	now := today()
	end := rel.End.Format("2006-01-02")
	ev := []Evidence{where, {Path: rel.Source, Detail: fmt.Sprintf("%s: %s ends %s", rel.Name, rel.Support, end)}}
	var r Result
	switch left := rel.End.Add(24 * time.Hour).Sub(now); {
	case left <= 0:
		r = fail(fmt.Sprintf("%s reached the end of its %s on %s: it gets no more security updates", rel.Name, rel.Support, end), ev...)
	case left <= lifecycle.WarnBefore:
		r = warn(fmt.Sprintf("%s's %s ends on %s, in %d days", rel.Name, rel.Support, end, int(left.Hours()/24)), ev...)
	default:
		r = pass(fmt.Sprintf("%s: %s until %s", rel.Name, rel.Support, end), ev...)
	}
	r.Actual, r.Required = rel.Name+" (until "+end+")", "a release inside its vendor's support"
	return r
}
