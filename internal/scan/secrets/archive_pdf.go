package secrets

import (
	"bytes"
	"encoding/ascii85"
	"encoding/hex"
	"fmt"
	"io"
	"regexp"
	"strconv"

	"github.com/klauspost/compress/zlib"
)

// A PDF keeps its text in streams, most of them compressed with /FlateDecode (zlib, ISO
// 32000-1 7.4.4): a secret typed into a document is in no byte of the file as written. Here,
// after the file's own bytes are searched, every stream ("stream" EOL ... "endstream", 7.3.8)
// is decoded by its /Filter chain and searched as FILE!stream N (N the object's number, or
// @OFFSET when the object has none): FlateDecode, ASCIIHexDecode and ASCII85Decode are decoded
// (as qpdf's Pl_Flate, Pl_ASCIIHexDecoder and Pl_ASCII85Decoder do, qpdf 11); an image codec
// (DCT, JPX, JBIG2, CCITTFax) ends the chain, its coded pixels searched as bytes like any image
// file's; any other filter (LZW, RunLength, Crypt, a name this checker does not know) and an
// encrypted document (an /Encrypt trailer entry, 7.6) are not seen. Bounded: the document is
// read into memory up to maxPDFBytes, a stream's dictionary is looked for at most
// maxPDFDictBack bytes before it, a stream decodes to at most the file's unpacking budget.
const (
	maxPDFBytes    = 64 << 20
	maxPDFDictBack = 64 << 10
	maxPDFStreams  = 10000
)

// pdfHeader says whether p has the PDF header "%PDF-1." or "%PDF-2." at its start, or in its
// first 1024 bytes after a binary prefix (a MacBinary header), where readers accept it (ISO
// 32000-1 7.5.2; Acrobat's implementation note 13). A text file that mentions the header after
// some text (a PDF library's source) is a text file.
func pdfHeader(p []byte) bool {
	i := bytes.Index(p[:min(len(p), 1024)], []byte("%PDF-"))
	if i < 0 || len(p) < i+7 || p[i+5] != '1' && p[i+5] != '2' || p[i+6] != '.' {
		return false
	}
	if i == 0 {
		return true
	}
	for _, c := range p[:i] {
		if c < 0x09 || c > 0x0d && c < 0x20 || c >= 0x7f {
			return true
		}
	}
	return false
}

var (
	pdfObjHead   = regexp.MustCompile(`(\d+)\s+\d+\s+obj\b`)
	pdfFilter    = regexp.MustCompile(`/Filter\s*(\[[^\]]*\]|/[^\s/\[\]<>()]+)`)
	pdfFilterArg = regexp.MustCompile(`/[^\s/\[\]<>()]+`)
	pdfLength    = regexp.MustCompile(`/Length\s+(\d+)(\s+\d+\s+R)?`)
)

// openPDF searches a PDF's bytes as the file's own, then each stream decoded.
func (w *worker) openPDF(u *unpacking, name string, ra io.ReaderAt, size int64, depth int) error {
	if err := w.searchPlain(u, name, size, io.NewSectionReader(ra, 0, size)); err != nil {
		return err
	}
	if size > maxPDFBytes {
		return fmt.Errorf("%s: a PDF of %d bytes, over the %d bytes its streams are decoded from", name, size, maxPDFBytes)
	}
	b := make([]byte, size)
	if n, err := ra.ReadAt(b, 0); int64(n) < size {
		return fmt.Errorf("%s: %w", name, err)
	}
	if bytes.Contains(b, []byte("/Encrypt")) {
		return fmt.Errorf("%s: an encrypted PDF (/Encrypt), whose streams this checker does not decrypt", name)
	}
	streams := pdfStreams(b)
	if len(streams) > maxPDFStreams {
		return fmt.Errorf("%w: %s has more than %d streams", errArchiveLimit, name, maxPDFStreams)
	}
	for _, s := range streams {
		mname := fmt.Sprintf("%s!stream %d", name, s.obj)
		if s.obj < 0 {
			mname = fmt.Sprintf("%s!stream @%d", name, s.from)
		}
		if s.err != nil {
			u.miss(fmt.Errorf("%s: %v", mname, s.err))
			continue
		}
		data, decoded, err := pdfDecode(b[s.from:s.to], s.filters)
		if err != nil {
			u.miss(fmt.Errorf("%s: %v", mname, err))
			continue
		}
		if !decoded {
			continue // no filter, or an image codec first: searched as the file's bytes
		}
		if err := w.member(u, mname, -1, countingReader{data, u}, nil, depth); err != nil {
			return err
		}
	}
	return nil
}

// pdfStream is one stream of a document: its data's bytes, the object it belongs to (-1: not
// known), its filters, or why its extent is not known.
type pdfStream struct {
	from, to int
	obj      int
	filters  []string
	err      error
}

