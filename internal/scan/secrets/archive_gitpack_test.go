package secrets

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// gitRepo is a repository made by git itself, for packs to be written from.
type gitRepo struct {
	t   testing.TB
	dir string
}

func newGitRepo(t testing.TB) *gitRepo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	g := &gitRepo{t: t, dir: t.TempDir()}
	g.run(nil, "init", "-q")
	return g
}

// run runs git in the repository, stdin from in, and returns its output.
func (g *gitRepo) run(in []byte, args ...string) []byte {
	g.t.Helper()
	c := exec.Command("git", append([]string{"-c", "user.email=a@b.c", "-c", "user.name=a", "-c", "gc.auto=0"}, args...)...)
	c.Dir = g.dir
	c.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+g.dir)
	if in != nil {
		c.Stdin = bytes.NewReader(in)
	}
	var stderr bytes.Buffer
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		g.t.Fatalf("git %v: %v %s", args, err, stderr.String())
	}
	return out
}

func (g *gitRepo) id(rev string) string {
	return strings.TrimSpace(string(g.run(nil, "rev-parse", rev)))
}

func (g *gitRepo) commit(files map[string]string, msg string) {
	g.t.Helper()
	for p, content := range files {
		full := filepath.Join(g.dir, p)
		if content == "" {
			g.run(nil, "rm", "-q", p)
			continue
		}
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			g.t.Fatal(err)
		}
		g.run(nil, "add", p)
	}
	g.run(nil, "commit", "-q", "--allow-empty", "-m", msg)
}

// pack is the repository's one packfile after the commands given, and its path.
func (g *gitRepo) pack() ([]byte, string) {
	g.t.Helper()
	packs, _ := filepath.Glob(filepath.Join(g.dir, ".git", "objects", "pack", "*.pack"))
	if len(packs) != 1 {
		g.t.Fatalf("packs: %v", packs)
	}
	b, err := os.ReadFile(packs[0])
	if err != nil {
		g.t.Fatal(err)
	}
	return b, packs[0]
}

// packObject is a line of `git verify-pack -v`: the oracle for where each object is.
type packObject struct {
	id, typ      string
	size, inPack int64
	off          int64
	depth        int
	base         string
}

func (g *gitRepo) verifyPack(path string) map[string]packObject {
	g.t.Helper()
	objs := map[string]packObject{}
	for _, line := range strings.Split(string(g.run(nil, "verify-pack", "-v", path)), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 || len(f[0]) != 40 {
			continue
		}
		o := packObject{id: f[0], typ: f[1]}
		o.size, _ = strconv.ParseInt(f[2], 10, 64)
		o.inPack, _ = strconv.ParseInt(f[3], 10, 64)
		o.off, _ = strconv.ParseInt(f[4], 10, 64)
		if len(f) >= 7 {
			o.depth, _ = strconv.Atoi(f[5])
			o.base = f[6]
		}
		objs[o.id] = o
	}
	return objs
}

// filler is text a delta copies from: many lines, none a secret.
func filler(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "setting_%04d = value number %d of the application configuration\n", i, i*7)
	}
	return b.String()
}

// versions is n versions of a file, each changing ten more lines than the one before: git packs
// them as a chain of deltas, each on the next.
func versions(n int) []string {
	lines := strings.Split(strings.TrimSuffix(filler(60*n), "\n"), "\n")
	var out []string
	for v := range n {
		for j := v * 50; j < v*50+10; j++ {
			lines[j] = fmt.Sprintf("changed in version %d: %s", v, lines[j][7:])
		}
		out = append(out, strings.Join(lines, "\n")+"\n")
	}
	return out
}

