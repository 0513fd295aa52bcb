package plan

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/marketready/packer-plugin-marketplace/internal/blob"
)

// Output is a file a check writes: the option that named it and its path.
type Output struct {
	Option, Path string
}

// outputKinds are the files a check can write, by key, with the option that names each in HCL
// and on the command line.
var outputKinds = []struct{ key, hcl, flag string }{
	{"json", "json_report", "--json"},
	{"junit", "junit_report", "--junit"},
	{"mscert", "mscert_report", "--mscert"},
	{"sarif", "sarif_report", "--sarif"},
	{"alibaba-detection", "alibaba_detection_report", "--alibaba-detection"},
	{"sbom", "sbom", "--sbom"},
	{"manifest", "integrity_manifest", "--integrity-manifest"},
}

func optionName(key string, flags bool) string {
	for _, k := range outputKinds {
		if k.key == key {
			if flags {
				return k.flag
			}
			return k.hcl
		}
	}
	return key
}

// Outputs are the files the plan writes (reports, SBOM, integrity baseline), in a fixed order.
func (p *Plan) Outputs() []Output {
	var outs []Output
	for _, k := range outputKinds {
		var path string
		switch k.key {
		case "json":
			path = p.reports.JSON
		case "junit":
			path = p.reports.JUnit
		case "mscert":
			path = p.reports.MSCert
		case "sarif":
			path = p.reports.SARIF
		case "alibaba-detection":
			path = p.reports.AlibabaDetection
		case "sbom":
			path = p.sbom
		case "manifest":
			path = p.content.Manifest
		}
		if path == "" {
			continue
		}
		name := p.names[k.key]
		if name == "" {
			name = k.hcl
		}
		outs = append(outs, Output{Option: name, Path: path})
	}
	return outs
}

// CheckInputs refuses a plan that would write over one of the images it reads: an output that
// is an input by path, through a symlink (of the file or of a directory above it) or a hard
// link. A URL input is never a local file.
func (p *Plan) CheckInputs(inputs ...string) error {
	var errs []error
	for _, o := range p.Outputs() {
		for _, in := range inputs {
			if blob.IsURL(in) {
				continue
			}
			if sameFile(o.Path, in) {
				errs = append(errs, fmt.Errorf("%s %q is the image %s: writing it would destroy the image", o.Option, o.Path, in))
			}
		}
	}
	return errors.Join(errs...)
}

// CheckDistinct refuses outputs of several plans (one per image) that name one file twice: the
// second write would silently replace the first.
func CheckDistinct(plans ...*Plan) error {
	var all []Output
	for _, p := range plans {
		all = append(all, p.Outputs()...)
	}
	return errors.Join(distinct(all)...)
}

// checkOutputs validates a plan's output files before anything runs: no two are one file,
// none is an existing directory, and each can be created (its nearest existing ancestor is a
// directory a file can be created in; the directories below it are created when writing).
func checkOutputs(outs []Output) []error {
	errs := distinct(outs)
	for _, o := range outs {
		if err := creatable(o.Path); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", o.Option, o.Path, err))
		}
	}
	return errs
}

func distinct(outs []Output) []error {
	var errs []error
	for i, a := range outs {
		for _, b := range outs[:i] {
			if sameFile(a.Path, b.Path) {
				errs = append(errs, fmt.Errorf("%s %q is also %s %q: one would overwrite the other", a.Option, a.Path, b.Option, b.Path))
			}
		}
	}
	return errs
}

// sameFile reports whether two paths name one file: the same path once symlinks are resolved
// (of the file when it exists, else of the deepest directory above it that exists), or, when
// both exist, the same file by os.SameFile (hard links).
func sameFile(a, b string) bool {
	if resolve(a) == resolve(b) {
		return true
	}
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}

// resolve is path made absolute with the symlinks of its longest existing prefix resolved.
func resolve(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.Clean(path)
	}
	dir, rest := abs, ""
	for {
		if r, err := filepath.EvalSymlinks(dir); err == nil {
			return filepath.Join(r, rest)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return abs
		}
		rest = filepath.Join(filepath.Base(dir), rest)
		dir = parent
	}
}

// creatable checks that a file can be written at path: it is not a directory, and a file can
// be created in its nearest existing ancestor, which must be a directory.
func creatable(path string) error {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return errors.New("is a directory")
	}
	dir := filepath.Dir(resolve(path))
	for {
		st, err := os.Stat(dir)
		if err == nil {
			if !st.IsDir() {
				return fmt.Errorf("%s is not a directory", dir)
			}
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return err
		}
		dir = parent
	}
	// a probe file, as the write will create one: permissions, read-only mounts and
	// pseudo-filesystems (/proc) all answer truthfully only to an attempt
	f, err := os.CreateTemp(dir, ".marketplace-check-probe-*")
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("cannot create a file in %s: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}
