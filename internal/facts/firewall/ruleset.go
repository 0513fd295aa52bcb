package firewall

import (
	"fmt"
	"io/fs"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
)

// Bounds of the rules-file readers: a file past one is a problem naming it (the rule errors),
// never a silent cut.
const (
	maxRulesFile  = 1 << 20  // bytes of one file
	maxRulesLine  = 64 << 10 // bytes of one line
	maxRulesDepth = 16       // nested includes
	maxRulesFiles = 256      // files one load reads, includes counted
)

// Ruleset is what one load of a rules file leaves in the kernel, as far as filtering goes.
type Ruleset struct {
	// Missing says the load fails before anything is loaded: the file (or a file it includes
	// by name) does not exist; Path and Line say which, Why says what.
	Missing bool
	// Filters says something drops or rejects packets: a base chain's policy drop, or a rule
	// with a drop/reject/queue verdict (iptables: DROP, REJECT, QUEUE, NFQUEUE, TARPIT, or a
	// built-in chain's policy DROP).
	Filters bool
	Path    string // the file and line of the first filtering thing, else the file loaded
	Line    int
	Why     string
}

// readBounded reads a whole rules file of at most maxRulesFile bytes; exists is false when
// there is none. A directory is an error (what loads it reads files, not directories).
func readBounded(src systemd.Source, p string) (data []byte, exists bool, err error) {
	fi, err := src.Lstat(p)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", p, err)
	}
	if fi == nil {
		return nil, false, nil
	}
	if fi.IsDir() {
		return nil, true, fmt.Errorf("%s: a directory, not a rules file", p)
	}
	data, size, err := src.Head(p, maxRulesFile+1)
	if err != nil {
		return nil, true, fmt.Errorf("%s: %w", p, err)
	}
	if data == nil && size == 0 && fi.Mode()&fs.ModeSymlink != 0 {
		return nil, false, nil // a dangling link: no file to load
	}
	if size > maxRulesFile || len(data) > maxRulesFile {
		return nil, true, fmt.Errorf("%s: larger than %d bytes (not read)", p, maxRulesFile)
	}
	return data, true, nil
}
