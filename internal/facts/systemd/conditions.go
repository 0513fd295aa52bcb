package systemd

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/sysconf"
)

// Conditions are evaluated as systemd 252 evaluates them when it starts a unit, for the first
// boot of a VM made from the image on a cloud (systemd v252 src/shared/condition.c
// condition_test and condition_test_list; src/core/load-fragment.c
// config_parse_unit_condition_path/_string; src/core/unit.c unit_test_condition and
// unit_test_assert, whose failure makes job_perform_on_unit/unit_start skip the unit (a
// condition: the job ends "skipped", what the unit pulled in was already enqueued and still
// starts) or fail it (an assert)). Each Condition*= setting of [Unit] (drop-ins included, in
// the order systemd reads them) adds to the unit's condition list and each Assert*= to its
// assert list; an empty value of any of them empties that whole list. "|" (first) makes a
// condition triggering and "!" negates it; for a path condition nothing may stand between
// them and the path (a blank makes it a relative path, which systemd drops with a warning, as
// it drops one with a ".." component), for the others blanks after either are skipped. A list
// holds when every non-triggering condition holds and, if there are triggering ones, at least
// one of them does; a test that cannot be carried out counts as failed whatever its "!".

// Tri is a three-valued truth.
type Tri int8

const (
	// Unknown is not decided offline.
	Unknown Tri = iota
	// True holds.
	True
	// False does not hold.
	False
)

func (t Tri) String() string {
	switch t {
	case True:
		return "true"
	case False:
		return "false"
	}
	return "unknown"
}

func triOf(b bool) Tri {
	if b {
		return True
	}
	return False
}

func (t Tri) not() Tri {
	switch t {
	case True:
		return False
	case False:
		return True
	}
	return Unknown
}

// Condition is one Condition*= or Assert*= of a unit with its verdict on the image.
type Condition struct {
	Setting
	Assert  bool   // an Assert*= (failing it fails the unit; a Condition*= skips it)
	Type    string // the kind without its prefix: "PathExists", "Virtualization", ...
	Trigger bool   // "|"
	Negate  bool   // "!"
	Param   string // the parameter, specifiers resolved
	Result  Tri    // the condition's verdict, "!" applied
	Why     string // what decided it, or why it is not decided
}

// Text is the setting as written: "ConditionPathExists=|!/etc/x".
func (c Condition) Text() string { return c.Key + "=" + c.Value }

// Where is the file and line of the setting.
func (c Condition) Where() string { return fmt.Sprintf("%s:%d", c.File, c.Line) }

func (c Condition) String() string {
	return fmt.Sprintf("%s (%s): %s", c.Text(), c.Where(), c.Why)
}

// ConditionResult is a unit's conditions and asserts evaluated on the image.
type ConditionResult struct {
	// Holds says the unit's conditions and asserts all hold: False when systemd skips (or, for
	// an assert, fails) the unit on the VM, Unknown when that rests on what the image does not
	// decide.
	Holds Tri
	// Deciding is the condition that makes Holds False (a failing one; for triggering
	// conditions of which none holds, the first of them) or Unknown (the first undecided one);
	// nil when Holds is True.
	Deciding   *Condition
	Conditions []Condition
	Asserts    []Condition
}

func (r *ConditionResult) String() string {
	switch {
	case r == nil:
		return "no conditions"
	case r.Holds == True:
		return "its conditions hold"
	case r.Deciding == nil:
		return "conditions " + r.Holds.String()
	case r.Holds == False && r.Deciding.Trigger:
		return "none of its triggering conditions holds, e.g. " + r.Deciding.String()
	case r.Holds == False:
		return r.Deciding.String()
	}
	return "undecided offline: " + r.Deciding.String()
}

// conditionKinds are systemd 252's Condition*=/Assert*= settings (load-fragment-gperf.gperf.in),
// true for those parsed as paths.
var conditionKinds = map[string]bool{
	"PathExists": true, "PathExistsGlob": true, "PathIsDirectory": true, "PathIsSymbolicLink": true,
	"PathIsMountPoint": true, "PathIsReadWrite": true, "PathIsEncrypted": true, "DirectoryNotEmpty": true,
	"FileNotEmpty": true, "FileIsExecutable": true, "NeedsUpdate": true,
	"FirstBoot": false, "Architecture": false, "Firmware": false, "Virtualization": false, "Host": false,
	"KernelCommandLine": false, "KernelVersion": false, "Credential": false, "Security": false,
	"Capability": false, "ACPower": false, "Memory": false, "CPUFeature": false, "CPUs": false,
	"Environment": false, "User": false, "Group": false, "ControlGroupController": false,
	"OSRelease": false, "MemoryPressure": false, "CPUPressure": false, "IOPressure": false,
}