// pdfStreams finds the streams of a document: the keyword "stream" followed by an end of line,
// the dictionary before it, and the data up to /Length bytes (when that is a direct number and
// "endstream" follows it) or to the next "endstream".
func pdfStreams(b []byte) []pdfStream {
	var out []pdfStream
	kw := []byte("stream")
	prevEnd := 0
	for i := 0; len(out) <= maxPDFStreams; {
		j := bytes.Index(b[i:], kw)
		if j < 0 {
			break
		}
		at := i + j
		i = at + len(kw)
		if at >= 3 && string(b[at-3:at]) == "end" {
			continue
		}
		start := i
		switch {
		case start+1 < len(b) && b[start] == '\r' && b[start+1] == '\n':
			start += 2
		case start < len(b) && (b[start] == '\n' || b[start] == '\r'):
			start++
		default:
			continue // "stream" inside a name or a string
		}
		// the dictionary is after the previous stream's data: each byte is looked at once
		dictFrom := max(prevEnd, at-maxPDFDictBack)
		dict := b[dictFrom:at]
		s := pdfStream{from: start, obj: -1}
		if m := pdfObjHead.FindAllSubmatchIndex(dict, -1); len(m) > 0 {
			last := m[len(m)-1]
			s.obj, _ = strconv.Atoi(string(dict[last[2]:last[3]]))
			dict = dict[last[1]:]
		}
		if m := pdfFilter.FindSubmatch(dict); m != nil {
			for _, f := range pdfFilterArg.FindAll(m[1], -1) {
				s.filters = append(s.filters, string(f[1:]))
			}
		}
		end := -1
		if m := pdfLength.FindSubmatch(dict); m != nil && m[2] == nil {
			if n, err := strconv.Atoi(string(m[1])); err == nil && n >= 0 && n <= len(b)-start {
				rest := bytes.TrimLeft(b[start+n:min(len(b), start+n+16)], "\r\n \t")
				if bytes.HasPrefix(rest, []byte("endstream")) {
					end = start + n
				}
			}
		}
		if end < 0 {
			k := bytes.Index(b[start:], []byte("endstream"))
			if k < 0 {
				s.to = len(b)
				s.err = fmt.Errorf("a stream at offset %d without endstream", start)
				out = append(out, s)
				break
			}
			end = start + k
			for end > start && (b[end-1] == '\n' || b[end-1] == '\r') {
				end--
			}
		}
		s.to = end
		out = append(out, s)
		i, prevEnd = end, end
	}
	return out
}

// pdfDecode applies a stream's filters: decoded says whether any did (else the bytes are the
// file's own, already searched).
func pdfDecode(data []byte, filters []string) (io.Reader, bool, error) {
	var r io.Reader = bytes.NewReader(data)
	decoded := false
	for _, f := range filters {
		switch f {
		case "FlateDecode", "Fl":
			z, err := zlib.NewReader(r)
			if err != nil {
				return nil, false, fmt.Errorf("FlateDecode: %v", err)
			}
			r, decoded = z, true
		case "ASCIIHexDecode", "AHx":
			h, err := hexDecode(r)
			if err != nil {
				return nil, false, err
			}
			r, decoded = h, true
		case "ASCII85Decode", "A85":
			r, decoded = ascii85.NewDecoder(&a85Trim{r: r}), true
		case "DCTDecode", "DCT", "JPXDecode", "JBIG2Decode", "CCITTFaxDecode", "CCF":
			return r, decoded, nil // pixels: what they are coded as is what is searched
		default:
			return nil, false, fmt.Errorf("the %s filter, which this checker does not decode", f)
		}
	}
	return r, decoded, nil
}

// hexDecode decodes ASCIIHexDecode data (white space ignored, ">" the end, an odd last digit
// followed by 0), read into memory up to maxBufferedMember.
func hexDecode(r io.Reader) (io.Reader, error) {
	src, err := io.ReadAll(io.LimitReader(r, 2*maxBufferedMember+1))
	if err != nil {
		return nil, fmt.Errorf("ASCIIHexDecode: %v", err)
	}
	if int64(len(src)) > 2*maxBufferedMember {
		return nil, fmt.Errorf("ASCIIHexDecode: over %d bytes", 2*maxBufferedMember)
	}
	if i := bytes.IndexByte(src, '>'); i >= 0 {
		src = src[:i]
	}
	digits := make([]byte, 0, len(src))
	for _, c := range src {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '\f' && c != 0 {
			digits = append(digits, c)
		}
	}
	if len(digits)%2 == 1 {
		digits = append(digits, '0')
	}
	out := make([]byte, len(digits)/2)
	if _, err := hex.Decode(out, digits); err != nil {
		return nil, fmt.Errorf("ASCIIHexDecode: %v", err)
	}
	return bytes.NewReader(out), nil
}

// a85Trim ends ASCII85 data at its "~>" marker, and drops the "<~" a writer may put first.
type a85Trim struct {
	r     io.Reader
	begun bool
	done  bool
}

func (a *a85Trim) Read(p []byte) (int, error) {
	if a.done {
		return 0, io.EOF
	}
	n, err := a.r.Read(p)
	q := p[:n]
	if !a.begun && n > 0 {
		a.begun = true
		if t := bytes.TrimLeft(q, " \t\r\n"); bytes.HasPrefix(t, []byte("<~")) {
			k := len(q) - len(t)
			copy(q[k:], q[k+2:])
			n -= 2
			q = p[:n]
		}
	}
	if i := bytes.IndexByte(q, '~'); i >= 0 {
		a.done = true
		return i, io.EOF
	}
	return n, err
}
