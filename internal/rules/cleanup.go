package rules

import (
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/requirements"
)

// selfTestHistoryLimit is the size above which the self-test fails a shell history (its
// RequiredValue "1024"; the certification FAQ: "more than 1 kilobyte").
const selfTestHistoryLimit = 1024

// shellHistory says whether a history file is one Microsoft's tests read: LISA looks for
// ".*sh_history" and ".history" in each shell user's home.
func shellHistory(name string) bool {
	base := path.Base(name)
	return base == ".history" || strings.HasPrefix(base, ".") && strings.HasSuffix(base, "sh_history")
}

var _ = register(&Rule{
	ID:        "no-shell-history",
	Title:     "No shell or REPL history files for root or any user",
	Severity:  High,
	Source:    "Azure Marketplace image security recommendations (Linux: clear bash/shell history); Alibaba Cloud image best practices (clear history); LISA AzureImageStandard verify_bash_history_is_empty (fails a non-empty history); self-test 48 Bash History",
	Rationale: "Histories leak commands, hosts and sometimes passwords typed during the build. Microsoft's test fails a history file with content; an empty one passes (LISA reads the size), so an empty file is reported and passes.",
	Fix:       "Delete the files as the last build step with HISTFILE unset (marketplace-harden's `history` step runs last and does this).",
	Cert:      &CertTest{ID: "200.5.1", SelfTestID: "48", Name: "Bash History", Level: "Failed", LISA: "verify_bash_history_is_empty"},
	Check: linux(func(c *Context) Result {
		homes, err := c.homes()
		if err != nil {
			return errResult(err)
		}
		var ev, empty []Evidence
		overLimit := 0
		for _, h := range homes {
			for _, f := range requirements.HistoryFiles {
				p := path.Join(h.Dir, f)
				fi, err := c.lstat(p)
				if err != nil {
					return errResult(err)
				}
				if fi == nil {
					continue
				}
				if fi.Size() == 0 && fi.Mode().IsRegular() {
					empty = append(empty, Evidence{Path: p, Detail: fmt.Sprintf("history of %s, empty (passes: only a history with content fails)", h.User)})
					continue
				}
				ev = append(ev, Evidence{Path: p, Detail: fmt.Sprintf("history of %s, %d bytes", h.User, fi.Size())})
				if shellHistory(f) && fi.Size() > selfTestHistoryLimit {
					overLimit++
				}
			}
		}
		if len(ev) > 0 {
			r := fail(fmt.Sprintf("%d history file(s) found", len(ev)), listing(ev, 30)...)
			r.Actual, r.Required = fmt.Sprintf("%d history file(s)", len(ev)), "no history files"
			if overLimit == 0 {
				// stricter than the self-test, by policy: it fails a shell history over 1 KiB
				r.Predicted = "Passed"
				r.Message += " (the self-test would pass them: none is a shell history over 1 KiB; LISA fails any shell history with content)"
			}
			return r
		}
		r := pass(fmt.Sprintf("no history with content in %d home directories", len(homes)), listing(empty, 30)...)
		if len(empty) > 0 {
			r.Message += fmt.Sprintf(" (%d empty history file(s))", len(empty))
		}
		r.Actual, r.Required = "no history files", "no history files"
		return r
	}),
})

var _ = register(&Rule{
	ID:        "empty-logs",
	Title:     "/var/log holds no non-empty files",
	Severity:  Medium,
	Source:    "Azure Marketplace image security recommendations (Linux: remove log files) and Alibaba Cloud image best practices (review and clear /var/log)",
	Rationale: "Build logs reveal the build environment (hosts, users, IPs) and confuse customers' first troubleshooting.",
	Fix:       "Truncate or remove the files under /var/log and vacuum the journal (marketplace-harden `logs`).",
	Check: linux(func(c *Context) Result {
		var ev []Evidence
		var total int64
		err := c.walkFiles("/var/log", func(p string, fi fs.FileInfo) error {
			if fi.Size() > 0 {
				total += fi.Size()
				ev = append(ev, Evidence{Path: p, Detail: fmt.Sprintf("%d bytes", fi.Size())})
			}
			return nil
		})
		if err != nil {
			return errResult(err)
		}
		if len(ev) > 0 {
			return fail(fmt.Sprintf("%d non-empty log file(s), %d bytes in all", len(ev), total), listing(ev, 20)...)
		}
		return pass("no non-empty files under /var/log")
	}),
})

var _ = register(&Rule{
	ID:        "empty-tmp",
	Title:     "/tmp and /var/tmp are empty",
	Severity:  Medium,
	Source:    "Alibaba Cloud image best practices (clear /tmp and /var/tmp)",
	Rationale: "Temporary files from the build (installers, credentials, caches) ship to every customer.",
	Fix:       "Empty /tmp and /var/tmp at the end of the build (marketplace-harden `tmp`).",
	Check: linux(func(c *Context) Result {
		var ev []Evidence
		for _, d := range []string{"/tmp", "/var/tmp"} {
			ents, err := c.readDir(d)
			if err != nil {
				return errResult(err)
			}
			for _, e := range ents {
				if e.Name() == "lost+found" {
					continue
				}
				ev = append(ev, Evidence{Path: d + "/" + e.Name(), Detail: kindOf(e.Type())})
			}
		}
		if len(ev) > 0 {
			return fail(fmt.Sprintf("%d entr(ies) in /tmp and /var/tmp", len(ev)), listing(ev, 20)...)
		}
		return pass("/tmp and /var/tmp are empty")
	}),
})

var _ = register(&Rule{
	ID:        "clean-paths",
	Title:     "Business data and application caches listed in clean_paths are empty",
	Severity:  Medium,
	Source:    "Alibaba Cloud image best practices (clear business data and application caches)",
	Rationale: "Application data from the build machine (databases, uploads, caches) must not ship to customers.",
	Fix:       "Empty the listed paths (marketplace-harden `clean_paths`).",
	Check: linux(func(c *Context) Result {
		if len(c.Options.CleanPaths) == 0 {
			return na("no clean_paths configured")
		}
		var ev []Evidence
		for _, p := range c.Options.CleanPaths {
			p = path.Clean("/" + strings.TrimPrefix(p, "/"))
			fi, err := c.lstat(p)
			if err != nil {
				return errResult(err)
			}
			switch {
			case fi == nil:
			case fi.IsDir():
				ents, err := c.readDir(p)
				if err != nil {
					return errResult(err)
				}
				if len(ents) > 0 {
					ev = append(ev, Evidence{Path: p, Detail: fmt.Sprintf("directory with %d entries", len(ents))})
				}
			case fi.Mode().IsRegular() && fi.Size() == 0:
			default:
				ev = append(ev, Evidence{Path: p, Detail: fmt.Sprintf("%s, %d bytes", kindOf(fi.Mode()), fi.Size())})
			}
		}
		if len(ev) > 0 {
			return fail("clean_paths hold data", ev...)
		}
		return pass(fmt.Sprintf("%d clean_paths are empty or absent", len(c.Options.CleanPaths)))
	}),
})

// kindOf names a file type for evidence.
func kindOf(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&fs.ModeSymlink != 0:
		return "symlink"
	case m.IsRegular():
		return "file"
	}
	return "special file"
}
