package secrets

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// maxMemberName bounds a member's name in a cpio or ar header (PATH_MAX is 4096).
const maxMemberName = 64 << 10

// streamPos counts the bytes a parser consumed, for the offsets its errors name.
type streamPos struct {
	br  *bufio.Reader
	off int64
}

func (s *streamPos) read(n int) ([]byte, error) {
	b := make([]byte, n)
	got, err := io.ReadFull(s.br, b)
	s.off += int64(got)
	return b, err
}

func (s *streamPos) skip(n int64) error {
	got, err := s.br.Discard(int(n))
	s.off += int64(got)
	return err
}

// limited hands n bytes to a member's search; after it, done reads past what it left.
type limited struct {
	s *streamPos
	r io.LimitedReader
}

func (s *streamPos) member(n int64) *limited {
	l := &limited{s: s}
	l.r = io.LimitedReader{R: s.br, N: n}
	return l
}

func (l *limited) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.s.off += int64(n)
	return n, err
}

// openCpio searches the members of a cpio archive (newc and crc: "070701", "070702"; odc:
// "070707"), up to its TRAILER!!! entry; every entry with data is searched (a symlink's data is
// its target).
func (w *worker) openCpio(u *unpacking, name string, br *bufio.Reader, depth int) error {
	s := &streamPos{br: br}
	corrupt := func(format string, a ...any) error {
		return fmt.Errorf("%s: cpio: offset %d: %s", name, s.off, fmt.Sprintf(format, a...))
	}
	for {
		start := s.off
		magic, err := br.Peek(6)
		if err != nil {
			return corrupt("%v", unexpected(err))
		}
		var nameSize, dataSize int64
		var pad int64 = 1         // newc pads header+name and data to 4 bytes
		hdrMagic := string(magic) // (the reads below may move what Peek returned)
		switch hdrMagic {
		case "070701", "070702":
			h, err := s.read(110)
			if err != nil {
				return corrupt("header: %v", unexpected(err))
			}
			field := func(i int) (int64, error) { return strconv.ParseInt(string(h[6+8*i:14+8*i]), 16, 64) }
			var e1, e2 error
			dataSize, e1 = field(6)
			nameSize, e2 = field(11)
			if e1 != nil || e2 != nil {
				return corrupt("header is not hexadecimal")
			}
			pad = 4
		case "070707":
			h, err := s.read(76)
			if err != nil {
				return corrupt("header: %v", unexpected(err))
			}
			var e1, e2 error
			nameSize, e1 = strconv.ParseInt(string(h[59:65]), 8, 64)
			dataSize, e2 = strconv.ParseInt(string(h[65:76]), 8, 64)
			if e1 != nil || e2 != nil {
				return corrupt("header is not octal")
			}
		default:
			return corrupt("no cpio header (%q)", magic)
		}
		if nameSize < 1 || nameSize > maxMemberName {
			return corrupt("name of %d bytes", nameSize)
		}
		nb, err := s.read(int(nameSize))
		if err != nil {
			return corrupt("name: %v", unexpected(err))
		}
		member := strings.TrimRight(string(nb), "\x00")
		perr := s.skip(padding(s.off-start, pad))
		u.initrd.header(depth, hdrMagic, member, nameSize, dataSize, s.off, perr == nil)
		if perr != nil && member != "TRAILER!!!" {
			return corrupt("%v", unexpected(perr))
		}
		if member == "TRAILER!!!" {
			return nil
		}
		if dataSize > 0 {
			l := s.member(dataSize)
			if err := w.member(u, memberPath(name, member), dataSize, countingReader{l, u}, nil, depth); err != nil {
				return err
			}
			if l.r.N > 0 {
				return corrupt("%s: data ends %d bytes early", member, l.r.N)
			}
		}
		if err := s.skip(padding(dataSize, pad)); err != nil {
			return corrupt("%v", unexpected(err))
		}
	}
}