// runtimeDirs are filesystems the booted system mounts over what the image holds (or that are
// not in it at all): a condition on them is not decided offline.
var runtimeDirs = []string{"/proc", "/sys", "/dev", "/run", "/tmp"}

// maxSymlinks is the kernel's bound on links followed in one lookup (ELOOP past it).
const maxSymlinks = 40

// maxGlobEntries bounds the directory entries one glob condition reads; past it the condition
// is undecided (never a cut answer). A variable for the tests.
var maxGlobEntries = 100000

// maxTmpfilesLines bounds the tmpfiles.d lines read; past it path conditions are errors. A
// variable for the tests.
var maxTmpfilesLines = 100000

// Evaluator evaluates conditions against one image; what it reads once (fstab, tmpfiles.d,
// os-release, machine-id) is kept.
type Evaluator struct {
	src Source

	loaded    bool
	loadErr   error
	mounts    []string       // fstab mount points other than /
	tmpfiles  []tmpfilesPath // paths systemd-tmpfiles creates or changes at boot
	osRelease map[string]string
	osFile    string
	osErr     error
	osBad     string // why systemd cannot parse the os-release
	osLoaded  bool
	firstBoot Tri
	firstWhy  string
	fbLoaded  bool
	fbErr     error
	// miss is why the last lookup failed: "ENOENT", "ENOTDIR" or "ELOOP"
	miss string

	// the booted kernel command lines (cmdline.go)
	cmdlineFn     func() ([]KernelCmdline, error)
	cmdlineLoaded bool
	cmdlineList   []KernelCmdline
	cmdlineWhy    string
	// the architecture of the image's systemd (cmdline.go)
	archLoaded  bool
	archNative  string
	archKernels []string
	archWhy     string
	archErr     error
}

type tmpfilesPath struct {
	prefix string // the literal part of the path (up to a glob character or specifier)
	where  string // file:line
	line   string
}

// NewEvaluator is an evaluator reading src.
func NewEvaluator(src Source) *Evaluator { return &Evaluator{src: src} }

// EvaluateConditions evaluates a unit's conditions and asserts on src.
func EvaluateConditions(src Source, u *Unit) (*ConditionResult, error) {
	return NewEvaluator(src).Evaluate(u)
}

// ParseConditions returns a unit's condition and assert lists as systemd builds them from its
// settings (not yet evaluated). Settings systemd ignores (a relative path, a ".." component, a
// specifier it could not resolve) are left out, as systemd leaves them out; a specifier this
// reader does not resolve is kept with Why saying so.
func ParseConditions(u *Unit) (conds, asserts []Condition) {
	for _, s := range u.Settings {
		if s.Section != "Unit" {
			continue
		}
		kind, assert := strings.CutPrefix(s.Key, "Assert")
		if !assert {
			var ok bool
			if kind, ok = strings.CutPrefix(s.Key, "Condition"); !ok {
				continue
			}
		}
		isPath, ok := conditionKinds[kind]
		if !ok {
			continue
		}
		list := &conds
		if assert {
			list = &asserts
		}
		if s.Value == "" {
			*list = (*list)[:0]
			continue
		}
		c := Condition{Setting: s, Assert: assert, Type: kind}
		v := s.Value
		if c.Trigger = strings.HasPrefix(v, "|"); c.Trigger {
			v = v[1:]
			if !isPath {
				v = strings.TrimLeft(v, " \t\n\r")
			}
		}
		if c.Negate = strings.HasPrefix(v, "!"); c.Negate {
			v = v[1:]
			if !isPath {
				v = strings.TrimLeft(v, " \t\n\r")
			}
		}
		p, unresolved := specifiers(u.Name, v)
		if unresolved != "" {
			c.Param, c.Why = v, "specifier "+unresolved+" is not resolved offline"
			*list = append(*list, c)
			continue
		}
		if isPath {
			// path_simplify_and_warn(PATH_CHECK_ABSOLUTE): relative, not normalized or too
			// long paths are ignored
			if !strings.HasPrefix(p, "/") || len(p) >= 4096 {
				continue
			}
			bad := false
			for _, comp := range strings.Split(p, "/") {
				if comp == ".." || len(comp) > 255 {
					bad = true
				}
			}
			if bad {
				continue
			}
			p = path.Clean(p)
		}
		c.Param = p
		*list = append(*list, c)
	}
	return conds, asserts
}

