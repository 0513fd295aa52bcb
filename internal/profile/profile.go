// Package profile is the one vocabulary of profiles shared by the provisioner (which steps run)
// and the checker (which rules apply): a profile is a marketplace and a guest OS. It imports
// nothing of the plugin.
package profile

import (
	"fmt"
	"strings"
)

// The profiles.
const (
	AzureLinux     = "azure-linux"
	AzureWindows   = "azure-windows"
	Alibaba        = "alibaba"
	AlibabaWindows = "alibaba-windows"
)

// The marketplaces.
const (
	MarketAzure   = "azure"
	MarketAlibaba = "alibaba"
)

// The guest operating systems.
const (
	Linux   = "linux"
	Windows = "windows"
)

// Profile is a marketplace's requirements for one guest OS.
type Profile struct {
	Name        string
	Marketplace string
	OS          string
}

var all = []Profile{
	{AzureLinux, MarketAzure, Linux},
	{AzureWindows, MarketAzure, Windows},
	{Alibaba, MarketAlibaba, Linux},
	{AlibabaWindows, MarketAlibaba, Windows},
}

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
		return p, fmt.Sprintf("profile %q is the old spelling: write %q (profiles name a marketplace and a guest OS: %s)", name, p.Name, strings.Join(Names(), ", ")), nil
	}
	if p, ok := Lookup(name); ok {
		return Profile{}, "", fmt.Errorf("profile %q is for %s guests, but the guest is %s", name, p.OS, os)
	}
	return Profile{}, "", fmt.Errorf("unknown profile %q%s (known: %s)", name, DidYouMean(name, Names()), strings.Join(Names(), ", "))
}
