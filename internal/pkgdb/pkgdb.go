// Package pkgdb reads the installed-package databases of a Linux image (dpkg, rpm, apk)
// through the image's filesystem tree, offline.
package pkgdb

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

// Package is one installed package.
type Package struct {
	Name    string `json:"name"`
	Version string `json:"version"` // full version as the manager writes it (epoch:upstream-revision)
	Arch    string `json:"arch,omitempty"`
	// Source is the source package this binary package was built from (dpkg's Source:, the
	// name in rpm's SOURCERPM, apk's origin o:), SourceVersion its version when it differs
	// from Version (dpkg's "Source: name (version)"; rpm: the source rpm's version-release
	// with the package's epoch). Distributions' advisories name source packages.
	Source        string `json:"source,omitempty"`
	SourceVersion string `json:"source_version,omitempty"`
}

// SourceName is the source package's name: Source, or the package's own name when none is
// recorded (dpkg omits Source: when the names are the same).
func (p Package) SourceName() string {
	if p.Source != "" {
		return p.Source
	}
	return p.Name
}

// SourceVer is the source package's version: SourceVersion, or the package's own version.
func (p Package) SourceVer() string {
	if p.SourceVersion != "" {
		return p.SourceVersion
	}
	return p.Version
}

// Inventory is what one package manager says is installed.
type Inventory struct {
	Manager  string    `json:"manager"` // dpkg, rpm, apk
	Path     string    `json:"path"`    // the database file, in the image
	Packages []Package `json:"packages"`
}

// Find returns the installed packages whose name is one of names or matches a trailing-* prefix.
func (inv *Inventory) Find(names ...string) []Package {
	var out []Package
	for _, p := range inv.Packages {
		for _, n := range names {
			if p.Name == n || strings.HasSuffix(n, "*") && strings.HasPrefix(p.Name, strings.TrimSuffix(n, "*")) {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// Newest returns the package with the highest version among pkgs.
func Newest(pkgs []Package) (Package, bool) {
	if len(pkgs) == 0 {
		return Package{}, false
	}
	best := pkgs[0]
	for _, p := range pkgs[1:] {
		if CompareVersions(p.Version, best.Version) > 0 {
			best = p
		}
	}
	return best, true
}

// FS is what the readers need from the image: bounded whole-file reads and directory listings.
type FS interface {
	ReadFile(name string, limit int64) ([]byte, error)
	ReadDir(name string) ([]fs.DirEntry, error)
}

// ErrNoDatabase means the image has no package database we know.
var ErrNoDatabase = errors.New("no dpkg, rpm or apk package database found")

// maxDBBytes bounds how much of a text package database we read.
const maxDBBytes = 256 << 20

// Read finds and reads the image's package database: dpkg, then rpm, then apk.
func Read(fsys FS) (*Inventory, error) {
	if data, err := fsys.ReadFile("var/lib/dpkg/status", maxDBBytes); err == nil {
		pkgs, err := ParseDpkgStatus(data)
		if err != nil {
			return nil, err
		}
		// distroless images keep one status file per package in status.d
		// (a file there that cannot be read leaves packages unknown: an error, not a gap)
		ents, err := fsys.ReadDir("var/lib/dpkg/status.d")
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("/var/lib/dpkg/status.d: %w", err)
		}
		for _, e := range ents {
			if e.IsDir() {
				continue
			}
			d, err := fsys.ReadFile("var/lib/dpkg/status.d/"+e.Name(), maxDBBytes)
			if err != nil {
				return nil, fmt.Errorf("/var/lib/dpkg/status.d/%s: %w", e.Name(), err)
			}
			more, err := ParseDpkgStatus(d)
			if err != nil {
				return nil, fmt.Errorf("/var/lib/dpkg/status.d/%s: %w", e.Name(), err)
			}
			pkgs = append(pkgs, more...)
		}
		return sorted(&Inventory{Manager: "dpkg", Path: "/var/lib/dpkg/status", Packages: pkgs}), nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if inv, err := readRPM(fsys); err == nil {
		return sorted(inv), nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for _, p := range []string{"lib/apk/db/installed", "usr/lib/apk/db/installed"} {
		data, err := fsys.ReadFile(p, maxDBBytes)
		if err == nil {
			return sorted(&Inventory{Manager: "apk", Path: "/" + p, Packages: ParseApkInstalled(data)}), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	return nil, ErrNoDatabase
}

func sorted(inv *Inventory) *Inventory {
	sort.Slice(inv.Packages, func(i, j int) bool { return inv.Packages[i].Name < inv.Packages[j].Name })
	return inv
}
