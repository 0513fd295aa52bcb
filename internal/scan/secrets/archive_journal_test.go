package secrets

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"
)

// journalField is a field's value that journald compresses (512 bytes or more) and whose
// compressed form does not hold the key as it is: words in an order that repeats little.
func journalField() string {
	rng := rand.New(rand.NewSource(24))
	words := strings.Fields("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa")
	var b strings.Builder
	for b.Len() < 3000 {
		b.WriteString(words[rng.Intn(len(words))])
		b.WriteByte(' ')
	}
	return "CREDENTIALS=" + b.String() + "\n" + awsKeys + b.String()
}

// issue #24 (FMT 6): a journal written by systemd-journal-remote (systemd 252 compresses with
// zstd a field of 512 bytes or more): the key in a compressed DATA object FAILs as
// FILE!/<compressed journal data>; uncompressed, it FAILs as the file itself.
func TestJournalFromSystemd(t *testing.T) {
	tool := "/lib/systemd/systemd-journal-remote"
	if _, err := os.Stat(tool); err != nil {
		t.Skip("systemd-journal-remote is not installed")
	}
	dir := t.TempDir()
	export := filepath.Join(dir, "entries.export")
	os.WriteFile(export, []byte("__REALTIME_TIMESTAMP=1700000000000000\n__MONOTONIC_TIMESTAMP=1\n_BOOT_ID=0123456789abcdef0123456789abcdef\nMESSAGE=provisioning\n"+strings.ReplaceAll(journalField(), "\n", " ")+"\n\n"), 0o644)
	for _, compress := range []string{"yes", "no"} {
		t.Run("compress="+compress, func(t *testing.T) {
			out := filepath.Join(dir, "remote-"+compress+".journal")
			if b, err := exec.Command(tool, "--compress="+compress, "-o", out, export).CombinedOutput(); err != nil {
				t.Fatalf("systemd-journal-remote: %v %s", err, b)
			}
			b, _ := os.ReadFile(out)
			raw := bytes.Contains(b, []byte(awsKeyID))
			name := "/var/log/journal/0123456789abcdef0123456789abcdef/system.journal"
			r := scanBytes(t, Options{}, name, b)
			want := name
			if compress == "yes" {
				if raw {
					t.Fatal("the key is in the compressed journal as it is: the test would not prove decompression")
				}
				want = name + "!/<compressed journal data>"
			} else if !raw {
				t.Fatal("an uncompressed journal without the key's bytes")
			}
			if r.err != nil || !r.foundAWS(t, want) {
				t.Errorf("err %v, want %s, found %+v", r.err, want, r.found)
			}
		})
	}
}

// handJournal is a journal laid out as journal-def.h says, with DATA objects whose payloads are
// stored with the given object flags (compression applied here) and any extra raw objects.
func handJournal(t testing.TB, compact bool, payloads []string, flags []byte, extra ...[]byte) []byte {
	t.Helper()
	const hsize = 256
	var arena bytes.Buffer
	payloadAt := 64
	if compact {
		payloadAt = 72
	}
	for i, p := range payloads {
		var stored []byte
		switch flags[i] {
		case 0:
			stored = []byte(p)
		case journalXZ:
			var b bytes.Buffer
			w, _ := xz.NewWriter(&b)
			w.Write([]byte(p))
			w.Close()
			stored = b.Bytes()
		case journalLZ4:
			dst := make([]byte, lz4.CompressBlockBound(len(p)))
			n, err := lz4.CompressBlock([]byte(p), dst, nil)
			if err != nil || n == 0 {
				t.Fatalf("lz4: %v %d", err, n)
			}
			stored = binary.LittleEndian.AppendUint64(nil, uint64(len(p)))
			stored = append(stored, dst[:n]...)
		case journalZSTD:
			e, _ := zstd.NewWriter(nil)
			stored = e.EncodeAll([]byte(p), nil)
		default:
			stored = []byte(p)
		}
		obj := make([]byte, payloadAt, payloadAt+len(stored))
		obj[0], obj[1] = journalData, flags[i]
		obj = append(obj, stored...)
		binary.LittleEndian.PutUint64(obj[8:], uint64(len(obj)))
		arena.Write(obj)
		for arena.Len()%8 != 0 {
			arena.WriteByte(0)
		}
	}
	for _, e := range extra {
		arena.Write(e)
	}
	h := make([]byte, hsize)
	copy(h, "LPKSHHRH")
	incompat := uint32(0x1 | 0x2 | 0x8)
	if compact {
		incompat |= journalCompact
	}
	binary.LittleEndian.PutUint32(h[12:], incompat)
	binary.LittleEndian.PutUint64(h[88:], hsize)
	binary.LittleEndian.PutUint64(h[96:], uint64(arena.Len()))
	out := append(h, arena.Bytes()...)
	return append(out, make([]byte, 4096)...) // journald's preallocated tail
}