// specifiers resolves the unit specifiers this reader knows (%% %n %N %p %i %j); unresolved
// names the first other one.
func specifiers(unit, v string) (string, string) {
	if !strings.Contains(v, "%") {
		return v, ""
	}
	base := strings.TrimSuffix(unit, "."+unitType(unit))
	prefix, instance := base, ""
	if at := strings.IndexByte(base, '@'); at >= 0 {
		prefix, instance = base[:at], base[at+1:]
	}
	last := prefix
	if i := strings.LastIndexByte(prefix, '-'); i >= 0 {
		last = prefix[i+1:]
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '%' {
			b.WriteByte(v[i])
			continue
		}
		if i+1 == len(v) {
			return "", "%"
		}
		i++
		switch v[i] {
		case '%':
			b.WriteByte('%')
		case 'n':
			b.WriteString(unit)
		case 'N':
			b.WriteString(base)
		case 'p':
			b.WriteString(prefix)
		case 'i':
			b.WriteString(instance)
		case 'j':
			b.WriteString(last)
		default:
			return "", "%" + string(v[i])
		}
	}
	return b.String(), ""
}

// Evaluate evaluates a unit's conditions and asserts. An error is something the image would
// decide that could not be read (naming the path).
func (e *Evaluator) Evaluate(u *Unit) (*ConditionResult, error) {
	conds, asserts := ParseConditions(u)
	r := &ConditionResult{Conditions: conds, Asserts: asserts}
	for _, list := range [][]Condition{r.Conditions, r.Asserts} {
		for i := range list {
			c := &list[i]
			if c.Why != "" { // an unresolved specifier
				continue
			}
			res, why, err := e.test(c)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %s: %w", c.File, c.Line, c.Text(), err)
			}
			c.Why = why
			if res == errFail {
				c.Result = False
				continue
			}
			if c.Negate {
				res = res.not()
			}
			c.Result = res
		}
	}
	hc, dc := listHolds(r.Conditions)
	ha, da := listHolds(r.Asserts)
	switch {
	case hc == False:
		r.Holds, r.Deciding = False, dc
	case ha == False:
		r.Holds, r.Deciding = False, da
	case hc == Unknown:
		r.Holds, r.Deciding = Unknown, dc
	case ha == Unknown:
		r.Holds, r.Deciding = Unknown, da
	default:
		r.Holds = True
	}
	return r, nil
}

// errFail is a test systemd could not carry out: the condition fails whatever its "!".
const errFail Tri = -1

// listHolds is condition_test_list in three values: False when a non-triggering condition
// fails or every triggering one does, True when all non-triggering ones and one triggering one
// (if any) hold. The deciding condition is looked for from the last setting back, the order
// systemd's list (built by prepending) is tested in.
func listHolds(list []Condition) (Tri, *Condition) {
	var unknown, unknownTrigger, firstTrigger *Condition
	triggerHolds := false
	for i := len(list) - 1; i >= 0; i-- {
		c := &list[i]
		switch {
		case c.Trigger:
			firstTrigger = c
			if c.Result == True {
				triggerHolds = true
			} else if c.Result == Unknown && unknownTrigger == nil {
				unknownTrigger = c
			}
		case c.Result == False:
			return False, c
		case c.Result == Unknown && unknown == nil:
			unknown = c
		}
	}
	switch {
	case firstTrigger != nil && !triggerHolds && unknownTrigger == nil:
		return False, firstTrigger
	case unknown != nil:
		return Unknown, unknown
	case firstTrigger != nil && !triggerHolds:
		return Unknown, unknownTrigger
	}
	return True, nil
}