// deltaRepo: app.conf in eight versions, the first (only) with the AWS key pair, deleted in a
// later commit; creds.ini with the key in HEAD; a commit whose message holds the key. Packed by
// gc --aggressive and repack -adf --depth=50 --window=250.
func deltaRepo(t *testing.T) (*gitRepo, map[string]string) {
	g := newGitRepo(t)
	vs := versions(8)
	g.commit(map[string]string{"app.conf": vs[0] + awsKeys, "README": "readme\n"}, "first")
	for _, v := range vs[1:] {
		g.commit(map[string]string{"app.conf": v}, "next")
	}
	ids := map[string]string{"old key blob": g.id("HEAD~7:app.conf"), "last": g.id("HEAD:app.conf")}
	g.commit(map[string]string{"app.conf": "", "etc/creds.ini": "; credentials\n" + awsKeys}, "remove app.conf")
	g.commit(nil, "rotate\n\n"+awsKeys)
	ids["creds"] = g.id("HEAD:etc/creds.ini")
	ids["message"] = g.id("HEAD")
	g.run(nil, "gc", "-q", "--aggressive")
	g.run(nil, "repack", "-q", "-adf", "--depth=50", "--window=250")
	return g, ids
}

// A packed clone: the key in a blob stored whole, in an old blob stored as a delta (deleted in a
// later commit), and in a commit message is found, each named PACK!/<the id git gives it>;
// nothing is left unseen.
func TestGitPackIsSearched(t *testing.T) {
	g, ids := deltaRepo(t)
	pack, path := g.pack()
	objs := g.verifyPack(path)
	if o := objs[ids["old key blob"]]; o.depth < 2 {
		t.Fatalf("git did not store the old blob as a delta on a delta: %+v", o)
	}
	p := "/opt/app/.git/objects/pack/" + filepath.Base(path)
	r := scanBytes(t, Options{}, p, pack)
	if r.err != nil {
		t.Fatalf("End: %v", r.err)
	}
	for _, what := range []string{"old key blob", "creds", "message"} {
		if !r.foundAWS(t, p+"!/"+ids[what]) {
			t.Errorf("%s (%s): not found; found %+v", what, ids[what], r.found)
		}
	}
	// the delta with no key, and a blob with none: searched (named nothing), no finding
	for _, f := range r.found {
		if strings.HasSuffix(f.Path, ids["last"]) {
			t.Errorf("a finding in a blob without the key: %+v", f)
		}
	}
	// in a tar (a stream: the pack is read into memory first)
	tb := tarBytes(t, "repo/.git/objects/pack/p.pack", pack, '0')
	r = scanBytes(t, Options{}, "/srv/backup.tar", tb)
	if r.err != nil || !r.foundAWS(t, "/srv/backup.tar!/repo/.git/objects/pack/p.pack!/"+ids["old key blob"]) {
		t.Errorf("in a tar: err %v, found %+v", r.err, r.found)
	}
	// read into memory up to maxBufferedMember; one byte larger, named, and the tar's other
	// members still searched
	tb = append(tarBytes(t, "repo/.git/objects/pack/p.pack", pack, '0'), tarBytes(t, "etc/creds.ini", []byte(awsKeys), '0')...)
	old, oldSniffed := maxBufferedMember, maxSniffedMember
	defer func() { maxBufferedMember, maxSniffedMember = old, oldSniffed }()
	maxSniffedMember = 100 // the pack is not held as a member is: read from the stream
	maxBufferedMember = int64(len(pack))
	if r := scanBytes(t, Options{}, "/srv/backup.tar", tb); r.err != nil || !r.foundAWS(t, "/srv/backup.tar!/repo/.git/objects/pack/p.pack!/"+ids["old key blob"]) {
		t.Errorf("in a tar, at the bound: err %v", r.err)
	}
	maxBufferedMember = int64(len(pack)) - 1
	r = scanBytes(t, Options{}, "/srv/backup.tar", tb)
	if r.err == nil || !strings.Contains(r.err.Error(), fmt.Sprintf("/srv/backup.tar!/repo/.git/objects/pack/p.pack: a git packfile inside an archive, larger than the %d bytes", len(pack)-1)) {
		t.Errorf("in a tar, over the bound: err %v", r.err)
	}
	if !r.foundAWS(t, "/srv/backup.tar!/etc/creds.ini") {
		t.Errorf("in a tar, over the bound: the next member not searched: %+v", r.found)
	}
}