func TestJournalCompressedObjects(t *testing.T) {
	field := journalField()
	for _, c := range []struct {
		name    string
		flag    byte
		compact bool
	}{
		{"xz", journalXZ, false}, {"lz4", journalLZ4, false}, {"zstd", journalZSTD, false},
		{"xz compact", journalXZ, true}, {"lz4 compact", journalLZ4, true}, {"zstd compact", journalZSTD, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := handJournal(t, c.compact, []string{"MESSAGE=hello", field}, []byte{0, c.flag})
			// LZ4 has no entropy coding: its literals are the key's bytes, which the file's
			// own search finds too; the others must hide it
			if c.flag != journalLZ4 && bytes.Contains(b, []byte(awsKeyID)) {
				t.Fatal("the key is in the journal's bytes as they are")
			}
			r := scanBytes(t, Options{}, "/var/log/journal/m/system@1.journal", b)
			if r.err != nil || !r.foundAWS(t, "/var/log/journal/m/system@1.journal!/<compressed journal data>") {
				t.Errorf("err %v, found %+v", r.err, r.found)
			}
		})
	}
}

// A payload that does not decompress, an object of an unknown type, an object running past the
// arena and an unknown incompatible flag are unseen, with the offset; the file's own bytes are
// still searched.
func TestJournalUnreadable(t *testing.T) {
	field := journalField()
	name := "/var/log/journal/m/system.journal"
	for _, c := range []struct {
		what string
		b    func() []byte
		want string
	}{
		{"corrupt payload", func() []byte {
			b := handJournal(t, false, []string{field}, []byte{journalZSTD})
			copy(b[256+64+8:], bytes.Repeat([]byte{0xee}, 32))
			return b
		}, name + ": journal DATA object at offset 256: zstd"},
		{"two compressions", func() []byte {
			return handJournal(t, false, []string{field}, []byte{journalZSTD | journalXZ})
		}, "journal DATA object at offset 256: compression flags 0x5"},
		{"unknown type", func() []byte {
			o := make([]byte, 16)
			o[0] = 9
			binary.LittleEndian.PutUint64(o[8:], 16)
			return handJournal(t, false, []string{"MESSAGE=x"}, []byte{0}, o)
		}, "journal object at offset 336: unknown type 9"},
		{"past the arena", func() []byte {
			o := make([]byte, 16)
			o[0] = 3
			binary.LittleEndian.PutUint64(o[8:], 1<<20)
			return handJournal(t, false, []string{"MESSAGE=x"}, []byte{0}, o)
		}, "journal object at offset 336: size 1048576"},
		{"unused object with a size", func() []byte {
			o := make([]byte, 16)
			binary.LittleEndian.PutUint64(o[8:], 16)
			return handJournal(t, false, []string{"MESSAGE=x"}, []byte{0}, o)
		}, "journal object at offset 336: unknown type 0"},
		{"lz4 size", func() []byte {
			b := handJournal(t, false, []string{field}, []byte{journalLZ4})
			binary.LittleEndian.PutUint64(b[256+64:], uint64(maxBufferedMember)+1)
			return b
		}, "lz4: says it decompresses to"},
		{"incompatible flag", func() []byte {
			b := handJournal(t, false, []string{field}, []byte{journalZSTD})
			b[12] |= 0x20
			return b
		}, name + ": journal: incompatible flags 0x2b"},
	} {
		t.Run(c.what, func(t *testing.T) {
			b := c.b()
			r := scanBytes(t, Options{}, name, append(b, []byte("\n"+awsKeys)...))
			if r.err == nil || !strings.Contains(r.err.Error(), c.want) {
				t.Errorf("err %v, want %q", r.err, c.want)
			}
			if !r.foundAWS(t, name) {
				t.Errorf("the file's own bytes not searched: %+v", r.found)
			}
		})
	}
}

// Payloads are searched one per line: one's end does not run into the next one's start (a
// field named by a key ID, at a word boundary only after the newline).
func TestJournalPayloadsApart(t *testing.T) {
	words := strings.Repeat("lorem ipsum dolor sit amet consectetur ", 30)
	b := handJournal(t, false, []string{"A=" + words + "end", awsKeyID + "=" + words}, []byte{journalZSTD, journalZSTD})
	r := scanBytes(t, Options{}, "/var/log/journal/m/user-1000.journal", b)
	if r.err != nil || !r.foundAWS(t, "/var/log/journal/m/user-1000.journal!/<compressed journal data>") {
		t.Errorf("err %v, found %+v", r.err, r.found)
	}
}

func FuzzJournal(f *testing.F) {
	f.Add(handJournal(f, false, []string{"MESSAGE=hello", journalField()}, []byte{0, journalZSTD}))
	f.Add(handJournal(f, true, []string{journalField()}, []byte{journalLZ4}))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < journalHeaderMin {
			return
		}
		le := binary.LittleEndian
		hsize, arena := le.Uint64(b[88:]), le.Uint64(b[96:])
		if hsize < journalHeaderMin || hsize > uint64(len(b)) || arena > uint64(len(b)) {
			return
		}
		end := min(int64(hsize+arena), int64(len(b)))
		u := &unpacking{top: "fuzz"}
		jr := &journalReader{u: u, name: "fuzz", payloadAt: 64, end: end, at: int64(hsize),
			br: bufioOf(b[hsize:end])}
		defer jr.close()
		buf := make([]byte, 64<<10)
		var total int
		for total < 8<<20 {
			n, err := jr.Read(buf)
			total += n
			if err != nil {
				break
			}
		}
		if u.nMissed > 0 && u.err() == nil {
			t.Fatal(fmt.Sprint("missed parts without an error", u.missed))
		}
	})
}

func bufioOf(b []byte) *bufio.Reader { return bufio.NewReaderSize(bytes.NewReader(b), 64<<10) }