// test evaluates one condition without its "!" (errFail: systemd's test fails).
func (e *Evaluator) test(c *Condition) (Tri, string, error) {
	if conditionKinds[c.Type] && c.Type != "NeedsUpdate" {
		if err := e.load(); err != nil {
			return Unknown, "", err
		}
	}
	p := c.Param
	switch c.Type {
	case "PathExists":
		fi, why, err := e.stat(p, true)
		if err != nil || why != "" {
			return Unknown, why, err
		}
		if fi == nil {
			return e.absent(p, False, p+" does not exist in the image")
		}
		return e.absent(p, True, p+" exists in the image")
	case "PathIsDirectory":
		fi, why, err := e.stat(p, true)
		if err != nil || why != "" {
			return Unknown, why, err
		}
		if fi == nil {
			return e.absent(p, False, p+" does not exist in the image")
		}
		return e.absent(p, triOf(fi.IsDir()), p+" is "+kindOf(fi)+" in the image")
	case "PathIsSymbolicLink":
		fi, why, err := e.stat(p, false)
		if err != nil || why != "" {
			return Unknown, why, err
		}
		if fi == nil {
			return e.absent(p, False, p+" does not exist in the image")
		}
		return e.absent(p, triOf(fi.Mode()&fs.ModeSymlink != 0), p+" is "+kindOf(fi)+" in the image")
	case "FileNotEmpty", "FileIsExecutable":
		fi, why, err := e.stat(p, true)
		if err != nil || why != "" {
			return Unknown, why, err
		}
		if fi == nil {
			return e.absent(p, False, p+" does not exist in the image")
		}
		if !fi.Mode().IsRegular() {
			return e.absent(p, False, p+" is "+kindOf(fi)+" in the image")
		}
		if c.Type == "FileNotEmpty" {
			return e.absent(p, triOf(fi.Size() > 0), fmt.Sprintf("%s is a file of %d bytes in the image", p, fi.Size()))
		}
		return e.absent(p, triOf(fi.Mode()&0o111 != 0), fmt.Sprintf("%s is a file of mode %04o in the image", p, fi.Mode().Perm()))
	case "DirectoryNotEmpty":
		real, fi, why, err := e.resolveErr(p, true)
		if err != nil || why != "" {
			return Unknown, why, err
		}
		if fi == nil {
			// dir_is_empty fails; only ENOENT and ENOTDIR make the test fail
			if e.miss == "ELOOP" {
				return e.absent(p, True, "looking up "+p+" fails in the image (ELOOP), which systemd takes for not empty")
			}
			return e.absent(p, False, p+" does not exist in the image")
		}
		if !fi.IsDir() {
			return e.absent(p, False, p+" is "+kindOf(fi)+" in the image")
		}
		ents, err := e.src.ReadDir(real)
		if err != nil {
			return Unknown, "", fmt.Errorf("%s: %w", real, err)
		}
		for _, ent := range ents {
			if !hiddenOrBackup(ent.Name()) {
				return e.absent(p, True, p+" holds "+ent.Name()+" in the image")
			}
		}
		return e.absent(p, False, p+" is empty in the image (hidden and backup files aside)")
	case "PathExistsGlob":
		return e.glob(p)
	case "PathIsMountPoint", "PathIsReadWrite", "PathIsEncrypted":
		if c.Type == "PathIsMountPoint" && p == "/" {
			return True, "/ is the root mount", nil
		}
		fi, why, err := e.stat(p, true)
		if err != nil || why != "" {
			return Unknown, why, err
		}
		if fi == nil {
			// path_is_read_only_fs fails; only ENOENT makes the read-write test fail
			if c.Type == "PathIsReadWrite" && e.miss != "ENOENT" {
				return e.absent(p, True, "looking up "+p+" fails in the image ("+e.miss+"), which systemd takes for read-write")
			}
			return e.absent(p, False, p+" does not exist in the image")
		}
		switch c.Type {
		case "PathIsMountPoint":
			return Unknown, "whether " + p + " is a mount point on the VM is not decided offline", nil
		case "PathIsReadWrite":
			return Unknown, "whether the filesystem of " + p + " is mounted read-write on the VM is not decided offline", nil
		}
		return Unknown, "whether " + p + " is on an encrypted device is not decided offline", nil
	case "FirstBoot":
		return e.testFirstBoot(c.Param)
	case "Virtualization":
		return testVirtualization(c.Param)
	case "OSRelease":
		return e.testOSRelease(c.Param)
	case "KernelCommandLine":
		return e.testKernelCommandLine(c.Param)
	case "Architecture":
		return e.testArchitecture(c.Param)
	case "Environment":
		return e.testEnvironment(c.Param)
	}
	return Unknown, c.Key + "= is not decided offline", nil
}

