package secrets

// Binary bytes are searched as strings(1) sees them: every run of at least minRun printable
// ASCII characters (tab, CR and LF included, so that the lines of a PEM key stay lines), and
// every run of at least minRun printable ASCII characters stored as UTF-16 (each followed by a
// zero byte, at either alignment: little-endian text, and big-endian text read one byte on),
// each run a line of its own. Zero runs, NULs and sparse holes only separate runs: nothing ends
// the search before the file's last byte.
//
// minRun is 8: a run shorter than that cannot hold a match of any rule (the shortest is
// passwd-assignment's "pwd=" and four characters; an AWS key ID is 20, a generic API key a
// keyword, an operator and ten characters), so dropping it loses no finding, and it keeps most
// of the noise of machine code and compressed data out of the search.
const minRun = 8

// textByte is a byte of printable ASCII text.
func textByte(c byte) bool {
	return c >= 0x20 && c < 0x7f || c == '\t' || c == '\n' || c == '\r'
}

// binaryByte is a byte text files do not hold (NUL and the control characters other than tab,
// line ends, form feed, vertical tab and escape): the first one switches a file to strings mode.
func binaryByte(c byte) bool {
	return c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v' && c != 0x1b
}

// run is one strings(1) run being collected: its first minRun characters are held until the run
// is long enough; then it is live and its characters go out as they come.
type run struct {
	held []byte
	live bool
}

// extractor turns a stream of binary bytes into its strings, one run a line, keeping only
// minRun bytes (per run kind) between calls.
type extractor struct {
	ascii run
	u16   [2]run // UTF-16 runs by the parity of their first byte's offset
	prev  int    // the byte before the current one, -1 at the start
	off   int64  // offset of the next byte
	nl    bool   // the last byte written was a line end (or nothing was written yet)
}

func newExtractor() *extractor { return &extractor{prev: -1, nl: true} }

// add appends character c of run r to dst.
func (e *extractor) add(dst []byte, r *run, c byte) []byte {
	if r.live {
		e.nl = c == '\n'
		return append(dst, c)
	}
	r.held = append(r.held, c)
	if len(r.held) >= minRun {
		r.live = true
		if !e.nl {
			dst = append(dst, '\n') // a run of another kind was live: this one starts a line
		}
		dst = append(dst, r.held...)
		e.nl = c == '\n'
		r.held = r.held[:0]
	}
	return dst
}

// end closes run r: a live run ends its line; a short one is dropped.
func (e *extractor) end(dst []byte, r *run) []byte {
	if r.live && !e.nl {
		dst = append(dst, '\n')
		e.nl = true
	}
	r.live = false
	r.held = r.held[:0]
	return dst
}

func (e *extractor) idle() bool {
	return !e.ascii.live && len(e.ascii.held) == 0 && !e.u16[0].live && len(e.u16[0].held) == 0 &&
		!e.u16[1].live && len(e.u16[1].held) == 0
}

// feed appends the strings of p (which follows what was fed before) to dst.
func (e *extractor) feed(dst, p []byte) []byte {
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == 0 && e.prev == 0 && e.idle() {
			// a zero run: skip it a word at a time
			j := i
			for j+8 <= len(p) && p[j]|p[j+1]|p[j+2]|p[j+3]|p[j+4]|p[j+5]|p[j+6]|p[j+7] == 0 {
				j += 8
			}
			for j < len(p) && p[j] == 0 {
				j++
			}
			i = j - 1
			continue // prev stays 0
		}
		if textByte(c) {
			dst = e.add(dst, &e.ascii, c)
		} else if e.ascii.live || len(e.ascii.held) > 0 {
			dst = e.end(dst, &e.ascii)
		}
		// the UTF-16 code unit that ends with this byte
		if e.prev >= 0 {
			r := &e.u16[(e.off+int64(i)-1)&1]
			if pc := byte(e.prev); c == 0 && textByte(pc) {
				dst = e.add(dst, r, pc)
			} else if r.live || len(r.held) > 0 {
				dst = e.end(dst, r)
			}
		}
		e.prev = int(c)
	}
	e.off += int64(len(p))
	return dst
}

// close ends the runs at the end of the stream.
func (e *extractor) close(dst []byte) []byte {
	dst = e.end(dst, &e.ascii)
	dst = e.end(dst, &e.u16[0])
	return e.end(dst, &e.u16[1])
}
