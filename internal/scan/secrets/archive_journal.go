package secrets

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"
)

// A systemd journal file (/var/log/journal/*/*.journal, "LPKSHHRH") keeps each field of each
// entry ("MESSAGE=...", "_CMDLINE=...") once, in a DATA object; journald compresses a payload
// of 512 bytes or more (Compress= in journald.conf) with XZ, LZ4 or ZSTD and says so in the
// object's flags. The layout modelled is systemd 252's src/libsystemd/sd-journal/journal-def.h
// (struct Header: header_size at 88, arena_size at 96; ObjectHeader: type, flags, size; the
// DataObject payload at 64, at 72 in a file with HEADER_INCOMPATIBLE_COMPACT) and
// src/basic/compress.c (an XZ stream, an LZ4 block after its 64-bit decompressed size, a zstd
// frame). Uncompressed payloads are the file's bytes, searched as the file; the compressed ones
// are decompressed, one per line, and searched as FILE!/<compressed journal data>. An object
// that does not parse, or that cannot be decompressed, is not seen; a payload is decompressed to
// at most maxBufferedMember bytes.
const (
	journalHeaderMin  = 208 // through entry_array_offset and the realtime/monotonic stamps
	journalObjectHead = 16
	journalData       = 1
	journalMaxType    = 7 // OBJECT_TAG
	journalXZ         = 1 << 0
	journalLZ4        = 1 << 1
	journalZSTD       = 1 << 2
	journalCompact    = 1 << 4 // HEADER_INCOMPATIBLE_COMPACT
)

// openJournal searches a journal's bytes as the file's own, then its compressed payloads.
func (w *worker) openJournal(u *unpacking, name string, ra io.ReaderAt, size int64, depth int) error {
	if err := w.searchPlain(u, name, size, io.NewSectionReader(ra, 0, size)); err != nil {
		return err
	}
	h := make([]byte, journalHeaderMin)
	if n, _ := ra.ReadAt(h, 0); n < len(h) {
		return fmt.Errorf("%s: a journal header of %d bytes, shorter than %d", name, n, journalHeaderMin)
	}
	le := binary.LittleEndian
	incompat := le.Uint32(h[12:])
	hsize, arena := le.Uint64(h[88:]), le.Uint64(h[96:])
	if hsize < journalHeaderMin || hsize > uint64(size) || arena > uint64(size) {
		return fmt.Errorf("%s: journal header: header_size %d, arena_size %d in a file of %d bytes", name, hsize, arena, size)
	}
	// header flags (not the objects'): compressed XZ 1, LZ4 2, keyed hash 4, ZSTD 8, compact 16
	if incompat&^uint32(0x1f) != 0 {
		return fmt.Errorf("%s: journal: incompatible flags %#x this checker does not know", name, incompat)
	}
	payloadAt := int64(64)
	if incompat&journalCompact != 0 {
		payloadAt = 72
	}
	end := min(int64(hsize+arena), size)
	jr := &journalReader{
		u: u, name: name, payloadAt: payloadAt, end: end, at: int64(hsize),
		br: bufio.NewReaderSize(io.NewSectionReader(ra, int64(hsize), end-int64(hsize)), 64<<10),
	}
	defer jr.close()
	if err := u.member(); err != nil {
		return err
	}
	return w.searchPlain(u, name+"!/<compressed journal data>", -1, countingReader{jr, u})
}

// journalReader gives the decompressed payloads of a journal's DATA objects, one per line, the
// objects read in file order from the arena's start.
type journalReader struct {
	u         *unpacking
	name      string
	br        *bufio.Reader
	at, end   int64
	payloadAt int64
	cur       []byte // what is left of the current payload and its newline
	zd        *zstd.Decoder
	done      bool
}

func (j *journalReader) close() {
	if j.zd != nil {
		j.zd.Close()
	}
}

func (j *journalReader) Read(p []byte) (int, error) {
	for len(j.cur) == 0 {
		if j.done {
			return 0, io.EOF
		}
		if err := j.next(); err != nil {
			j.done = true
			j.u.miss(err)
			return 0, io.EOF
		}
	}
	n := copy(p, j.cur)
	j.cur = j.cur[n:]
	return n, nil
}

