package secrets

import (
	"bytes"
	"compress/zlib"
	"encoding/ascii85"
	"fmt"
	"io"
	"strings"
	"testing"
)

func flate(b []byte) []byte {
	var out bytes.Buffer
	w := zlib.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

// pdfDoc is a small PDF as a writer lays it out: a catalog, a page, its content stream (object
// 4, with the dictionary entries given and the data as stored), an xref table and a trailer.
func pdfDoc(dict string, data []byte, trailer string) []byte {
	var b bytes.Buffer
	var offs []int
	obj := func(s string) {
		offs = append(offs, b.Len())
		b.WriteString(s)
	}
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	obj("1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n")
	obj("2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n")
	obj("3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>\nendobj\n")
	offs = append(offs, b.Len())
	fmt.Fprintf(&b, "4 0 obj\n<< %s >>\nstream\r\n", dict)
	b.Write(data)
	b.WriteString("\r\nendstream\nendobj\n")
	obj(fmt.Sprintf("5 0 obj\n%d\nendobj\n", len(data)))
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n", len(offs)+1, trailer, xref)
	return b.Bytes()
}

var pdfText = []byte("BT /F1 10 Tf 72 720 Td (" + strings.ReplaceAll(awsKeys, "\n", ") Tj T* (") + ") Tj ET\n")

// issue #24 (FMT 5): text in a FlateDecode stream FAILs as FILE!stream N; other filters that
// are decoded (ASCII85 before Flate) too; LZW, a broken stream and an encrypted document are
// unseen with the reason.
func TestPDFStreams(t *testing.T) {
	z := flate(pdfText)
	if bytes.Contains(z, []byte(awsKeyID)) {
		t.Fatal("the key is in the compressed bytes")
	}
	var a85 bytes.Buffer
	e := ascii85.NewEncoder(&a85)
	e.Write(z)
	e.Close()
	a85.WriteString("~>")
	for _, c := range []struct {
		name, dict string
		data       []byte
	}{
		{"direct length", fmt.Sprintf("/Length %d /Filter /FlateDecode", len(z)), z},
		{"indirect length", "/Length 5 0 R /Filter /FlateDecode", z},
		{"filter array", fmt.Sprintf("/Filter [/ASCII85Decode /FlateDecode] /Length %d", a85.Len()), a85.Bytes()},
		{"abbreviation", "/Length 5 0 R /Filter /Fl", z},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := scanBytes(t, Options{}, "/opt/app/manual.pdf", pdfDoc(c.dict, c.data, ""))
			if r.err != nil || !r.foundAWS(t, "/opt/app/manual.pdf!stream 4") {
				t.Errorf("err %v, found %+v", r.err, r.found)
			}
		})
	}
	for _, c := range []struct {
		name, dict string
		data       []byte
		trailer    string
		want       string
	}{
		{"lzw", "/Length 5 0 R /Filter /LZWDecode", []byte("\x80\x0b\x60\x50\x22\x0c\x0c\x85\x01"), "", "/opt/app/x.pdf!stream 4: the LZWDecode filter, which this checker does not decode"},
		{"broken flate", "/Length 5 0 R /Filter /FlateDecode", append([]byte{0x78, 0x9c}, bytes.Repeat([]byte{0xff}, 40)...), "", "/opt/app/x.pdf!stream 4"},
		{"encrypted", "/Length 5 0 R /Filter /FlateDecode", z, "/Encrypt 6 0 R ", "/opt/app/x.pdf: an encrypted PDF"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := scanBytes(t, Options{}, "/opt/app/x.pdf", pdfDoc(c.dict, c.data, c.trailer))
			if r.err == nil || !strings.Contains(r.err.Error(), c.want) {
				t.Errorf("err %v, want %q", r.err, c.want)
			}
		})
	}
}