// pack-objects without --delta-base-offset writes REF_DELTAs (bases named by id): resolved from
// the pack; a thin pack's bases are outside it: each such delta is named, with the base's id.
func TestGitPackRefDeltasAndThinPack(t *testing.T) {
	g, ids := deltaRepo(t)
	full := g.run([]byte("HEAD\n"), "pack-objects", "-q", "--revs", "--stdout")
	r := scanBytes(t, Options{}, "/p.pack", full)
	if r.err != nil || !r.foundAWS(t, "/p.pack!/"+ids["old key blob"]) || !r.foundAWS(t, "/p.pack!/"+ids["message"]) {
		t.Errorf("REF_DELTA pack: err %v, found %+v", r.err, r.found)
	}
	// a thin pack of the last commit, whose blob is a delta on one the pack leaves out
	vs := versions(3)
	g.commit(map[string]string{"etc/big.conf": vs[1]}, "big")
	g.commit(map[string]string{"etc/big.conf": vs[2] + awsKeys}, "big, changed")
	baseID := g.id("HEAD~1:etc/big.conf")
	thin := g.run([]byte("HEAD\n^HEAD~1\n"), "pack-objects", "-q", "--revs", "--thin", "--stdout")
	r = scanBytes(t, Options{}, "/thin.pack", thin)
	if r.err == nil || !strings.Contains(r.err.Error(), "a delta on object "+baseID+", which is not in this pack (a thin pack)") {
		t.Errorf("thin pack: err %v", r.err)
	}
	// the same pack completed by index-pack --fix-thin: the base appended, nothing unseen
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "thin.pack"), thin, 0o644)
	g.run(thin, "index-pack", "--stdin", "--fix-thin", filepath.Join(dir, "fixed.pack"))
	fixed, err := os.ReadFile(filepath.Join(dir, "fixed.pack"))
	if err != nil {
		t.Fatal(err)
	}
	newID := g.id("HEAD:etc/big.conf")
	r = scanBytes(t, Options{}, "/fixed.pack", fixed)
	if r.err != nil || !r.foundAWS(t, "/fixed.pack!/"+newID) {
		t.Errorf("fixed thin pack: err %v, found %+v", r.err, r.found)
	}
}

// A pack cut short, or with an object's stream corrupted, is named with the offset of the object
// that does not read; the objects before it are still searched.
func TestGitPackTruncatedOrCorrupt(t *testing.T) {
	g, ids := deltaRepo(t)
	pack, path := g.pack()
	objs := g.verifyPack(path)
	key := objs[ids["creds"]]
	if key.depth != 0 {
		t.Logf("creds.ini stored as a delta: %+v", key)
	}
	// cut inside the key's object: it is named by its offset
	cut := pack[:key.off+key.inPack/2]
	r := scanBytes(t, Options{}, "/p.pack", cut)
	if r.err == nil || !strings.Contains(r.err.Error(), fmt.Sprintf("at offset %d: zlib: unexpected EOF; it and the pack's objects after it are not seen", key.off)) {
		t.Errorf("truncated: err %v", r.err)
	}
	// the checksum cut off: every object is read, nothing unseen
	if r := scanBytes(t, Options{}, "/p.pack", pack[:len(pack)-20]); r.err != nil || !r.foundAWS(t, "/p.pack!/"+ids["creds"]) {
		t.Errorf("no checksum: err %v", r.err)
	}
	// a byte of its stream changed: named by its offset
	bad := bytes.Clone(pack)
	bad[key.off+key.inPack-6] ^= 0xff // inside the deflate data or its checksum
	r = scanBytes(t, Options{}, "/p.pack", bad)
	if r.err == nil || !strings.Contains(r.err.Error(), fmt.Sprintf("at offset %d: zlib:", key.off)) {
		t.Errorf("corrupt: err %v", r.err)
	}
	// a header that is not a pack's object type
	bad = bytes.Clone(pack)
	first := int64(1 << 62)
	for _, o := range objs {
		first = min(first, o.off)
	}
	bad[first] = bad[first]&0x8f | 5<<4
	r = scanBytes(t, Options{}, "/p.pack", bad)
	if r.err == nil || !strings.Contains(r.err.Error(), "object 1 of") || !strings.Contains(r.err.Error(), fmt.Sprintf("at offset %d: object type 5", first)) {
		t.Errorf("type 5: err %v", r.err)
	}
}

