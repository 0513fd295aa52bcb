// Package profile is the one vocabulary of profiles shared by the provisioner (which steps run)
// and the checker (which rules apply): a profile is a marketplace and a guest OS. It imports
// nothing of the plugin.
package profile

import (
	"fmt"
	"sort"
	"strings"
)

// The profiles.
const (
	AzureLinux     = "azure-linux"
	AzureWindows   = "azure-windows"
	Alibaba        = "alibaba"
	AlibabaWindows = "alibaba-windows"
	AWS            = "aws"
	AWSWindows     = "aws-windows"
	DigitalOcean   = "digitalocean"
	Oracle         = "oracle"
)

// The marketplaces.
const (
	MarketAzure   = "azure"
	MarketAlibaba = "alibaba"
	MarketAWS     = "aws"
	MarketDO      = "digitalocean"
	MarketOracle  = "oracle"
)

// The guest operating systems.
const (
	Linux   = "linux"
	Windows = "windows"
)

// Level is how a profile counts a rule's violation.
type Level int

const (
	// Required: the marketplace rejects an image that violates the rule; a violation fails.
	Required Level = iota
	// Advisory: the marketplace only warns; a violation is reported as a warning and never
	// blocks on this profile's account.
	Advisory
)

func (l Level) String() string {
	if l == Advisory {
		return "advisory"
	}
	return "required"
}

// MarshalText writes the level's name.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// Check is one rule as a marketplace judges it: the rule (by ID), how much a violation counts,
// and the marketplace's own name for the check.
type Check struct {
	Rule  string // the rule's ID in the catalogue (internal/rules)
	Level Level
	// ID and Name are the marketplace's own identifier and name for what it checks
	// ("GUESTOS.Fstab", "S14", a script's check message); empty where it publishes none. Azure's
	// certification test IDs travel with the rules themselves (rules.CertTest), as Microsoft's
	// report keys them.
	ID   string
	Name string
	// Source is where the marketplace states the check ("" when it is the rule's own source).
	Source string
	// Running: the marketplace checks this on a running machine; the checker decides it from
	// the disk, as the running system would.
	Running bool
}

// Profile is a marketplace's requirements for one guest OS: which rules, at what level, under
// the marketplace's own names. The data lives in one file per marketplace.
type Profile struct {
	Name        string
	Marketplace string
	OS          string
	Title       string // e.g. "Azure Marketplace, Linux"
	Source      string // the marketplace's documents the profile follows
	Checks      []Check
}

// Check finds the profile's check of a rule.
func (p Profile) Check(rule string) (Check, bool) {
	for _, c := range p.Checks {
		if c.Rule == rule {
			return c, true
		}
	}
	return Check{}, false
}

// order is the order profiles are listed in.
var order = []string{AzureLinux, AzureWindows, Alibaba, AlibabaWindows, AWS, AWSWindows, DigitalOcean, Oracle}

var all []Profile

// register adds a marketplace's profiles (called from the data files' variable declarations).
func register(ps ...Profile) bool {
	for _, p := range ps {
		for _, o := range all {
			if o.Name == p.Name {
				panic("profile: duplicate profile " + p.Name)
			}
		}
		all = append(all, p)
	}
	rank := func(name string) int {
		for i, n := range order {
			if n == name {
				return i
			}
		}
		return len(order)
	}
	sort.SliceStable(all, func(i, j int) bool { return rank(all[i].Name) < rank(all[j].Name) })
	return true
}

// All lists the profiles, in their listing order.
func All() []Profile { return append([]Profile(nil), all...) }

// Names lists the profiles.
func Names() []string {
	out := make([]string, len(all))
	for i, p := range all {
		out[i] = p.Name
	}
	return out
}

// Lookup finds a profile by its name.
func Lookup(name string) (Profile, bool) {
	for _, p := range all {
		if p.Name == name {
			return p, true
		}
	}
	return Profile{}, false
}

// For is the profile of a marketplace for a guest OS ("" is Linux).
func For(marketplace, os string) (Profile, bool) {
	if os == "" {
		os = Linux
	}
	for _, p := range all {
		if p.Marketplace == marketplace && p.OS == os {
			return p, true
		}
	}
	return Profile{}, false
}

// ForGuest resolves a profile name given for a guest whose OS may also be set ("" when not):
// the provisioner's old spelling, a bare marketplace (`azure`; `alibaba` for a Windows guest),
// is accepted and named in the returned note, which says what to write instead. A profile of
// the other OS than os is an error.
func ForGuest(name, os string) (p Profile, note string, err error) {
	if p, ok := Lookup(name); ok && (os == "" || p.OS == os) {
		return p, "", nil
	}
	if p, ok := For(name, os); ok {
		if name == MarketAzure || name == MarketAlibaba {
			return p, fmt.Sprintf("profile %q is the old spelling: write %q (profiles name a marketplace and a guest OS: %s)", name, p.Name, strings.Join(Names(), ", ")), nil
		}
		return p, fmt.Sprintf("profile %q is %s's profile for %s guests; for this %s guest %q is used: write it (profiles name a marketplace and a guest OS: %s)", name, name, Linux, os, p.Name, strings.Join(Names(), ", ")), nil
	}
	if p, ok := Lookup(name); ok {
		return Profile{}, "", fmt.Errorf("profile %q is for %s guests, but the guest is %s", name, p.OS, os)
	}
	return Profile{}, "", fmt.Errorf("unknown profile %q%s (known: %s)", name, DidYouMean(name, Names()), strings.Join(Names(), ", "))
}
