package secrets

import "github.com/zricethezav/gitleaks/v8/config"

// searchEveryPath drops the path patterns of gitleaks' allow lists that stand alone (an "OR"
// list): they are written for source repositories and would make a file's name a way around the
// search (a key in "creds.png", "app.exe", "blob.bin" or under any "vendor/" directory was never
// reported). A file's path is the publisher's to allow (Options.AllowPaths, DefaultAllowPaths).
// An allow list that needs its path together with something else ("AND") is kept as it is; the
// lists' patterns of values and stop words are kept.
func searchEveryPath(cfg *config.Config) {
	strip := func(lists []*config.Allowlist) []*config.Allowlist {
		var out []*config.Allowlist
		for _, a := range lists {
			if a.MatchCondition != config.AllowlistMatchOr || len(a.Paths) == 0 {
				out = append(out, a)
				continue
			}
			// the compiled path pattern is the list's own: a new list without it
			b := &config.Allowlist{Description: a.Description, MatchCondition: a.MatchCondition,
				Commits: a.Commits, RegexTarget: a.RegexTarget, Regexes: a.Regexes, StopWords: a.StopWords}
			if b.Validate() == nil { // an error: nothing is left of it
				out = append(out, b)
			}
		}
		return out
	}
	cfg.Allowlists = strip(cfg.Allowlists)
	for id, r := range cfg.Rules {
		r.Allowlists = strip(r.Allowlists)
		cfg.Rules[id] = r
	}
}