// The bounds: a chain deeper than maxGitDeltaDepth, an object over maxGitObject, the unpacking
// budget: each named, never a pass.
func TestGitPackLimits(t *testing.T) {
	g, _ := deltaRepo(t)
	pack, path := g.pack()
	objs := g.verifyPack(path)
	deepest := packObject{}
	for _, o := range objs {
		if o.depth > deepest.depth {
			deepest = o
		}
	}
	if deepest.depth < 2 {
		t.Fatalf("no chain of two deltas: %+v", objs)
	}
	old := maxGitDeltaDepth
	maxGitDeltaDepth = deepest.depth - 1
	r := scanBytes(t, Options{}, "/p.pack", pack)
	maxGitDeltaDepth = old
	if r.err == nil || !strings.Contains(r.err.Error(), fmt.Sprintf("object at offset %d: a delta chain deeper than %d", deepest.off, deepest.depth-1)) {
		t.Errorf("depth: err %v", r.err)
	}
	// at the depth the chain has, it resolves
	maxGitDeltaDepth = deepest.depth
	r = scanBytes(t, Options{}, "/p.pack", pack)
	maxGitDeltaDepth = old
	if r.err != nil {
		t.Errorf("depth %d: err %v", deepest.depth, r.err)
	}
	// the largest object (whole or a delta's result, as git cat-file gives it): at the size
	// limit it is read, one byte over it is named
	var largest int64
	for _, line := range strings.Split(strings.TrimSpace(string(g.run([]byte(strings.Join(packIDs(objs), "\n")+"\n"), "cat-file", "--batch-check"))), "\n") {
		f := strings.Fields(line)
		n, _ := strconv.ParseInt(f[len(f)-1], 10, 64)
		largest = max(largest, n)
	}
	oldSize := maxGitObject
	maxGitObject = largest
	r = scanBytes(t, Options{}, "/p.pack", pack)
	if r.err != nil {
		t.Errorf("size %d: err %v", largest, r.err)
	}
	maxGitObject = largest - 1
	r = scanBytes(t, Options{}, "/p.pack", pack)
	maxGitObject = oldSize
	if r.err == nil || !strings.Contains(r.err.Error(), fmt.Sprintf("over the %d bytes an object is held to", largest-1)) {
		t.Errorf("size %d: err %v", largest-1, r.err)
	}
	// what one chain holds at once
	oldHeld := maxGitChainHeld
	maxGitChainHeld = largest
	r = scanBytes(t, Options{}, "/p.pack", pack)
	maxGitChainHeld = oldHeld
	if r.err == nil || !strings.Contains(r.err.Error(), fmt.Sprintf("a delta chain holding more than %d bytes at once", largest)) {
		t.Errorf("held: err %v", r.err)
	}
	// a linear chain holds two objects at once (the base is let go before its last delta is
	// resolved further)
	maxGitChainHeld = 3 * largest
	r = scanBytes(t, Options{}, "/p.pack", pack)
	maxGitChainHeld = oldHeld
	if r.err != nil {
		t.Errorf("held %d: err %v", 3*largest, r.err)
	}
	// the unpacking budget: what the pack unpacks is within it at exactly that, one byte less is
	// the limit, named
	s, err := New(Options{FingerprintKey: []byte("test")})
	if err != nil {
		t.Fatal(err)
	}
	unpack := func(limit int64) (*unpacking, error) {
		restore := SetArchiveUnpackLimitForTest(limit)
		defer restore()
		w, _ := s.NewWorker()
		u := &unpacking{top: "/p.pack"}
		err := w.(*worker).openGitPack(u, "/p.pack", bytes.NewReader(pack), int64(len(pack)), 1)
		return u, err
	}
	u, err := unpack(1 << 30)
	if err != nil || u.err() != nil {
		t.Fatalf("unpack: %v %v", err, u.err())
	}
	if _, err := unpack(u.unpacked); err != nil {
		t.Errorf("budget %d: %v", u.unpacked, err)
	}
	if _, err := unpack(u.unpacked - 1); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("more than %d bytes unpacked from /p.pack", u.unpacked-1)) {
		t.Errorf("budget %d: %v", u.unpacked-1, err)
	}
	// the object count: at the limit, opened; over it, named
	oldCount := maxGitPackObjects
	maxGitPackObjects = len(objs)
	if r := scanBytes(t, Options{}, "/p.pack", pack); r.err != nil {
		t.Errorf("count %d: err %v", len(objs), r.err)
	}
	maxGitPackObjects = len(objs) - 1
	r = scanBytes(t, Options{}, "/p.pack", pack)
	maxGitPackObjects = oldCount
	if r.err == nil || !strings.Contains(r.err.Error(), fmt.Sprintf("a git packfile of %d objects (at most %d are opened)", len(objs), len(objs)-1)) {
		t.Errorf("count: err %v", r.err)
	}
}