func kindOf(fi fs.FileInfo) string {
	switch m := fi.Mode(); {
	case m.IsDir():
		return "a directory"
	case m.IsRegular():
		return "a file"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "a special file"
}

// hiddenOrBackup is systemd's hidden_or_backup_file (v252 src/basic/path-util.c), what
// ConditionDirectoryNotEmpty= does not count.
func hiddenOrBackup(name string) bool {
	if strings.HasPrefix(name, ".") || name == "lost+found" || name == "aquota.user" || name == "aquota.group" || strings.HasSuffix(name, "~") {
		return true
	}
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return false
	}
	switch name[i+1:] {
	case "rpmnew", "rpmsave", "rpmorig", "dpkg-old", "dpkg-new", "dpkg-tmp", "dpkg-dist", "dpkg-bak",
		"dpkg-backup", "dpkg-remove", "ucf-new", "ucf-old", "ucf-dist", "swp", "bak", "old", "new":
		return true
	}
	return false
}

// absent returns the verdict the image gives unless systemd-tmpfiles (run in sysinit.target,
// before the services of basic.target and after) creates, removes or changes something at or
// under the path, or above it: then the verdict is not the image's.
func (e *Evaluator) absent(p string, res Tri, why string) (Tri, string, error) {
	for _, t := range e.tmpfiles {
		if overlaps(t.prefix, p) {
			return Unknown, fmt.Sprintf("%s, but systemd-tmpfiles changes it at boot (%s: %s)", why, t.where, t.line), nil
		}
	}
	return res, why, nil
}

// overlaps says a path and a tmpfiles.d path (prefix) are the same, or one is under the other.
func overlaps(prefix, p string) bool {
	prefix = strings.TrimSuffix(prefix, "/")
	return prefix == p || strings.HasPrefix(p, prefix+"/") || strings.HasPrefix(prefix, p+"/") || p == "/" || prefix == ""
}

// runtimeOrMounted names what makes a path undecided: a filesystem the boot mounts over it.
func (e *Evaluator) runtimeOrMounted(p string) string {
	for _, d := range runtimeDirs {
		if p == d || strings.HasPrefix(p, d+"/") {
			return p + " is on " + d + ", which the booted system mounts"
		}
	}
	for _, m := range e.mounts {
		if p == m || strings.HasPrefix(p, m+"/") {
			return p + " is under " + m + ", which /etc/fstab mounts"
		}
	}
	return ""
}

// resolveErr follows the links of p as a lookup does (the last component only with follow);
// it gives the path reached and what is there (nil when a component is missing, not a
// directory, or too many links were followed: the lookup fails, e.miss saying how). why is set
// when the lookup passes through a filesystem the boot mounts; an error is a path that could
// not be read.
func (e *Evaluator) resolveErr(p string, follow bool) (string, fs.FileInfo, string, error) {
	rest := strings.Split(strings.Trim(p, "/"), "/")
	cur := "/"
	e.miss = "ENOENT"
	links := 0
	for len(rest) > 0 {
		comp := rest[0]
		rest = rest[1:]
		switch comp {
		case "", ".":
			continue
		case "..":
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, comp)
		if w := e.runtimeOrMounted(next); w != "" {
			return next, nil, w, nil
		}
		fi, err := e.src.Lstat(next)
		if err != nil {
			return next, nil, "", fmt.Errorf("%s: %w", next, err)
		}
		if fi == nil {
			return next, nil, "", nil
		}
		if fi.Mode()&fs.ModeSymlink != 0 && (len(rest) > 0 || follow) {
			links++
			if links > maxSymlinks {
				e.miss = "ELOOP"
				return next, nil, "", nil // the lookup fails
			}
			t, err := e.src.ReadLink(next)
			if err != nil {
				return next, nil, "", fmt.Errorf("%s: %w", next, err)
			}
			if strings.HasPrefix(t, "/") {
				cur = "/"
			}
			rest = append(strings.Split(strings.Trim(t, "/"), "/"), rest...)
			continue
		}
		if len(rest) > 0 && !fi.IsDir() {
			e.miss = "ENOTDIR"
			return next, nil, "", nil
		}
		cur = next
		if len(rest) == 0 {
			return cur, fi, "", nil
		}
	}
	fi, err := e.src.Lstat(cur)
	if err != nil {
		return cur, nil, "", fmt.Errorf("%s: %w", cur, err)
	}
	return cur, fi, "", nil
}

// stat is resolveErr without the path reached.
func (e *Evaluator) stat(p string, follow bool) (fs.FileInfo, string, error) {
	_, fi, why, err := e.resolveErr(p, follow)
	return fi, why, err
}

