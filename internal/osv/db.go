package osv

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Filter picks the records a check needs: those with an affected entry of one of the
// ecosystems (exact strings: "Debian:12", "Ubuntu:22.04:LTS"), or of an ecosystem that starts
// with one of the prefixes ("Red Hat:enterprise_linux:9::", for all of a release's
// repositories), for a package Package accepts (nil: every package).
type Filter struct {
	Ecosystems []string
	Prefixes   []string
	Package    func(name string) bool
}

// Ecosystem reports whether the filter takes an ecosystem string.
func (f Filter) Ecosystem(e string) bool {
	for _, x := range f.Ecosystems {
		if e == x {
			return true
		}
	}
	for _, x := range f.Prefixes {
		if strings.HasPrefix(e, x) {
			return true
		}
	}
	return false
}

func (f Filter) keeps(a Affected) bool {
	return f.Ecosystem(a.Package.Ecosystem) && (f.Package == nil || f.Package(a.Package.Name))
}

// mayMatch is a literal test on a record's raw bytes: a record that does not hold any of the
// ecosystem strings (quoted, as JSON writes them) cannot match, and is not decoded. (An
// ecosystem written with JSON escapes would be missed: OSV's exporters write them plainly.)
func (f Filter) mayMatch(data []byte) bool {
	for _, e := range f.Ecosystems {
		if bytes.Contains(data, []byte(`"`+e+`"`)) {
			return true
		}
	}
	for _, e := range f.Prefixes {
		if bytes.Contains(data, []byte(`"`+e)) {
			return true
		}
	}
	return false
}

// DB is the records kept from a source, by package name.
type DB struct {
	Source    string
	Read      int       // records looked at
	Decoded   int       // records that held an ecosystem string and were decoded
	Kept      int       // records with an affected entry the filter keeps
	Withdrawn int       // of those decoded, withdrawn (ignored, as the schema says)
	Newest    time.Time // the newest "modified" among the records decoded
	byPackage map[string][]*Record
}

// For returns the records that affect the named package in one of the filter's ecosystems,
// ordered by ID.
func (db *DB) For(pkg string) []*Record { return db.byPackage[pkg] }

// Packages lists the packages some record affects.
func (db *DB) Packages() []string {
	out := make([]string, 0, len(db.byPackage))
	for p := range db.byPackage {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func newDB(source string) *DB { return &DB{Source: source, byPackage: map[string][]*Record{}} }

// add takes one record's bytes.
func (db *DB) add(name string, data []byte, f Filter) error {
	db.Read++
	if !f.mayMatch(data) {
		return nil
	}
	db.Decoded++
	r, err := Parse(name, data)
	if err != nil {
		return err
	}
	db.take(r, f)
	return nil
}

// take indexes a decoded record under each package of an ecosystem the filter keeps.
func (db *DB) take(r *Record, f Filter) {
	if r.Modified.After(db.Newest) {
		db.Newest = r.Modified
	}
	if r.Withdrawn != nil {
		db.Withdrawn++
		return
	}
	kept := false
	seen := map[string]bool{}
	for _, a := range r.Affected {
		if !f.keeps(a) || seen[a.Package.Name] {
			continue
		}
		seen[a.Package.Name] = true
		db.byPackage[a.Package.Name] = append(db.byPackage[a.Package.Name], r)
		kept = true
	}
	if kept {
		db.Kept++
	}
}

func (db *DB) sort() {
	for _, rs := range db.byPackage {
		sort.Slice(rs, func(i, j int) bool { return rs[i].ID < rs[j].ID })
	}
}

// ReadZip reads an OSV dump (an ecosystem's all.zip: one record per member) through random
// access, keeping what the filter keeps. Members are inflated and filtered on every core, each
// worker holding one member at a time; the records kept are added in the dump's order. A member
// that may match and cannot be read is an error naming ARCHIVE!MEMBER; so is a member over
// MaxRecordBytes.
func ReadZip(name string, ra io.ReaderAt, size int64, f Filter) (*DB, error) {
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return nil, &Error{Name: name, Err: err}
	}
	var members []*zip.File
	for _, m := range zr.File {
		if !m.FileInfo().IsDir() && strings.HasSuffix(m.Name, ".json") {
			members = append(members, m)
		}
	}
	// each member's outcome, decided by a worker; added below in order
	type outcome struct {
		matched bool // the literal test passed: the record was decoded
		rec     *Record
		err     error
	}
	out := make([]outcome, len(members))
	workers := min(runtime.GOMAXPROCS(0), max(1, len(members)))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := new(bytes.Buffer)
			for {
				i := int(next.Add(1) - 1)
				if i >= len(members) {
					return
				}
				m := members[i]
				where := name + "!" + m.Name
				data, err := readMember(m, where, buf)
				if err != nil {
					out[i] = outcome{err: err}
					continue
				}
				if !f.mayMatch(data) {
					continue
				}
				r, err := Parse(where, data)
				out[i] = outcome{matched: true, rec: r, err: err}
			}
		}()
	}
	wg.Wait()
	db := newDB(name)
	for i := range out {
		db.Read++
		o := out[i]
		if o.err != nil {
			return nil, o.err
		}
		if o.matched {
			db.Decoded++
			db.take(o.rec, f)
		}
	}
	db.sort()
	return db, nil
}

