package network

import (
	"strings"
	"testing"
)

// Each kind of device spec, on eth0 of a new VM (an Ethernet NIC with a MAC address and a
// driver of the cloud's): what takes it, what does not, and what is not known offline.
func TestDeviceListTakesEth0(t *testing.T) {
	for list, want := range map[string]tri{
		"*":                                      triTrue,
		"eth1,*":                                 triTrue,
		"eth0":                                   triTrue,
		"eth*":                                   triFalse, // unqualified: an exact name, no globbing
		"eth1":                                   triFalse,
		"interface-name:eth*":                    triTrue,
		"interface-name:~e?h0":                   triTrue,
		"interface-name:=eth*":                   triFalse,
		"interface-name:=eth0":                   triTrue,
		"interface-name:ens*":                    triFalse,
		"mac:00:15:5d:01:02:03":                  triFalse,
		"00:15:5d:01:02:03":                      triFalse,
		"00-15-5D-01-02-03;eth1":                 triFalse,
		"type:ethernet":                          triTrue,
		"type:wifi":                              triFalse,
		"driver:hv_netvsc":                       triUnknown,
		"driver:hv_netvsc,eth0":                  triTrue,
		"driver:hv_netvsc,mac:00:15:5d:01:02:03": triUnknown,
		"s390-subchannels:0.0.1000":              triFalse,
		"except:interface-name:eth0":             triFalse,
		"except:interface-name:eth1":             triTrue, // except: alone: every other device
		"*,except:interface-name:eth0":           triFalse,
		"*,except:type:ethernet":                 triFalse,
		"*,except:driver:virtio_net":             triUnknown,
		"*,except:eth0":                          triTrue, // unqualified under except: is ignored
		"":                                       triFalse,
		" , ;":                                   triFalse,
		`interface-name:eth\,0`:                  triUnknown,
		"dhcp-plugin:internal":                   triUnknown,
	} {
		if got := deviceListTakesEth0(list); got != want {
			t.Errorf("%q: %v, want %v", list, got, want)
		}
	}
}

// The glob costs at most len(pattern)×len(name), whatever its stars.
func TestSimpleGlob(t *testing.T) {
	for _, c := range []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true}, {"", "", true}, {"", "a", false}, {"e*0", "eth0", true}, {"e*1", "eth0", false},
		{"?th0", "eth0", true}, {"eth0?", "eth0", false}, {"**e**t**h**0**", "eth0", true}, {"*h*h*", "eth0", false},
		{strings.Repeat("*", 5000) + "x", "ethernet", false},
	} {
		if got := simpleGlob(c.pattern, c.s); got != c.want {
			t.Errorf("simpleGlob(%q, %q) = %v", c.pattern, c.s, got)
		}
	}
}