// load reads once what every path condition needs: fstab's mount points and tmpfiles.d.
func (e *Evaluator) load() error {
	if e.loaded {
		return e.loadErr
	}
	e.loaded = true
	data, err := e.src.ReadFile("/etc/fstab")
	if err != nil {
		e.loadErr = fmt.Errorf("/etc/fstab: %w", err)
		return e.loadErr
	}
	if data != nil {
		ents, err := sysconf.ReadFstab(data)
		if err != nil {
			e.loadErr = fmt.Errorf("/etc/fstab %w", err)
			return e.loadErr
		}
		for _, m := range ents {
			if m.IsSwap() || !strings.HasPrefix(m.Path, "/") || path.Clean(m.Path) == "/" {
				continue
			}
			e.mounts = append(e.mounts, path.Clean(m.Path))
		}
	}
	// tmpfiles.d as systemd-tmpfiles reads it (/etc over /run over /usr/lib, a name in a more
	// specific directory hiding it below; systemd v252 src/tmpfiles/tmpfiles.c, conf-files.c)
	files, err := e.src.Shadowed("/etc/tmpfiles.d/*.conf", "/run/tmpfiles.d/*.conf", "/usr/local/lib/tmpfiles.d/*.conf", "/usr/lib/tmpfiles.d/*.conf", "/lib/tmpfiles.d/*.conf")
	if err != nil {
		e.loadErr = err
		return err
	}
	lines := 0
	for _, f := range files {
		if _, masked, err := e.src.maskTarget(f); err != nil {
			e.loadErr = fmt.Errorf("%s: %w", f, err)
			return e.loadErr
		} else if masked {
			continue
		}
		data, err := e.src.ReadFile(f)
		if err != nil {
			e.loadErr = fmt.Errorf("%s: %w", f, err)
			return e.loadErr
		}
		for i, line := range strings.Split(string(data), "\n") {
			lines++
			if lines > maxTmpfilesLines {
				e.loadErr = fmt.Errorf("%s:%d: more than %d tmpfiles.d lines", f, i+1, maxTmpfilesLines)
				return e.loadErr
			}
			fields := strings.Fields(line)
			if len(fields) < 2 || strings.HasPrefix(fields[0], "#") {
				continue
			}
			p := fields[1]
			if i := strings.IndexAny(p, "*?[%\\\""); i >= 0 {
				p = p[:i]
				if j := strings.LastIndexByte(p, '/'); j >= 0 {
					p = p[:j]
				}
			}
			if !strings.HasPrefix(fields[1], "/") && !strings.HasPrefix(fields[1], "%") {
				continue
			}
			e.tmpfiles = append(e.tmpfiles, tmpfilesPath{prefix: path.Clean("/" + p), where: fmt.Sprintf("%s:%d", f, i+1), line: strings.TrimSpace(line)})
		}
	}
	return nil
}

// glob is glob_exists (v252 src/basic/glob-util.c: glob(3) with GLOB_NOSORT|GLOB_BRACE, "."
// and ".." never listed): braces expanded first (glibc's GLOB_BRACE: the first unescaped "{"
// with its matching "}", each top-level alternative tried in turn, nested and later braces
// expanded in each; an unmatched "{" is literal); then a name starting with "." is matched only
// by a component starting with a literal "."; a wildcard component matches names read from a
// directory (a dangling link included), a literal last one must exist (lstat); a matched name
// followed by more components must be a directory (links followed).
func (e *Evaluator) glob(pattern string) (Tri, string, error) {
	if strings.Contains(pattern, "[:") || strings.Contains(pattern, "[=") || strings.Contains(pattern, "[.") {
		return Unknown, "a character class in " + pattern + " is not modelled", nil
	}
	alts, ok := expandBraces(pattern, maxBraceAlternatives)
	if !ok {
		return Unknown, fmt.Sprintf("%s expands to more than %d patterns", pattern, maxBraceAlternatives), nil
	}
	budget := maxGlobEntries
	undecided := ""
	for _, alt := range alts {
		comps := strings.Split(alt, "/")
		if slices.Contains(comps, "..") {
			if undecided == "" {
				undecided = "a \"..\" in " + alt + " (after brace expansion) is not modelled"
			}
			continue
		}
		found, why, err := e.globIn("/", comps, &budget)
		if err != nil {
			return Unknown, "", err
		}
		if found != "" {
			return e.absentGlob(alts, True, pattern+" matches "+found+" in the image")
		}
		if why != "" && undecided == "" {
			undecided = why
		}
	}
	if undecided != "" {
		return Unknown, undecided, nil
	}
	return e.absentGlob(alts, False, pattern+" matches nothing in the image")
}

