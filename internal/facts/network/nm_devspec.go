package network

import "strings"

// NetworkManager's device lists (no-auto-default, unmanaged-devices: "Device List Format" in
// NetworkManager.conf(5) of NetworkManager 1.42, and nm_match_spec_device in its
// src/core/nm-core-utils.c) are specs separated by "," or ";": "*" (every device), an
// interface name (exact), a MAC address, or a spec qualified by a prefix: interface-name:
// (simple globbing with * and ?; "=" before the name for an exact match, "~" for a glob),
// mac:, type:, driver:, s390-subchannels:, dhcp-plugin:, and except:SPEC, which takes out
// what SPEC matches (a list of except: entries alone matches every other device). The device
// asked about is the first NIC of a VM made from the image: an Ethernet device named eth0,
// with a MAC address and a driver of the cloud's (so a MAC never matches, and a driver is not
// known offline).

type tri int

const (
	triFalse tri = iota
	triTrue
	triUnknown
)

// deviceListTakesEth0 says whether the device list matches eth0 on a new VM.
func deviceListTakesEth0(list string) tri {
	if strings.ContainsRune(list, '\\') {
		return triUnknown // escapes of "," and ";" are not modelled
	}
	pos, exc := triFalse, triFalse
	positives, excepts := 0, 0
	for _, spec := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ';' }) {
		spec = strings.TrimSpace(spec)
		if spec == "" {
			continue
		}
		if rest, ok := strings.CutPrefix(spec, "except:"); ok {
			exc = triOr(exc, specTakesEth0(rest, true))
			excepts++
			continue
		}
		positives++
		pos = triOr(pos, specTakesEth0(spec, false))
	}
	switch {
	case positives == 0 && excepts == 0:
		return triFalse // an empty list matches nothing
	case positives == 0:
		pos = triTrue // only except: entries: every device they do not take
	}
	switch {
	case pos == triFalse || exc == triTrue:
		return triFalse
	case pos == triTrue && exc == triFalse:
		return triTrue
	}
	return triUnknown
}

func triOr(a, b tri) tri {
	switch {
	case a == triTrue || b == triTrue:
		return triTrue
	case a == triUnknown || b == triUnknown:
		return triUnknown
	}
	return triFalse
}

// specTakesEth0 is one spec's match on eth0; qualified: the spec must carry a prefix (what
// except: negates does).
func specTakesEth0(spec string, qualified bool) tri {
	if spec == "*" {
		return triTrue
	}
	prefix, rest, hasPrefix := strings.Cut(spec, ":")
	if hasPrefix && !looksLikeMAC(spec) {
		switch prefix {
		case "interface-name":
			if name, ok := strings.CutPrefix(rest, "="); ok {
				return triOf(name == "eth0")
			}
			return triOf(simpleGlob(strings.TrimPrefix(rest, "~"), "eth0"))
		case "mac":
			return triFalse // a new VM's NIC has a MAC address of its own
		case "type":
			return triOf(simpleGlob(rest, "ethernet"))
		case "s390-subchannels":
			return triFalse // no s390 channel devices on these clouds
		}
		return triUnknown // driver:, dhcp-plugin: and what NetworkManager may add
	}
	if qualified {
		return triFalse // an unqualified spec under except: is ignored
	}
	if looksLikeMAC(spec) {
		return triFalse
	}
	return triOf(spec == "eth0") // an unqualified interface name: exact, no globbing
}

func triOf(b bool) tri {
	if b {
		return triTrue
	}
	return triFalse
}

// looksLikeMAC is a hardware address as NetworkManager reads one: hex byte pairs separated by
// ":" or "-" (6 of them for Ethernet, 20 for InfiniBand).
func looksLikeMAC(s string) bool {
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == ':' || r == '-' })
	if len(parts) != 6 && len(parts) != 20 || len(s) != 3*len(parts)-1 {
		return false
	}
	for _, p := range parts {
		if len(p) != 2 || !isHex(p[0]) || !isHex(p[1]) {
			return false
		}
	}
	return true
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// simpleGlob is GLib's g_pattern_match_simple: "*" any run, "?" one character, nothing else
// special. Matched with one backtrack point (the last "*"), so any pattern costs
// len(pattern)×len(s) at most.
func simpleGlob(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			mark++
			p, i = star+1, mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
