// Package pkgver orders package versions the way each distribution's package manager does:
// Debian's dpkg (deb-version(7)), RPM's rpmvercmp over epoch, version and release, and
// Alpine's apk. An advisory's "fixed in" version means nothing under the wrong order: a
// Debian "~" or an RPM "^" sorts differently in each.
package pkgver

import "fmt"

// Order compares two versions of one ecosystem: -1, 0 or 1.
type Order func(a, b string) int

// Scheme names a version order.
type Scheme string

const (
	SchemeDebian Scheme = "deb"
	SchemeRPM    Scheme = "rpm"
	SchemeAlpine Scheme = "apk"
)

// Compare returns the scheme's order.
func (s Scheme) Compare(a, b string) int {
	switch s {
	case SchemeRPM:
		return RPM(a, b)
	case SchemeAlpine:
		return Alpine(a, b)
	default:
		return Debian(a, b)
	}
}

// Valid reports whether v is a version the scheme's package manager accepts; a version it
// would refuse cannot be ordered soundly, and matching on it is an error.
func (s Scheme) Valid(v string) error {
	switch s {
	case SchemeRPM:
		return validRPM(v)
	case SchemeAlpine:
		return validAlpine(v)
	case SchemeDebian:
		return validDebian(v)
	}
	return fmt.Errorf("unknown version scheme %q", string(s))
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}
