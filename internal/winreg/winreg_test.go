package winreg_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
	"github.com/marketready/packer-plugin-marketplace/internal/winreg"
)

func open(t testing.TB, path string) *winreg.Hive {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h, err := winreg.Open(path, bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

const sample = `
[HKEY_LOCAL_MACHINE\HIVE\Microsoft\Windows NT\CurrentVersion]
"ProductName"="Windows Server 2022 Datacenter"
"CurrentBuild"="20348"
"UBR"=dword:00000a2b
"InstallDate"=hex(b):00,00,00,00,65,00,00,00
"Empty"=""
"Paths"=hex(7):61,00,00,00,62,00,63,00,00,00,00,00
"Blob"=hex:01,02,03

[HKEY_LOCAL_MACHINE\HIVE\Microsoft\Windows NT\CurrentVersion\Ünïcode Key]
@="default value"
`

func TestReadsWhatHivexWrote(t *testing.T) {
	var many strings.Builder
	many.WriteString(sample + "\n")
	// enough subkeys that hivex splits the list, and a value over one 16 KiB cell (big data)
	for i := 0; i < 1200; i++ {
		many.WriteString("[HKEY_LOCAL_MACHINE\\HIVE\\Many\\Key" + strings.Repeat("x", i%7) + string(rune('A'+i%26)) + "-" + itoa(i) + "]\n\n")
	}
	many.WriteString("[HKEY_LOCAL_MACHINE\\HIVE\\Big]\n\"Data\"=hex:" + strings.TrimSuffix(strings.Repeat("ab,", 40000), ",") + "\n")
	h := open(t, testfixture.Hive(t, many.String()))

	k, err := h.Key(`MICROSOFT\windows nt\CurrentVersion`)
	if err != nil {
		t.Fatal(err)
	}
	str := func(name string) string {
		v, err := k.Value(name)
		if err != nil {
			t.Fatal(err)
		}
		s, err := v.String()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if got := str("ProductName"); got != "Windows Server 2022 Datacenter" {
		t.Errorf("ProductName = %q", got)
	}
	if got := str("currentbuild"); got != "20348" {
		t.Errorf("CurrentBuild = %q", got)
	}
	if got := str("Empty"); got != "" {
		t.Errorf("Empty = %q", got)
	}
	num := func(name string) uint64 {
		v, err := k.Value(name)
		if err != nil {
			t.Fatal(err)
		}
		n, err := v.Uint()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := num("UBR"); got != 0xa2b {
		t.Errorf("UBR = %#x", got)
	}
	if got := num("InstallDate"); got != 0x6500000000 {
		t.Errorf("InstallDate = %#x", got)
	}
	v, _ := k.Value("Paths")
	if got, err := v.Strings(); err != nil || strings.Join(got, "|") != "a|bc" {
		t.Errorf("Paths = %q, %v", got, err)
	}
	v, _ = k.Value("Blob")
	if got, err := v.Data(); err != nil || !bytes.Equal(got, []byte{1, 2, 3}) {
		t.Errorf("Blob = %x, %v", got, err)
	}
	uk, err := k.Subkey("ünïcode key")
	if err != nil {
		t.Fatal(err)
	}
	if v, err := uk.Value(""); err != nil {
		t.Fatal(err)
	} else if s, _ := v.String(); s != "default value" {
		t.Errorf("default value = %q", s)
	}
	if _, err := h.Key(`Microsoft\Missing`); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing key: %v", err)
	}

	mk, err := h.Key("Many")
	if err != nil {
		t.Fatal(err)
	}
	subs, err := mk.Subkeys()
	if err != nil || len(subs) != 1200 {
		t.Fatalf("Many has %d subkeys, %v", len(subs), err)
	}
	bk, _ := h.Key("Big")
	v, err = bk.Value("Data")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := v.Data(); err != nil || !bytes.Equal(got, bytes.Repeat([]byte{0xab}, 40000)) {
		t.Fatalf("big value: %d bytes, %v", len(got), err)
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	s := ""
	for ; i > 0; i /= 10 {
		s = string(rune('0'+i%10)) + s
	}
	return s
}

// FuzzHive opens arbitrary bytes as a hive and reads every key and value.
func FuzzHive(f *testing.F) {
	b, err := os.ReadFile(testfixture.Hive(f, sample))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := winreg.Open("fuzz", bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		root, err := h.Root()
		if err != nil {
			return
		}
		root.Walk(2000, func(_ string, k *winreg.Key) error {
			vals, err := k.Values()
			for _, v := range vals {
				v.Data()
				v.String()
				v.Strings()
				v.Uint()
			}
			return err
		})
	})
}