// readMember inflates one member into buf, bounded by MaxRecordBytes.
func readMember(m *zip.File, where string, buf *bytes.Buffer) ([]byte, error) {
	if m.UncompressedSize64 > MaxRecordBytes {
		return nil, &Error{Name: where, Err: fmt.Errorf("record of %d bytes, more than %d", m.UncompressedSize64, MaxRecordBytes)}
	}
	rc, err := m.Open()
	if err != nil {
		return nil, &Error{Name: where, Err: err}
	}
	defer rc.Close()
	buf.Reset()
	n, err := io.Copy(buf, io.LimitReader(rc, MaxRecordBytes+1))
	if err != nil {
		return nil, &Error{Name: where, Offset: n, Err: err}
	}
	if n > MaxRecordBytes {
		return nil, &Error{Name: where, Offset: MaxRecordBytes, Err: fmt.Errorf("record larger than %d bytes", MaxRecordBytes)}
	}
	return buf.Bytes(), nil
}

// recordInfo says whether a directory entry is a record file to read: a regular *.json file, or
// a symbolic link to one (followed). A link to a directory, or a *.json that is not a regular
// file, is an error: records there would go unread. Other entries are nil, nil.
func recordInfo(p string, d fs.DirEntry) (fs.FileInfo, error) {
	if d.Type()&fs.ModeSymlink != 0 {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if st.IsDir() {
			return nil, fmt.Errorf("%s: a symbolic link to a directory is not followed: give its target", p)
		}
		if !strings.HasSuffix(p, ".json") {
			return nil, nil
		}
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("%s: not a regular file", p)
		}
		return st, nil
	}
	if !strings.HasSuffix(p, ".json") {
		return nil, nil
	}
	if !d.Type().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", p)
	}
	return d.Info()
}

// RecordFiles lists the record files ReadDir reads under dir, with their file information
// (for the data's date).
func RecordFiles(dir string) ([]string, []fs.FileInfo, error) {
	var paths []string
	var infos []fs.FileInfo
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := recordInfo(p, d)
		if err == nil && info != nil {
			paths, infos = append(paths, p), append(infos, info)
		}
		return err
	})
	return paths, infos, err
}

// ReadDir reads every *.json file under dir (OSV's layout for a checkout of records, such as
// Canonical's osv/ directory). A symbolic link to a record is followed; one to a directory is
// an error.
func ReadDir(dir string, f Filter) (*DB, error) {
	paths, infos, err := RecordFiles(dir)
	if err != nil {
		return nil, fmt.Errorf("reading OSV records in %s: %w", dir, err)
	}
	db := newDB(dir)
	for i, p := range paths {
		if infos[i].Size() > MaxRecordBytes {
			return nil, &Error{Name: p, Offset: MaxRecordBytes, Err: fmt.Errorf("record of %d bytes, more than %d", infos[i].Size(), MaxRecordBytes)}
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("reading OSV records in %s: %w", dir, err)
		}
		if err := db.add(p, data, f); err != nil {
			return nil, err
		}
	}
	db.sort()
	return db, nil
}