// next reads objects up to the next compressed DATA object and decompresses its payload; at the
// arena's end it sets done. An object that does not parse ends the reading (its size is what
// leads to the next one); one that does not decompress is named and passed.
func (j *journalReader) next() error {
	for {
		if j.at+journalObjectHead > j.end {
			j.done = true
			return nil
		}
		h, err := j.br.Peek(journalObjectHead)
		if err != nil {
			return fmt.Errorf("%s: journal object at offset %d: %v", j.name, j.at, err)
		}
		typ, flags, osize := h[0], h[1], int64(binary.LittleEndian.Uint64(h[8:]))
		if typ == 0 && osize == 0 {
			j.done = true // the unused end of the arena
			return nil
		}
		if osize < journalObjectHead || osize > j.end-j.at {
			return fmt.Errorf("%s: journal object at offset %d: size %d (the arena ends at %d)", j.name, j.at, osize, j.end)
		}
		if typ == 0 || typ > journalMaxType {
			return fmt.Errorf("%s: journal object at offset %d: unknown type %d", j.name, j.at, typ)
		}
		step := (osize + 7) &^ 7
		at := j.at
		j.at += step
		comp := flags & (journalXZ | journalLZ4 | journalZSTD)
		if typ != journalData || comp == 0 {
			if _, err := j.br.Discard(int(min(step, j.end-at))); err != nil {
				return fmt.Errorf("%s: journal object at offset %d: %v", j.name, at, err)
			}
			continue
		}
		if osize < j.payloadAt || osize-j.payloadAt > maxBufferedMember {
			j.u.miss(fmt.Errorf("%s: journal DATA object at offset %d: payload of %d bytes", j.name, at, osize-j.payloadAt))
			if _, err := j.br.Discard(int(min(step, j.end-at))); err != nil {
				return fmt.Errorf("%s: journal object at offset %d: %v", j.name, at, err)
			}
			continue
		}
		obj := make([]byte, osize)
		if _, err := io.ReadFull(j.br, obj); err != nil {
			return fmt.Errorf("%s: journal object at offset %d: %v", j.name, at, err)
		}
		if _, err := j.br.Discard(int(min(step, j.end-at) - osize)); err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("%s: journal object at offset %d: %v", j.name, at, err)
		}
		out, err := j.decompress(comp, obj[j.payloadAt:])
		if err != nil {
			j.u.miss(fmt.Errorf("%s: journal DATA object at offset %d: %v", j.name, at, err))
			continue
		}
		j.cur = append(out, '\n')
		return nil
	}
}

// decompress decodes one payload, to at most maxBufferedMember bytes.
func (j *journalReader) decompress(comp byte, src []byte) ([]byte, error) {
	limit := maxBufferedMember
	switch comp {
	case journalXZ:
		z, err := xz.ReaderConfig{DictCap: 64 << 20}.NewReader(bytes.NewReader(src))
		if err != nil {
			return nil, fmt.Errorf("xz: %v", err)
		}
		out, err := io.ReadAll(io.LimitReader(z, limit+1))
		if err != nil {
			return nil, fmt.Errorf("xz: %v", err)
		}
		if int64(len(out)) > limit {
			return nil, fmt.Errorf("xz: decompresses to more than %d bytes", limit)
		}
		return out, nil
	case journalLZ4:
		if len(src) < 8 {
			return nil, errors.New("lz4: no size")
		}
		n := binary.LittleEndian.Uint64(src)
		if n > uint64(limit) {
			return nil, fmt.Errorf("lz4: says it decompresses to %d bytes, over %d", n, limit)
		}
		out := make([]byte, n)
		got, err := lz4.UncompressBlock(src[8:], out)
		if err != nil {
			return nil, fmt.Errorf("lz4: %v", err)
		}
		if uint64(got) != n {
			return nil, fmt.Errorf("lz4: %d bytes, not the %d it says", got, n)
		}
		return out, nil
	case journalZSTD:
		if j.zd == nil {
			zd, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(uint64(limit)), zstd.WithDecoderLowmem(true))
			if err != nil {
				return nil, fmt.Errorf("zstd: %v", err)
			}
			j.zd = zd
		}
		out, err := j.zd.DecodeAll(src, nil)
		if err != nil {
			return nil, fmt.Errorf("zstd: %v", err)
		}
		return out, nil
	}
	return nil, fmt.Errorf("compression flags %#x (more than one, or unknown)", comp)
}