// maxBraceAlternatives bounds the patterns one brace expansion gives.
const maxBraceAlternatives = 256

// expandBraces is GLOB_BRACE's expansion; ok false past max patterns.
func expandBraces(p string, max int) ([]string, bool) {
	open := -1
	for i := 0; i < len(p) && open < 0; i++ {
		switch p[i] {
		case '\\':
			i++
		case '{':
			open = i
		}
	}
	if open < 0 {
		return []string{p}, true
	}
	depth, end := 0, -1
	cuts := []int{open}
	for i := open + 1; i < len(p) && end < 0; i++ {
		switch p[i] {
		case '\\':
			i++
		case '{':
			depth++
		case '}':
			if depth == 0 {
				end = i
			} else {
				depth--
			}
		case ',':
			if depth == 0 {
				cuts = append(cuts, i)
			}
		}
	}
	if end < 0 {
		return []string{p}, true // an unmatched brace is taken literally
	}
	cuts = append(cuts, end)
	var out []string
	for i := 0; i+1 < len(cuts); i++ {
		sub, ok := expandBraces(p[:open]+p[cuts[i]+1:cuts[i+1]]+p[end+1:], max-len(out))
		if !ok || len(out)+len(sub) > max {
			return nil, false
		}
		out = append(out, sub...)
	}
	return out, true
}

// absentGlob is absent for the literal directory part of each brace alternative of a pattern
// (what comes before the component with the first wildcard): what systemd-tmpfiles makes there
// could change what the pattern matches.
func (e *Evaluator) absentGlob(alts []string, res Tri, why string) (Tri, string, error) {
	for _, alt := range alts {
		lit := alt
		if i := strings.IndexAny(lit, "*?[\\"); i >= 0 {
			lit = lit[:strings.LastIndexByte(lit[:i], '/')+1]
		}
		if r, w, err := e.absent(path.Clean("/"+lit), res, why); err != nil || r != res {
			return r, w, err
		}
	}
	return res, why, nil
}

func magic(comp string) bool {
	for i := 0; i < len(comp); i++ {
		switch comp[i] {
		case '\\':
			i++
		case '*', '?', '[':
			return true
		}
	}
	return false
}

func unescape(comp string) string {
	if !strings.Contains(comp, "\\") {
		return comp
	}
	var b strings.Builder
	for i := 0; i < len(comp); i++ {
		if comp[i] == '\\' && i+1 < len(comp) {
			i++
		}
		b.WriteByte(comp[i])
	}
	return b.String()
}

// fnmatchPeriod is fnmatch(3) with FNM_PERIOD for one name ("[!" as "[^"); ok false for a
// pattern path.Match cannot read.
func fnmatchPeriod(pat, name string) (bool, bool) {
	if strings.HasPrefix(name, ".") && !strings.HasPrefix(pat, ".") && !strings.HasPrefix(pat, "\\.") {
		return false, true
	}
	pat = strings.ReplaceAll(pat, "[!", "[^")
	m, err := path.Match(pat, name)
	if err != nil {
		return false, false
	}
	return m, true
}

func (e *Evaluator) globIn(dir string, comps []string, budget *int) (string, string, error) {
	trailing := false
	for len(comps) > 0 && (comps[0] == "" || comps[0] == ".") {
		comps, trailing = comps[1:], true
	}
	if len(comps) == 0 {
		if !trailing {
			return dir, "", nil
		}
		// "name/" (a brace alternative left it): glob(3) takes it as the name, which must
		// exist (a file too, as systemd-analyze shows)
		fi, why, err := e.stat(dir, false)
		if err != nil || why != "" || fi == nil {
			return "", why, err
		}
		return dir, "", nil
	}
	comp, rest := comps[0], comps[1:]
	if !magic(comp) {
		next := path.Join(dir, unescape(comp))
		if len(rest) == 0 {
			fi, why, err := e.stat(next, false)
			if err != nil || why != "" || fi == nil {
				return "", why, err
			}
			return next, "", nil
		}
		return e.globIn(next, rest, budget)
	}
	real, fi, why, err := e.resolveErr(dir, true)
	if err != nil || why != "" {
		return "", why, err
	}
	if fi == nil || !fi.IsDir() {
		return "", "", nil
	}
	ents, err := e.src.ReadDir(real)
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", real, err)
	}
	*budget -= len(ents)
	if *budget < 0 {
		return "", fmt.Sprintf("more than %d directory entries read for the pattern", maxGlobEntries), nil
	}
	var undecided string
	for _, ent := range ents {
		m, ok := fnmatchPeriod(comp, ent.Name())
		if !ok {
			return "", "the pattern component " + comp + " is not modelled", nil
		}
		if !m {
			continue
		}
		next := path.Join(dir, ent.Name())
		if len(rest) == 0 {
			if w := e.runtimeOrMounted(next); w != "" {
				undecided = w
				continue
			}
			return next, "", nil
		}
		found, why, err := e.globIn(next, rest, budget)
		if err != nil {
			return "", "", err
		}
		if found != "" {
			return found, "", nil
		}
		if why != "" && undecided == "" {
			undecided = why
		}
	}
	return "", undecided, nil
}