func packIDs(m map[string]packObject) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// An object header's size must be what its stream inflates to; bytes after the pack's checksum
// are searched as the file's own.
func TestGitPackSizesAndTrailer(t *testing.T) {
	g, _ := deltaRepo(t)
	pack, path := g.pack()
	objs := g.verifyPack(path)
	readme := g.id("HEAD:README") // "readme\n": a one-byte header, size 7
	o := objs[readme]
	if o.size != 7 || o.depth != 0 {
		t.Fatalf("README: %+v", o)
	}
	for _, tc := range []struct {
		size byte
		want string
	}{
		{6, "zlib: inflates past the 6 bytes its header gives"},
		{8, "zlib: inflates to 7 bytes, its header gives 8"},
	} {
		bad := bytes.Clone(pack)
		bad[o.off] = bad[o.off]&0xf0 | tc.size
		r := scanBytes(t, Options{}, "/p.pack", bad)
		if r.err == nil || !strings.Contains(r.err.Error(), fmt.Sprintf("at offset %d: %s", o.off, tc.want)) {
			t.Errorf("size %d: err %v", tc.size, r.err)
		}
	}
	r := scanBytes(t, Options{}, "/p.pack", append(bytes.Clone(pack), awsKeys...))
	if r.err != nil || !r.foundAWS(t, "/p.pack!/<data after the pack>") {
		t.Errorf("after the pack: err %v, found %+v", r.err, r.found)
	}
}

