package windows_test

import (
	"bytes"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/windows"
	"github.com/marketready/packer-plugin-marketplace/internal/winimage"
)

func TestPEMachineAndEventRecords(t *testing.T) {
	for _, m := range []uint16{0x8664, 0x14C, 0xAA64} {
		b := winimage.PEHeader(m)
		got, err := windows.ReadPEMachine("x.exe", bytes.NewReader(b), int64(len(b)))
		if err != nil || got != m {
			t.Errorf("machine %#x: got %#x, %v", m, got, err)
		}
	}
	for _, n := range []uint64{0, 1, 99, 100, 101, 5000} {
		b := winimage.EVTX(n)
		got, err := windows.CountEventRecords("x.evtx", bytes.NewReader(b), int64(len(b)))
		if err != nil || got != n {
			t.Errorf("%d records: got %d, %v", n, got, err)
		}
	}
	if _, err := windows.ReadPEMachine("short", bytes.NewReader([]byte("MZ")), 2); err == nil {
		t.Error("a 2-byte file has a machine type")
	}
	r := windows.ParseFirewallRule("id", `v2.31|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=8080|LPort=8443|Name=web|`)
	if r.Action != "Allow" || !r.Active || r.Dir != "In" || r.Ports != "8080,8443" || r.Name != "web" || r.Builtin() {
		t.Errorf("parsed %+v", r)
	}
}

// FuzzFileParsers feeds arbitrary bytes to the PE, EVTX and firewall-rule parsers.
func FuzzFileParsers(f *testing.F) {
	f.Add(winimage.PEHeader(0x8664))
	f.Add(winimage.EVTX(150)[:4096+65536+64])
	f.Add([]byte(`v2.31|Action=Allow|Active=TRUE|Dir=In|LPort=1|Name=@x|`))
	f.Fuzz(func(t *testing.T, b []byte) {
		windows.ReadPEMachine("fuzz", bytes.NewReader(b), int64(len(b)))
		windows.CountEventRecords("fuzz", bytes.NewReader(b), int64(len(b)))
		windows.ParseFirewallRule("fuzz", string(b))
	})
}
