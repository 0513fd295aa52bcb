package pkgdb

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	_ "github.com/glebarez/go-sqlite" // the pure-Go SQLite driver go-rpmdb opens as "sqlite"
	rpmdb "github.com/knqyf263/go-rpmdb/pkg"
)

// rpmDatabases are where rpm keeps its database, newest layout first: SQLite (RHEL 9, Fedora,
// Azure Linux), NDB (SUSE), Berkeley DB (RHEL 7/8).
var rpmDatabases = []string{
	"usr/lib/sysimage/rpm/rpmdb.sqlite",
	"var/lib/rpm/rpmdb.sqlite",
	"usr/lib/sysimage/rpm/Packages.db",
	"var/lib/rpm/Packages.db",
	"usr/lib/sysimage/rpm/Packages",
	"var/lib/rpm/Packages",
}

// maxRPMDB bounds the database file copied out of the image.
const maxRPMDB = 512 << 20

func readRPM(fsys FS) (*Inventory, error) {
	for _, p := range rpmDatabases {
		data, err := fsys.ReadFile(p, maxRPMDB)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		// SQLite keeps committed transactions in the write-ahead log until a checkpoint.
		var wal []byte
		if filepath.Ext(p) == ".sqlite" {
			if wal, err = fsys.ReadFile(p+"-wal", maxRPMDB); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, err
			}
		}
		pkgs, err := ParseRPMDB(filepath.Base(p), data, wal)
		if err != nil {
			return nil, fmt.Errorf("/%s: %w", p, err)
		}
		return &Inventory{Manager: "rpm", Path: "/" + p, Packages: pkgs}, nil
	}
	return nil, fs.ErrNotExist
}

// ParseRPMDB reads an rpm database (SQLite, NDB or Berkeley DB) held in memory. The reader
// works on files, so the bytes go to a private temporary directory first.
func ParseRPMDB(name string, data, wal []byte) (pkgs []Package, err error) {
	dir, err := os.MkdirTemp("", "marketplace-rpmdb-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return nil, err
	}
	if len(wal) > 0 {
		if err := os.WriteFile(path+"-wal", wal, 0o600); err != nil {
			return nil, err
		}
	}
	defer func() {
		// the third-party readers are not hardened against every corrupt input
		if r := recover(); r != nil {
			pkgs, err = nil, fmt.Errorf("corrupt rpm database: %v", r)
		}
	}()
	db, err := rpmdb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening rpm database: %w", err)
	}
	defer db.Close()
	list, err := db.ListPackages()
	if err != nil {
		return nil, fmt.Errorf("reading rpm database: %w", err)
	}
	for _, p := range list {
		v := p.Version
		if p.Release != "" {
			v += "-" + p.Release
		}
		if p.Epoch != nil && *p.Epoch != 0 {
			v = strconv.Itoa(*p.Epoch) + ":" + v
		}
		pkg := Package{Name: p.Name, Version: v, Arch: p.Arch}
		if name, ver, ok := splitSourceRPM(p.SourceRpm); ok {
			pkg.Source = name
			if p.Epoch != nil && *p.Epoch != 0 {
				ver = strconv.Itoa(*p.Epoch) + ":" + ver
			}
			if ver != v {
				pkg.SourceVersion = ver
			}
		}
		pkgs = append(pkgs, pkg)
	}
	return pkgs, nil
}

// splitSourceRPM reads "openssl-3.0.7-27.el9.src.rpm" as the source package "openssl" at
// "3.0.7-27.el9" (name-version-release: the last two dashes split it).
func splitSourceRPM(s string) (name, version string, ok bool) {
	s = strings.TrimSuffix(s, ".rpm")
	if i := strings.LastIndexByte(s, '.'); i >= 0 && (s[i+1:] == "src" || s[i+1:] == "nosrc") {
		s = s[:i]
	} else {
		return "", "", false
	}
	r := strings.LastIndexByte(s, '-')
	if r <= 0 {
		return "", "", false
	}
	v := strings.LastIndexByte(s[:r], '-')
	if v <= 0 {
		return "", "", false
	}
	return s[:v], s[v+1:], true
}