// Negatives: a PDF without streams, and one whose only stream is an image (DCT), open with
// nothing unseen and nothing found; a stream not compressed is the file's own bytes.
func TestPDFWithoutCompressedStreams(t *testing.T) {
	none := []byte("%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")
	r := scanBytes(t, Options{}, "/opt/app/empty.pdf", none)
	if r.err != nil || len(r.found) != 0 {
		t.Errorf("no streams: err %v, found %+v", r.err, r.found)
	}
	jpeg := append([]byte("\xff\xd8\xff\xe0\x00\x10JFIF"), bytes.Repeat([]byte{0x55}, 200)...)
	r = scanBytes(t, Options{}, "/opt/app/photo.pdf", pdfDoc(fmt.Sprintf("/Length %d /Filter /DCTDecode /Subtype /Image", len(jpeg)), jpeg, ""))
	if r.err != nil || len(r.found) != 0 {
		t.Errorf("image: err %v, found %+v", r.err, r.found)
	}
	r = scanBytes(t, Options{}, "/opt/app/plain.pdf", pdfDoc(fmt.Sprintf("/Length %d", len(pdfText)), pdfText, ""))
	if r.err != nil || !r.foundAWS(t, "/opt/app/plain.pdf") || r.foundAWS(t, "/opt/app/plain.pdf!stream 4") {
		t.Errorf("plain (searched once, as the file): err %v, found %+v", r.err, r.found)
	}
	// the header at the start, or in the first 1024 bytes after a binary prefix, not later
	if !pdfHeader(append(bytes.Repeat([]byte{0x80}, 1000), "%PDF-1.5"...)) || pdfHeader(append(bytes.Repeat([]byte{0x80}, 1020), "%PDF-1.5"...)) {
		t.Error("the header's window")
	}
	// a text file that mentions the header (and /Encrypt) is not a PDF: no error
	src := "# pdf writer\nHEADER = b\"%PDF-1.7\"\ntrailer = \"/Encrypt\"\n" + awsKeys
	if pdfHeader([]byte(src)) {
		t.Error("a text file taken for a PDF")
	}
	r = scanBytes(t, Options{}, "/usr/lib/python3/dist-packages/pdfw/writer.py", []byte(src))
	if r.err != nil || !r.foundAWS(t, "/usr/lib/python3/dist-packages/pdfw/writer.py") {
		t.Errorf("text: err %v, found %+v", r.err, r.found)
	}
}

// A stream's data ends at /Length when "endstream" follows it there, else at "endstream": a
// wrong length does not lose the stream.
func TestPDFStreamExtent(t *testing.T) {
	z := flate(pdfText)
	doc := pdfDoc(fmt.Sprintf("/Length %d /Filter /FlateDecode", len(z)+7), z, "")
	s := pdfStreams(doc)
	if len(s) != 1 || s[0].obj != 4 || !bytes.Equal(doc[s[0].from:s[0].to], z) {
		t.Fatalf("streams %+v", s)
	}
	r := scanBytes(t, Options{}, "/opt/app/len.pdf", doc)
	if r.err != nil || !r.foundAWS(t, "/opt/app/len.pdf!stream 4") {
		t.Errorf("err %v, found %+v", r.err, r.found)
	}
	// a stream without its end is named
	cut := doc[:bytes.Index(doc, []byte("endstream"))]
	r = scanBytes(t, Options{}, "/opt/app/cut.pdf", cut)
	if r.err == nil || !strings.Contains(r.err.Error(), "without endstream") {
		t.Errorf("cut: err %v", r.err)
	}
	// a stream's dictionary is looked for after the previous stream's data only
	two := pdfStreams([]byte("%PDF-1.4\n<< /Filter /LZWDecode >>\nstream\nxx\nendstream\n<< >>\nstream\nyy\nendstream\n"))
	if len(two) != 2 || len(two[0].filters) != 1 || len(two[1].filters) != 0 {
		t.Errorf("two streams: %+v", two)
	}
	// the dictionary is the stream's own object's, not an earlier object's
	objs := pdfStreams([]byte("%PDF-1.4\n1 0 obj\n<< /Filter /LZWDecode >>\nendobj\n2 0 obj\n<< /Filter /FlateDecode >>\nstream\nxx\nendstream\n"))
	if len(objs) != 1 || objs[0].obj != 2 || len(objs[0].filters) != 1 || objs[0].filters[0] != "FlateDecode" {
		t.Errorf("objects: %+v", objs)
	}
	// "stream" not followed by an end of line is not a stream keyword
	if s := pdfStreams([]byte("%PDF-1.4\n(upstream) (streams)\n")); len(s) != 0 {
		t.Errorf("words taken for streams: %+v", s)
	}
}

func FuzzPDFStreams(f *testing.F) {
	z := flate(pdfText)
	f.Add(pdfDoc(fmt.Sprintf("/Length %d /Filter /FlateDecode", len(z)), z, ""))
	f.Add(pdfDoc("/Length 5 0 R /Filter [/AHx /Fl]", []byte("78 9c>"), ""))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, s := range pdfStreams(b) {
			if s.from < 0 || s.to < s.from || s.to > len(b) {
				t.Fatalf("stream %+v outside %d bytes", s, len(b))
			}
			if s.err != nil {
				continue
			}
			r, _, err := pdfDecode(b[s.from:s.to], s.filters)
			if err == nil {
				io.Copy(io.Discard, io.LimitReader(r, 1<<20))
			}
		}
	})
}
