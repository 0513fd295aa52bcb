package winimage

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// HivePrefix is the key the .reg text given to MakeHive writes under: its lines name keys as
// `[HKEY_LOCAL_MACHINE\HIVE\Microsoft\...]`.
const HivePrefix = `HKEY_LOCAL_MACHINE\HIVE`

// MakeHive makes, in the directory work, a registry hive file holding the keys and values of
// reg (the text of a .reg file, "Windows Registry Editor Version 5.00" header optional): an empty
// hive written here, then hivexregedit --merge, so that the cells a reader reads were laid out
// by hivex, not by us. It returns the hive's path.
func MakeHive(work, reg string) (path string, err error) {
	defer catch(&err)
	return hive(&env{work: work}, reg), nil
}

func hive(e *env, reg string) string {
	dir := e.TempDir()
	hive := filepath.Join(dir, "hive")
	if err := os.WriteFile(hive, EmptyHive(), 0o644); err != nil {
		e.fail("%v", err)
	}
	reg = strings.TrimPrefix(strings.TrimSpace(reg), "Windows Registry Editor Version 5.00")
	// hivexregedit creates a key only under an existing parent: every ancestor of a key the
	// text names gets an empty section first
	var parents strings.Builder
	seen := map[string]bool{}
	for _, line := range strings.Split(reg, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "[") || !strings.HasSuffix(line, "]") || strings.HasPrefix(line, "[-") {
			continue
		}
		parts := strings.Split(strings.TrimPrefix(line[1:len(line)-1], HivePrefix+`\`), `\`)
		for i := 1; i < len(parts); i++ {
			p := strings.Join(parts[:i], `\`)
			if !seen[strings.ToLower(p)] {
				seen[strings.ToLower(p)] = true
				parents.WriteString("[" + HivePrefix + `\` + p + "]\n\n")
			}
		}
	}
	reg = "Windows Registry Editor Version 5.00\n\n" + parents.String() + reg + "\n"
	regFile := filepath.Join(dir, "in.reg")
	if err := os.WriteFile(regFile, []byte(strings.ReplaceAll(reg, "\n", "\r\n")), 0o644); err != nil {
		e.fail("%v", err)
	}
	cmd := exec.Command("hivexregedit", "--merge", "--prefix", HivePrefix, "--encoding", "UTF-16LE", hive, regFile)
	if b, err := cmd.CombinedOutput(); err != nil {
		e.fail("hivexregedit --merge: %v\n%s", err, b)
	}
	return hive
}

// EmptyHive is a regf file with a root key and nothing else: the base block, one 4 KiB hive
// bin holding the root key node, its security cell and one free cell.
func EmptyHive() []byte {
	le := binary.LittleEndian
	b := make([]byte, 8192)
	copy(b, "regf")
	le.PutUint32(b[4:], 1) // sequence numbers: equal, so the hive is clean
	le.PutUint32(b[8:], 1)
	le.PutUint32(b[20:], 1) // format 1.3
	le.PutUint32(b[24:], 3)
	le.PutUint32(b[32:], 1)
	le.PutUint32(b[36:], 0x20) // root key cell
	le.PutUint32(b[40:], 4096) // size of the hive bins
	le.PutUint32(b[44:], 1)
	var sum uint32
	for i := 0; i < 508; i += 4 {
		sum ^= le.Uint32(b[i:])
	}
	le.PutUint32(b[508:], sum)

	bin := b[4096:]
	copy(bin, "hbin")
	le.PutUint32(bin[8:], 4096)
	const nk, sk = 0x20, 0x80
	// root key node, 0x60 bytes with its 4-byte name "ROOT"
	c := bin[nk:]
	le.PutUint32(c, uint32(-0x60&0xFFFFFFFF))
	copy(c[4:], "nk")
	le.PutUint16(c[6:], 0x2C)          // hive entry, no delete, compressed name
	le.PutUint32(c[4+16:], 0xFFFFFFFF) // parent
	le.PutUint32(c[4+28:], 0xFFFFFFFF) // subkey list
	le.PutUint32(c[4+32:], 0xFFFFFFFF) // volatile subkey list
	le.PutUint32(c[4+40:], 0xFFFFFFFF) // value list
	le.PutUint32(c[4+44:], sk)         // security
	le.PutUint32(c[4+48:], 0xFFFFFFFF) // class
	le.PutUint16(c[4+72:], 4)
	copy(c[4+76:], "ROOT")
	// security cell: a self-relative descriptor with no owner, group or ACLs, used once
	s := bin[sk:]
	le.PutUint32(s, uint32(-0x28&0xFFFFFFFF))
	copy(s[4:], "sk")
	le.PutUint32(s[4+4:], sk)
	le.PutUint32(s[4+8:], sk)
	le.PutUint32(s[4+12:], 1)
	le.PutUint32(s[4+16:], 20)
	s[4+20] = 1
	le.PutUint16(s[4+22:], 0x8000)
	// the rest of the bin is one free cell
	le.PutUint32(bin[0xA8:], 4096-0xA8)
	return b
}
