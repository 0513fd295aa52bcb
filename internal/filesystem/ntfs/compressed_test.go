package ntfs

import "testing"

// FuzzLZNT1 decompresses arbitrary bytes: errors, never a panic or a write outside out.
func FuzzLZNT1(f *testing.F) {
	// a compressed chunk: "abc" then a back-reference copying 6 bytes from 3 back
	f.Add([]byte{0x05, 0xB0, 0x08, 'a', 'b', 'c', 0x03, 0x30})
	f.Add([]byte{0xFF, 0x3F})
	f.Fuzz(func(t *testing.T, in []byte) {
		out := make([]byte, 8192)
		LZNT1(in, out)
	})
}

func TestLZNT1BackReference(t *testing.T) {
	// flags 0b1000: three literals, then a token: at position 3, lg = 0, length bits 12:
	// length 6 (3+3), offset 3 (token>>12 = 2, +1)
	in := []byte{0x05, 0xB0, 0x08, 'a', 'b', 'c', 0x03, 0x20}
	out := make([]byte, 16)
	if err := LZNT1(in, out); err != nil {
		t.Fatal(err)
	}
	if string(out[:9]) != "abcabcabc" {
		t.Fatalf("got %q", out[:9])
	}
}