// testFirstBoot is ConditionFirstBoot=: systemd 252's PID 1 (src/core/main.c
// log_execution_mode) takes the boot for the first when /etc/machine-id is missing or
// unreadable or its first line is "uninitialized" (an empty file is not first boot in 252),
// unless systemd.condition-first-boot= on the kernel command line says otherwise, which is not
// read here; the VM made from the image boots with the image's /etc.
func (e *Evaluator) testFirstBoot(param string) (Tri, string, error) {
	want, ok := parseBoolean(param)
	if !ok {
		return errFail, param + " is not a boolean", nil
	}
	if !e.fbLoaded {
		e.fbLoaded = true
		if err := e.load(); err != nil {
			e.fbErr = err
		} else if w := e.runtimeOrMounted("/etc/machine-id"); w != "" {
			e.firstBoot, e.firstWhy = Unknown, w
		} else {
			data, err := e.src.ReadFile("/etc/machine-id")
			switch {
			case err != nil:
				e.fbErr = fmt.Errorf("/etc/machine-id: %w", err)
			case data == nil:
				e.firstBoot, e.firstWhy = True, "/etc/machine-id is missing in the image: the VM's first boot is systemd's first boot"
			default:
				line := string(data)
				if i := strings.IndexAny(line, "\n\r\x00"); i >= 0 {
					line = line[:i]
				}
				if line == "uninitialized" {
					e.firstBoot, e.firstWhy = True, "/etc/machine-id says uninitialized: the VM's first boot is systemd's first boot"
				} else {
					e.firstBoot, e.firstWhy = False, "/etc/machine-id is set in the image: systemd does not take the VM's boot for a first boot"
				}
			}
		}
	}
	if e.fbErr != nil {
		return Unknown, "", e.fbErr
	}
	if e.firstBoot == Unknown {
		return Unknown, e.firstWhy, nil
	}
	return triOf((e.firstBoot == True) == want), e.firstWhy, nil
}

// parseBoolean is systemd's parse_boolean.
func parseBoolean(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "1", "yes", "y", "true", "t", "on":
		return true, true
	case "0", "no", "n", "false", "f", "off":
		return false, true
	}
	return false, false
}

// vmIDs are systemd 252's virtualization ids of VMs (src/basic/virt.c): which one a cloud VM
// is, is not known offline.
var vmIDs = map[string]bool{"kvm": true, "amazon": true, "qemu": true, "bochs": true, "xen": true, "uml": true,
	"vmware": true, "oracle": true, "microsoft": true, "zvm": true, "parallels": true, "bhyve": true, "qnx": true,
	"acrn": true, "powervm": true, "apple": true, "sre": true, "google": true, "vm-other": true}

// testVirtualization is condition_test_virtualization for a VM (not in a user namespace, not
// a container): a boolean, "vm", "container", "private-users" and container ids decide.
func testVirtualization(param string) (Tri, string, error) {
	if param == "private-users" {
		return False, "a VM's PID 1 is not in a user namespace", nil
	}
	if b, ok := parseBoolean(param); ok {
		return triOf(b), "the image boots as a VM", nil
	}
	switch {
	case param == "vm":
		return True, "the image boots as a VM", nil
	case param == "container":
		return False, "the image boots as a VM, not a container", nil
	case vmIDs[param]:
		return Unknown, "which hypervisor (" + param + "?) runs the VM is not known offline", nil
	}
	return False, param + " is not a VM's virtualization id", nil
}