// padding is how many bytes bring n to a multiple of align.
func padding(n, align int64) int64 {
	return (align - n%align) % align
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// openAr searches the members of an ar archive (a .deb, a static library): GNU and BSD long
// names; the symbol table is searched too.
func (w *worker) openAr(u *unpacking, name string, br *bufio.Reader, depth int) error {
	s := &streamPos{br: br}
	corrupt := func(format string, a ...any) error {
		return fmt.Errorf("%s: ar: offset %d: %s", name, s.off, fmt.Sprintf(format, a...))
	}
	if _, err := s.read(8); err != nil {
		return corrupt("%v", unexpected(err))
	}
	var longNames []byte
	for {
		if _, err := br.Peek(1); err == io.EOF {
			return nil
		}
		h, err := s.read(60)
		if err != nil {
			return corrupt("header: %v", unexpected(err))
		}
		if string(h[58:60]) != "`\n" {
			return corrupt("no member header")
		}
		size, err := strconv.ParseInt(strings.TrimSpace(string(h[48:58])), 10, 64)
		if err != nil || size < 0 {
			return corrupt("member size %q", h[48:58])
		}
		member := strings.TrimRight(string(h[:16]), " ")
		switch {
		case member == "//": // GNU long names
			if size > maxMemberName*16 {
				return corrupt("long-name table of %d bytes", size)
			}
			if longNames, err = s.read(int(size)); err != nil {
				return corrupt("long-name table: %v", unexpected(err))
			}
			if err := s.skip(size & 1); err != nil && err != io.EOF {
				return corrupt("%v", err)
			}
			continue
		case member == "/" || member == "/SYM64/":
			member = "<symbol table>"
		case strings.HasPrefix(member, "#1/"): // BSD: the name follows the header
			n, err := strconv.ParseInt(member[3:], 10, 64)
			if err != nil || n < 0 || n > size || n > maxMemberName {
				return corrupt("BSD name length %q", member)
			}
			nb, err := s.read(int(n))
			if err != nil {
				return corrupt("name: %v", unexpected(err))
			}
			member, size = strings.TrimRight(string(nb), "\x00"), size-n
		case strings.HasPrefix(member, "/"): // GNU: an offset in the long-name table
			off, err := strconv.Atoi(member[1:])
			if err != nil || off < 0 || off >= len(longNames) {
				return corrupt("long name %q", member)
			}
			member = string(longNames[off:])
			if i := strings.Index(member, "/\n"); i >= 0 {
				member = member[:i]
			} else if i := strings.IndexByte(member, '\n'); i >= 0 {
				member = member[:i]
			}
		default:
			member = strings.TrimSuffix(member, "/")
		}
		if size > 0 {
			l := s.member(size)
			if err := w.member(u, memberPath(name, member), size, countingReader{l, u}, nil, depth); err != nil {
				return err
			}
			if l.r.N > 0 {
				return corrupt("%s: data ends %d bytes early", member, l.r.N)
			}
		}
		if err := s.skip(size & 1); err != nil && err != io.EOF {
			return corrupt("%v", err)
		}
	}
}

// openRPM searches an rpm package: its lead and headers (which hold its scriptlets) as one
// member, then its payload (a compressed cpio), which the stream goes on with.
func (w *worker) openRPM(u *unpacking, name string, br *bufio.Reader, depth int) error {
	s := &streamPos{br: br}
	corrupt := func(format string, a ...any) error {
		return fmt.Errorf("%s: rpm: offset %d: %s", name, s.off, fmt.Sprintf(format, a...))
	}
	lead, err := s.read(96)
	if err != nil {
		return corrupt("lead: %v", unexpected(err))
	}
	headers := lead
	for i := 0; i < 2; i++ {
		intro, err := s.read(16)
		if err != nil {
			return corrupt("header: %v", unexpected(err))
		}
		if string(intro[:3]) != "\x8e\xad\xe8" {
			return corrupt("no header magic")
		}
		n, size := int64(binary.BigEndian.Uint32(intro[8:])), int64(binary.BigEndian.Uint32(intro[12:]))
		// rpm's own limits: 64 Ki index entries, 256 MiB of data
		if n > 0xffff || size > 256<<20 {
			return corrupt("header of %d entries and %d bytes", n, size)
		}
		body, err := s.read(int(16*n + size))
		if err != nil {
			return corrupt("header: %v", unexpected(err))
		}
		headers = append(append(headers, intro...), body...)
		if i == 0 { // the signature header is padded to 8 bytes
			if err := s.skip(padding(16+16*n+size, 8)); err != nil {
				return corrupt("%v", unexpected(err))
			}
		}
		if int64(len(headers)) > maxBufferedMember {
			return fmt.Errorf("%w: %s: rpm headers larger than %d bytes", errArchiveLimit, name, maxBufferedMember)
		}
	}
	if err := u.member(); err != nil {
		return err
	}
	// the headers start with the lead: searched as they are, never sniffed again
	err = w.searchPlain(u, name+"!/<rpm header>", int64(len(headers)), bytes.NewReader(headers))
	if err != nil && !fatal(err) {
		u.miss(err)
		err = nil
	}
	return err
}