// Deltas made by hand: the instructions git's patch_delta takes (a copy of size 0 meaning 64
// KiB), and those it refuses.
func TestGitDeltaInstructions(t *testing.T) {
	g := &packOpen{u: &unpacking{top: "t"}}
	base := bytes.Repeat([]byte("0123456789abcdef"), 1<<13) // 128 KiB
	varint := func(n int) []byte {
		var b []byte
		for n >= 0x80 {
			b = append(b, byte(n)|0x80)
			n >>= 7
		}
		return append(b, byte(n))
	}
	delta := func(result int, ins ...byte) []byte {
		return append(append(varint(len(base)), varint(result)...), ins...)
	}
	// copy 64 KiB (size bytes absent) from offset 16, then insert "xy"
	out, err := g.patch(base, delta(0x10002, 0x81, 16, 2, 'x', 'y'))
	if err != nil || !bytes.Equal(out, append(bytes.Clone(base[16:16+0x10000]), 'x', 'y')) {
		t.Errorf("copy 64 KiB: %v, %d bytes", err, len(out))
	}
	// copy 3 bytes from offset 0x010203 (three offset bytes), the last byte of the base
	last := len(base) - 3
	out, err = g.patch(base, delta(3, 0x80|0x07|0x10, byte(last), byte(last>>8), byte(last>>16), 3))
	if err != nil || string(out) != "def" {
		t.Errorf("copy at the end: %v %q", err, out)
	}
	for _, tc := range []struct {
		name  string
		delta []byte
		want  string
	}{
		{"copy past the base", delta(4, 0x80|0x07|0x10, byte(last), byte(last>>8), byte(last>>16), 4), "outside the base"},
		{"copy past the result", delta(2, 0x91, 0, 3), "outside the base or the result"},
		{"insert past the delta", delta(3, 3, 'a', 'b'), "past the delta"},
		{"insert past the result", delta(1, 2, 'a', 'b'), "past the delta or the result"},
		{"reserved 0", delta(1, 0), "reserved instruction 0"},
		{"short result", delta(3, 2, 'a', 'b'), "makes 2 bytes, its header gives 3"},
		{"wrong base size", append(varint(5), 1, 1, 'a'), "a base of 5 bytes"},
		{"copy cut short", delta(3, 0x83, 1), "cut short"},
		{"base larger than it is", append(varint(len(base)+1), 1, 1, 'a'), fmt.Sprintf("a base of %d bytes, on a base of %d", len(base)+1, len(base))},
	} {
		if _, err := g.patch(base, tc.delta); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	// a result at the object size limit is made, one byte over it is refused
	old := maxGitObject
	maxGitObject = 3
	if _, err := g.patch(base, delta(3, 3, 'a', 'b', 'c')); err != nil {
		t.Errorf("result at the limit: %v", err)
	}
	if _, err := g.patch(base, delta(4, 4, 'a', 'b', 'c', 'd')); err == nil || !strings.Contains(err.Error(), "a delta result of 4 bytes, over the 3 bytes") {
		t.Errorf("result over the limit: %v", err)
	}
	maxGitObject = old
	// what a chain holds: up to the bound, not past it
	oldHeld := maxGitChainHeld
	maxGitChainHeld = 10
	g.held = 7
	if _, err := g.patch(base, delta(3, 3, 'a', 'b', 'c')); err != nil {
		t.Errorf("held at the limit: %v", err)
	}
	g.held = 8
	if _, err := g.patch(base, delta(3, 3, 'a', 'b', 'c')); err == nil || !strings.Contains(err.Error(), "a delta chain holding more than 10 bytes at once") {
		t.Errorf("held over the limit: %v", err)
	}
	maxGitChainHeld = oldHeld
}

// Object headers made by hand, each refused with the offset named.
func TestGitPackHeaders(t *testing.T) {
	z := func(b []byte) []byte {
		var buf bytes.Buffer
		w, _ := zlib.NewWriterLevel(&buf, zlib.DefaultCompression)
		w.Write(b)
		w.Close()
		return buf.Bytes()
	}
	pack := func(count byte, objs ...[]byte) []byte {
		p := []byte{'P', 'A', 'C', 'K', 0, 0, 0, 2, 0, 0, 0, count}
		for _, o := range objs {
			p = append(p, o...)
		}
		return append(p, make([]byte, 20)...)
	}
	blob := append([]byte{0x37}, z([]byte("abcdefg"))...) // type 3, size 7
	for _, tc := range []struct {
		name string
		pack []byte
		want string
	}{
		{"delta on itself", pack(1, append([]byte{0x64, 0x00}, z([]byte{7, 1, 1, 'a'})...)), "object 1 of 1 at offset 12: a delta base 0 bytes back, outside the pack"},
		{"delta on the header", pack(1, append([]byte{0x64, 0x01}, z([]byte{7, 1, 1, 'a'})...)), "object 1 of 1 at offset 12: a delta base 1 bytes back, outside the pack"},
		{"delta one byte before the pack", pack(2, blob, append([]byte{0x64, byte(len(blob) + 1)}, z([]byte{7, 1, 1, 'a'})...)), fmt.Sprintf("object 2 of 2 at offset %d: a delta base %d bytes back, outside the pack", 12+len(blob), len(blob)+1)},
		{"size that does not end", pack(1, append([]byte{0xb0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, z(nil)...)), "object 1 of 1 at offset 12: an object header that does not end"},
		{"offset that does not end", pack(2, blob, append([]byte{0x64, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, z(nil)...)), fmt.Sprintf("object 2 of 2 at offset %d: a delta base offset that does not end", 12+len(blob))},
		{"more objects than there are", pack(3, blob, blob), "object 3 of 3 at offset"},
	} {
		r := scanBytes(t, Options{}, "/h.pack", tc.pack)
		if r.err == nil || !strings.Contains(r.err.Error(), "/h.pack: "+tc.want) {
			t.Errorf("%s: err %v, want %q", tc.name, r.err, tc.want)
		}
	}
	// the delta just inside the pack: on the blob, resolved
	ok := pack(2, blob, append([]byte{0x64, byte(len(blob))}, z([]byte{7, 1, 1, 'a'})...))
	if r := scanBytes(t, Options{}, "/h.pack", ok); r.err != nil {
		t.Errorf("delta on the first object: %v", r.err)
	}
}

// FuzzGitPack: any bytes after a pack header are read without panicking, within the unpacking
// budget; the seeds are packs git wrote and a corrupt one.
func FuzzGitPack(f *testing.F) {
	f.Add([]byte("PACK\x00\x00\x00\x02\x00\x00\x00\x01"))
	if _, err := exec.LookPath("git"); err == nil {
		g := newGitRepo(f)
		g.commit(map[string]string{"a.conf": filler(20) + awsKeys}, "one")
		g.commit(map[string]string{"a.conf": filler(25)}, "two")
		g.run(nil, "repack", "-q", "-adf")
		pack, _ := g.pack()
		f.Add(pack)
		f.Add(g.run([]byte("HEAD\n"), "pack-objects", "-q", "--revs", "--stdout"))
		f.Add(g.run([]byte("HEAD\n^HEAD~1\n"), "pack-objects", "-q", "--revs", "--thin", "--stdout"))
		bad := bytes.Clone(pack)
		bad[len(bad)/2] ^= 0x55
		f.Add(bad)
	}
	s, err := New(Options{FingerprintKey: []byte("fuzz")})
	if err != nil {
		f.Fatal(err)
	}
	old := maxArchiveUnpacked
	maxArchiveUnpacked = 4 << 20
	defer func() { maxArchiveUnpacked = old }()
	f.Fuzz(func(t *testing.T, data []byte) {
		if !bytes.HasPrefix(data, []byte("PACK")) {
			data = append([]byte("PACK\x00\x00\x00\x02"), data...)
		}
		w, _ := s.NewWorker()
		u := &unpacking{top: "fuzz"}
		w.(*worker).openGitPack(u, "fuzz", bytes.NewReader(data), int64(len(data)), 1)
		if u.unpacked > maxArchiveUnpacked+(64<<10) {
			t.Fatalf("unpacked %d bytes", u.unpacked)
		}
	})
}

// A git bundle (`git bundle create`: a text header, then a pack) of a repository whose history
// holds the key: each object is searched, named FILE!@OFFSET!/<id>; in a tar too. A bundle
// whose header does not end, or with no pack after it, is named as not searched.
func TestGitBundleIsSearched(t *testing.T) {
	g, ids := deltaRepo(t)
	for _, version := range []string{"2", "3"} {
		out := filepath.Join(t.TempDir(), "repo.bundle")
		g.run(nil, "bundle", "create", "-q", "--version="+version, out, "--all")
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		at := bytes.Index(b, []byte("\n\nPACK"))
		if at < 0 || !bytes.HasPrefix(b, []byte("# v"+version+" git bundle\n")) {
			t.Fatalf("git wrote no v%s bundle: %q", version, b[:min(len(b), 80)])
		}
		p := "/srv/backup/repo.bundle"
		r := scanBytes(t, Options{}, p, b)
		member := fmt.Sprintf("%s!@%d!/%s", p, at+2, ids["old key blob"])
		if r.err != nil || !r.foundAWS(t, member) {
			t.Errorf("v%s bundle: err %v; %s not found in %+v", version, r.err, member, r.found)
		}
		tb := tarBytes(t, "backup/repo.bundle", b, '0')
		if r := scanBytes(t, Options{}, "/srv/b.tar", tb); r.err != nil || !r.foundAWS(t, "/srv/b.tar!/"+member[len("/srv/"):]) {
			t.Errorf("v%s bundle in a tar: err %v; found %+v", version, r.err, r.found)
		}
	}
	for name, b := range map[string][]byte{
		"no blank line": []byte("# v2 git bundle\n" + strings.Repeat("0123456789abcdef0123456789abcdef01234567 refs/heads/x\n", 100)),
		"no pack":       []byte("# v2 git bundle\n0123456789abcdef0123456789abcdef01234567 refs/heads/x\n\nnot a pack\n"),
	} {
		if r := scanBytes(t, Options{}, "/srv/x.bundle", b); r.err == nil || !strings.Contains(r.err.Error(), "git bundle") {
			t.Errorf("%s: End %v, want the bundle named as not searched", name, r.err)
		}
	}
}
