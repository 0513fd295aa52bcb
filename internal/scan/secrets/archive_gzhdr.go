package secrets

import (
	"bytes"
	"fmt"

	"github.com/klauspost/compress/gzip"
)

// A gzip member's header carries bytes of its own (RFC 1952 2.3.1): FEXTRA (up to 64 KiB), FNAME
// and FCOMMENT (issue #24, M6). They are searched as "STREAM [gzip header]", one line per field,
// once the stream ends (a search cannot start while the member's own is in progress).

// maxGzipHeaderText bounds what the headers of one gzip stream's members are held to: past it,
// they are not seen (a stream of many members, each with a 64 KiB extra field).
const maxGzipHeaderText = 1 << 20

type gzipHeaderText struct {
	b       bytes.Buffer
	dropped int64
}

func (t *gzipHeaderText) add(h gzip.Header) {
	for _, f := range [][]byte{h.Extra, []byte(h.Name), []byte(h.Comment)} {
		if len(f) == 0 {
			continue
		}
		if int64(t.b.Len()+len(f)+1) > maxGzipHeaderText {
			t.dropped += int64(len(f))
			continue
		}
		t.b.Write(f)
		t.b.WriteByte('\n')
	}
}

// searchGzipHeaders searches what the members' headers of the gzip stream at name carried.
func (w *worker) searchGzipHeaders(u *unpacking, name string, g *gzipMembers) error {
	if !g.seen {
		g.seen = true
		g.headers.add(g.z.Header)
	}
	if g.headers.dropped > 0 {
		u.miss(fmt.Errorf("%s: %d bytes of gzip headers past the %d held", name, g.headers.dropped, maxGzipHeaderText))
	}
	if g.headers.b.Len() == 0 {
		return nil
	}
	if err := u.member(); err != nil {
		return err
	}
	b := g.headers.b.Bytes()
	return w.searchPlain(u, name+" [gzip header]", int64(len(b)), bytes.NewReader(b))
}
