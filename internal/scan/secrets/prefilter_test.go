package secrets

import (
	"context"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"regexp/syntax"
	"sort"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/zricethezav/gitleaks/v8/config"
	"github.com/zricethezav/gitleaks/v8/detect"
	"github.com/zricethezav/gitleaks/v8/regexp"
	"github.com/zricethezav/gitleaks/v8/report"
)

// TestMain runs every test of the package with each searched fragment also given to gitleaks'
// DetectContext, whole, as before the prefilter: any difference fails the run. This makes every
// input of the package's tests (images, archives, streams) a case of the differential test.
func TestMain(m *testing.M) {
	flag.Parse()
	var mu sync.Mutex
	var diffs []string
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		verify = func(fd *fastDetector, raw, path string, found []report.Finding) {
			if d := compareReference(fd, raw, path, found); d != "" {
				mu.Lock()
				diffs = append(diffs, d)
				mu.Unlock()
			}
		}
	}
	code := m.Run()
	if len(diffs) > 0 {
		fmt.Fprintf(os.Stderr, "the prefilter and gitleaks differ on %d fragments searched by the tests:\n", len(diffs))
		for _, d := range diffs[:min(len(diffs), 5)] {
			fmt.Fprintln(os.Stderr, d)
		}
		code = 1
	}
	os.Exit(code)
}

// findingKey is what the scanner uses of a finding, and where gitleaks says it is.
func findingKey(f report.Finding) string {
	return fmt.Sprintf("%s|%q|%q|%q|%d-%d|%d-%d|%s|%v|%s", f.RuleID, f.Secret, f.Match, f.Line,
		f.StartLine, f.EndLine, f.StartColumn, f.EndColumn, f.Description, f.Entropy, f.File)
}

func keys(fs []report.Finding) []string {
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		out = append(out, findingKey(f))
	}
	sort.Strings(out)
	return out
}

// compareReference runs gitleaks' DetectContext on the whole fragment and says how what it
// finds differs from found ("" when it does not).
func compareReference(fd *fastDetector, raw, path string, found []report.Finding) string {
	want := keys(fd.Detector.DetectContext(context.Background(), detect.Fragment{Raw: raw, FilePath: path}))
	got := keys(found)
	if strings.Join(want, "\n") == strings.Join(got, "\n") {
		return ""
	}
	return fmt.Sprintf("path %q, %d bytes %q\n  gitleaks: %q\n  prefilter: %q", path, len(raw), clip(raw), want, got)
}

func clip(s string) string {
	if len(s) > 300 {
		return s[:150] + "…" + s[len(s)-150:]
	}
	return s
}

var (
	testDetOnce sync.Once
	testDet     *fastDetector
)

func testDetector(t testing.TB) *fastDetector {
	testDetOnce.Do(func() {
		s, err := New(Options{FingerprintKey: []byte("prefilter test key")})
		if err != nil {
			t.Fatal(err)
		}
		testDet = s.det
	})
	return testDet
}

// TestPrefilterRules: nearly every rule is searched by windows around a literal; the few run
// whole are named, and the multi-line rules have a bounded span.
func TestPrefilterRules(t *testing.T) {
	fd := testDetector(t)
	var whole []string
	byID := map[string]*fastRule{}
	gated := 0
	for _, fr := range fd.rules {
		byID[fr.r.RuleID] = fr
		if fr.r.Regex != nil && fr.whole {
			whole = append(whole, fr.r.RuleID)
		}
		for _, l := range fr.lits {
			if l.gate != nil {
				gated++
			}
		}
	}
	t.Logf("%d rules, %d run on the whole fragment: %v; %d gated", len(fd.rules), len(whole), whole, gated)
	if fd.allReference {
		t.Error("every fragment is handed to gitleaks")
	}
	if got := strings.Join(foldSpecials(), " "); got != "\u0130 \u017f \u212a" {
		t.Errorf("characters folding to ASCII: %q", got)
	}
	if len(whole) > 12 {
		t.Errorf("%d rules run on the whole fragment: %v", len(whole), whole)
	}
	for _, id := range []string{"generic-api-key", "password-assignment", "passwd-assignment", "aws-access-token", "url-with-password"} {
		fr := byID[id]
		if fr == nil || fr.whole || len(fr.lits) == 0 {
			t.Fatalf("%s is not searched by literal", id)
		}
	}
	for _, id := range []string{"generic-api-key", "password-assignment", "passwd-assignment"} {
		if byID[id].lits[0].gate == nil {
			t.Errorf("%s has no second gate", id)
		}
	}
	// spans: the PuTTY key is a few lines around its literal; the debconf entry starts a line
	// before its literal and (its expression allows any number of fields before Value:) may
	// end anywhere after it
	if l := byID["putty-private-key"].lits[0]; l.preNL == unbounded || l.postN == unbounded || l.postN > 50 {
		t.Errorf("putty-private-key: span in lines %+v", l)
	}
	if l := byID["installer-debconf-password"].lits[0]; l.preNL == unbounded || l.preNL > 1 {
		t.Errorf("installer-debconf-password: span in lines %+v", l)
	}
	if l := byID["aws-access-token"].lits[0]; l.pre == unbounded || l.post == unbounded || l.post > 64 {
		t.Errorf("aws-access-token: span %+v", l)
	}
}

// TestPrefilterWindow: the local string of an occurrence starts before any match can and ends
// after any match can, at a rune start.
func TestPrefilterWindow(t *testing.T) {
	l := &literal{pre: 3, preNL: unbounded, post: 4, postN: unbounded}
	raw := "0123456789abcdefghij"
	if w := window(raw, 10, 2, l); w.ls != 6 || w.le != 17 {
		t.Errorf("bytes: window %+v, want [6,17)", w)
	}
	// a match starting at 7 is possible, so 7 is never the local start: the local start sees
	// no context of its own
	l = &literal{pre: unbounded, preNL: 0, post: unbounded, postN: 0}
	raw = "aa\nbb KEY cc\ndd"
	if w := window(raw, 6, 3, l); w.ls != 2 || w.le != 13 {
		t.Errorf("lines: window %+v (%q), want [2,13)", w, raw[w.ls:w.le])
	}
	l = &literal{pre: unbounded, preNL: 1, post: unbounded, postN: 1}
	raw = "aa\nbb\ncc KEY\ndd\nee"
	if w := window(raw, 9, 3, l); w.ls != 2 || w.le != 16 {
		t.Errorf("one line more: window %+v (%q), want [2,16)", w, raw[w.ls:w.le])
	}
	l = &literal{pre: 2, preNL: unbounded, post: 0, postN: unbounded}
	raw = "ééKEY"
	if w := window(raw, 4, 3, l); w.ls != 0 || !utf8.RuneStart(raw[w.ls]) {
		t.Errorf("runes: window %+v", w)
	}
}

// TestPrefilterGate: the generic rule's gate passes an assignment and rejects the keyword in
// running text.
func TestPrefilterGate(t *testing.T) {
	fd := testDetector(t)
	var g gateNode
	for _, fr := range fd.rules {
		if fr.r.RuleID == "generic-api-key" {
			g = fr.lits[0].gate
		}
	}
	for _, c := range []struct {
		text string
		want bool
	}{
		{"token = \"a8Fk2mQp9Lw4Zt8Vb3Nc\"", true},
		{"token: a8Fk2mQp9Lw4Zt8Vb3Nc", true},
		{"token_for_service=a8Fk2mQp9Lw4Zt8Vb3Nc", true},
		{"token was refreshed after the session expired", false},
		{"token=ok", false},
		{"tokens", false},
		// the value's second form ([a-z0-9][a-z0-9+/]{11,}) is open-ended: the outline stops
		// there and passes, it does not go on to the terminator at the minimum length
		{"token = \"ab+cdefghijkl/mnopqrs\"", true},
	} {
		if got, _ := gateMatch(g, c.text, len("token"), nil); got != c.want {
			t.Errorf("gate on %q = %v, want %v", c.text, got, c.want)
		}
	}
}

// genMatch writes a random string the expression (mostly) matches.
func genMatch(rng *rand.Rand, re *syntax.Regexp, b *strings.Builder) {
	switch re.Op {
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			if re.Flags&syntax.FoldCase != 0 && rng.Intn(2) == 0 {
				r = []rune(strings.ToUpper(string(r)))[0]
			}
			b.WriteRune(r)
		}
	case syntax.OpCharClass:
		if len(re.Rune) == 0 {
			return
		}
		// mostly ASCII members, a quarter of the time any member (multi-byte runes)
		wide := rng.Intn(4) == 0
		for try := 0; try < 8; try++ {
			i := rng.Intn(len(re.Rune)/2) * 2
			lo, hi := re.Rune[i], re.Rune[i+1]
			if lo >= 0x80 && try < 7 && !wide {
				continue
			}
			if hi >= 0x80 && try < 7 && !wide {
				hi = 0x7f
			}
			if wide && hi > lo+0x3000 {
				hi = lo + 0x3000 // runes of two and three bytes, mostly
			}
			if hi < lo {
				continue
			}
			r := lo + rune(rng.Intn(int(hi-lo)+1))
			if r == 0 || !utf8.ValidRune(r) {
				r = 'x'
			}
			b.WriteRune(r)
			return
		}
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteByte(byte('!' + rng.Intn(90)))
	case syntax.OpCapture:
		genMatch(rng, re.Sub[0], b)
	case syntax.OpConcat:
		for _, s := range re.Sub {
			genMatch(rng, s, b)
		}
	case syntax.OpAlternate:
		genMatch(rng, re.Sub[rng.Intn(len(re.Sub))], b)
	case syntax.OpQuest:
		if rng.Intn(2) == 0 {
			genMatch(rng, re.Sub[0], b)
		}
	case syntax.OpStar, syntax.OpPlus, syntax.OpRepeat:
		lo, hi := 0, 6
		switch re.Op {
		case syntax.OpPlus:
			lo = 1
		case syntax.OpRepeat:
			lo, hi = re.Min, re.Max
			if hi < 0 || hi > lo+40 {
				hi = lo + rng.Intn(40)
			}
		}
		for n := lo + rng.Intn(hi-lo+1); n > 0; n-- {
			genMatch(rng, re.Sub[0], b)
		}
	}
}

// corpus makes the differential cases: ordinary text of several kinds with samples of every
// rule (random matches of its expression, in assignments or bare) planted at random places.
type corpus struct {
	rng   *rand.Rand
	rules []*syntax.Regexp
	ids   []string
}

func newCorpus(t testing.TB, seed int64) *corpus {
	fd := testDetector(t)
	c := &corpus{rng: rand.New(rand.NewSource(seed))}
	for _, fr := range fd.rules {
		if fr.r.Regex == nil {
			continue
		}
		re, err := syntax.Parse(fr.r.Regex.String(), syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		c.rules = append(c.rules, re)
		c.ids = append(c.ids, fr.r.RuleID)
	}
	return c
}

var corpusPaths = []string{"", "/etc/app/app.conf", "/home/u/.pgpass", "/root/.netrc", "/srv/site/settings.py",
	"/var/www/wp-config.php", "/etc/NetworkManager/system-connections/w.nmconnection",
	"/var/lib/cloud/instance/user-data.txt", "/etc/shadow-", "/root/anaconda-ks.cfg", "/root/.my.cnf",
	"/opt/app/data.bin", "/opt/app/node_modules/x/index.js", "/opt/app/cert.p12", "/opt/app/main.js",
	"/var/log/app.log", "/srv/export.json", "/srv/dump.sql", "/etc/wpa_supplicant/wpa_supplicant.conf"}

const b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

var words = strings.Fields("the a service user request token api key secret password password_policy auth access " +
	"credential creds passwd pwd session id value name host port db mysql curl define private_key client " +
	"data error info warn debug started stopped retry timeout config apiKey accessKey AKIA ghp_ sk- xox " +
	"BEGIN PRIVATE KEY ://  sig= AccountKey= Template: Name: rootpw --password")

func (c *corpus) word() string { return words[c.rng.Intn(len(words))] }

func (c *corpus) alnum(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = b64chars[c.rng.Intn(62)]
	}
	return string(b)
}

// background is n bytes or so of one kind of ordinary text.
func (c *corpus) background(kind, n int) string {
	var b strings.Builder
	for b.Len() < n {
		switch kind {
		case 0: // prose
			b.WriteString(c.word())
			b.WriteString([]string{" ", " ", " ", ", ", ".\n", "\n", "\t"}[c.rng.Intn(7)])
		case 1: // application log
			fmt.Fprintf(&b, "2024-05-%02dT10:%02d:%02dZ %s %s=%s %s=%s request_id=%s\n", c.rng.Intn(28)+1,
				c.rng.Intn(60), c.rng.Intn(60), []string{"INFO", "WARN", "DEBUG"}[c.rng.Intn(3)], c.word(), c.alnum(c.rng.Intn(24)),
				c.word(), c.alnum(c.rng.Intn(12)), c.alnum(16))
		case 2: // JSON export
			fmt.Fprintf(&b, `{"id":%d,"%s":"%s","%s":%q,"token":"%s"},`+"\n", c.rng.Intn(1e6), c.word(), c.alnum(c.rng.Intn(30)),
				c.word(), c.word()+" "+c.word(), c.alnum(c.rng.Intn(20)))
		case 3: // base64, in lines or not
			for i := 0; i < 76; i++ {
				b.WriteByte(b64chars[c.rng.Intn(64)])
			}
			if c.rng.Intn(4) != 0 {
				b.WriteByte('\n')
			}
		case 4: // minified JavaScript: no newlines
			fmt.Fprintf(&b, `var %s={%s:"%s",%s:function(t){return t.%s||"%s"}};`, c.alnum(2), c.word(), c.alnum(c.rng.Intn(30)),
				c.word(), c.word(), c.alnum(c.rng.Intn(10)))
		case 5: // SQL dump
			fmt.Fprintf(&b, "INSERT INTO `users` VALUES (%d,'%s','%s','%s');\n", c.rng.Intn(1e5), c.word(), c.alnum(20), c.alnum(c.rng.Intn(40)))
		default: // bytes of a binary
			for i := 0; i < 64; i++ {
				b.WriteByte(byte(c.rng.Intn(256)))
			}
		}
	}
	return b.String()
}

// sample is a planted secret: a random match of a random rule, bare or in an assignment.
func (c *corpus) sample() string {
	var b strings.Builder
	i := c.rng.Intn(len(c.rules))
	genMatch(c.rng, c.rules[i], &b)
	s := b.String()
	switch c.rng.Intn(6) {
	case 0:
		return c.word() + " = \"" + s + "\""
	case 1:
		return "\n" + s + "\n"
	case 2:
		return c.word() + "_key: " + c.alnum(8+c.rng.Intn(40)) + "\n"
	}
	return s
}

// fragment is one case: text of one or two kinds with a few samples inside.
func (c *corpus) fragment() string {
	kind := c.rng.Intn(7)
	t := c.background(kind, c.rng.Intn(3000))
	if c.rng.Intn(3) == 0 {
		t += c.background(c.rng.Intn(7), c.rng.Intn(1000))
	}
	for n := c.rng.Intn(4); n >= 0; n-- {
		at := 0
		if len(t) > 0 {
			at = c.rng.Intn(len(t) + 1)
		}
		t = t[:at] + c.sample() + t[at:]
	}
	return t
}

// handwritten differential cases: what the generated corpus rarely holds
var fixedCases = []struct{ raw, path string }{
	{"aws_access_key_id = AKIAZ4QK7W2N5XR3TY6P # gitleaks:allow\n", "/etc/app.conf"},
	{"api_key = \"a8Fk2mQp9Lw4Zt8Vb3Nc6Yd1\" // gitleaks:allow\napi_key = \"a8Fk2mQp9Lw4Zt8Vb3Nc6Yd2\"\n", ""},
	{"password = \"\u212A3yS3cretValue99\"\n\u212Aey = \"a8Fk2mQp9Lw4Zt8Vb3Nc6Yd1\"\n", "/etc/app.conf"},
	{"apİ_key = \"a8Fk2mQp9Lw4Zt8Vb3Nc6Yd1\"\n", ""},
	{"ſecret = \"a8Fk2mQp9Lw4Zt8Vb3Nc6Yd1\"\n", ""},
	{"token\xff\xfe = \"a8Fk2mQp9Lw4Zt8Vb3Nc6Yd1\"\r\nkey=\x80\x80a8Fk2mQp9Lw4Zt8Vb3Nc6Yd1\x80\n", ""},
	{"é\xbf\xbfAKIAZ4QK7W2N5XR3TY6P\xbf", ""},
	{"aws_key=AKIAZ4QK7W2N5XR3TY6P secret_key=AKIAZ4QK7W2N5XR3TY6P\n", ""},
	{"api_key = \"abcdefghijklmnopqrstuvwxyz\"\ntoken = \"${API_TOKEN}\"\nsecret: true\n", ""},
	{"api_key = \"a8Fk2mQp9Lw4Zt8Vb3Nc6Yd1\"\n", "/srv/app/node_modules/x/config.js"},
	{"anything", "/home/u/cert.p12"},
	{"Name: passwd/user-password\nTemplate: password\nOwners: d-i\nFlags: seen\nValue: Sup3rS3cret\n", "/var/log/installer/cdebconf/passwords.dat"},
	{"PuTTY-User-Key-File-2: ssh-rsa\r\nEncryption: none\r\nComment: k\nPublic-Lines: 1\nAAAA\nPrivate-Lines: 1\nAAAAB3NzaC1yc2EAAAADAQAB\n", ""},
	{"-----BEGIN RSA PRIVATE KEY-----\n" + strings.Repeat("MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n", 20) + "-----END RSA PRIVATE KEY-----\n", ""},
	{"database:\n  password: |\n    Sup3rS3cretPassw0rd\n", "/etc/app/config.yaml"},
	{strings.Repeat("x", 5000) + "token=a8Fk2mQp9Lw4Zt8Vb3Nc6Yd1" + strings.Repeat("y", 5000), ""},
	// a match ending in a multi-byte rune: the window must hold all of it
	{"oc login --token sha256~" + "nQvWys81vp7hB1dx8PpD5KHXe3PYiGkPAuNaRL63xYK€ and more", ""},
	{"key", ""}, {"", ""}, {"\n\n\n", ""},
}

// TestPrefilterDifferential: on a generated corpus (fixed seed) the prefilter finds what
// gitleaks finds on the whole fragment, finding by finding, and the corpus exercises most rules.
func TestPrefilterDifferential(t *testing.T) {
	fd := testDetector(t)
	c := newCorpus(t, 24)
	cases := 3000
	if testing.Short() {
		cases = 300
	}
	for i, fc := range fixedCases {
		if d := compareReference(fd, fc.raw, fc.path, fd.find(fc.raw, fc.path)); d != "" {
			t.Errorf("fixed case %d: %s", i, d)
		}
	}
	rules := map[string]int{}
	total := 0
	for i := 0; i < cases; i++ {
		raw := c.fragment()
		path := corpusPaths[c.rng.Intn(len(corpusPaths))]
		got := fd.find(raw, path)
		if d := compareReference(fd, raw, path, got); d != "" {
			t.Fatalf("case %d: %s", i, d)
		}
		for _, f := range got {
			rules[f.RuleID]++
			total++
		}
	}
	t.Logf("%d cases, %d findings of %d rules", cases, total, len(rules))
	if !testing.Short() && len(rules) < 100 {
		t.Errorf("the corpus exercises only %d rules: %v", len(rules), rules)
	}
}

// FuzzPrefilter compares the prefilter with gitleaks on arbitrary fragments.
func FuzzPrefilter(f *testing.F) {
	c := newCorpus(f, 7)
	for i := 0; i < 20; i++ {
		f.Add(c.fragment(), uint8(i))
	}
	f.Add("password = \"KK3456789\"\npass=\u212Aey", uint8(1))
	f.Add("aws_secret=AKIAZ4QK7W2N5XR3TY6P\r\n", uint8(2))
	f.Fuzz(func(t *testing.T, raw string, p uint8) {
		if len(raw) > 8<<10 {
			raw = raw[:8<<10] // the reference is slow: keep each run short
		}
		fd := testDetector(t)
		path := corpusPaths[int(p)%len(corpusPaths)]
		if d := compareReference(fd, raw, path, fd.find(raw, path)); d != "" {
			t.Fatal(d)
		}
	})
}

// TestPrefilterNonASCIIKeyword: a rule whose keyword is not ASCII (gitleaks lower-cases the
// whole text, the literal pass ASCII only) makes every fragment go to gitleaks, which then
// finds what it finds.
func TestPrefilterNonASCIIKeyword(t *testing.T) {
	re := regexp.MustCompile(`(?i)pässword=(\w+)`)
	cfg := config.Config{
		Rules:    map[string]config.Rule{"x": {RuleID: "x", Regex: re, SecretGroup: 1, Keywords: []string{"PÄSSWORD"}}},
		Keywords: map[string]struct{}{"pässword": {}},
	}
	fd := newFastDetector(detect.NewDetector(cfg))
	if !fd.allReference {
		t.Fatal("a non-ASCII keyword is searched by the literal pass")
	}
	raw := "PÄSSWORD=Abc123Def\n"
	if d := compareReference(fd, raw, "", fd.find(raw, "")); d != "" {
		t.Fatal(d)
	}
	if got := fd.find(raw, ""); len(got) != 1 {
		t.Fatalf("found %v", got)
	}
}

// quickCheck says, for one gated literal of one rule at every position of raw, whether the
// quick test rejects a position the gate passes (it must never: it is implied by the gate).
func quickCheck(fd *fastDetector, raw string) string {
	var arena []ivl
	for _, fr := range fd.rules {
		for li := range fr.lits {
			l := &fr.lits[li]
			if l.quick == nil || l.gate == nil {
				continue
			}
			for at := 0; at <= len(raw); at++ {
				var pass bool
				if pass, arena = gateMatch(l.gate, raw, at, arena); pass && !l.quick.pass(raw, at) {
					return fmt.Sprintf("%s: the gate passes at %d, the quick test does not: %q", fr.r.RuleID, at, clip(raw[at:]))
				}
			}
		}
	}
	return ""
}

// TestQuickGateImpliedByGate: wherever a rule's gate passes, its quick test passes too (the
// quick test only saves the gate's work), on the differential corpus, the text, and the
// assignments the generic rules are written for; and the generic rule's second test does
// reject the keyword followed by a short value, which the first test lets through.
func TestQuickGateImpliedByGate(t *testing.T) {
	fd := testDetector(t)
	c := newCorpus(t, 25)
	n := 80
	if testing.Short() {
		n = 10
	}
	var texts []string
	for i := 0; i < n; i++ {
		texts = append(texts, c.fragment())
	}
	for _, kind := range benchKinds {
		texts = append(texts, benchText(kind, 4<<10))
	}
	for _, f := range fixedCases {
		texts = append(texts, f.raw)
	}
	for _, v := range []string{"a8Fk2mQp9L", "a8Fk2mQp9", "ab+cdefghijk", "ab+cdefghij", "\"a8Fk2mQp\"", "\"a8Fk2mQ\"", "==a8Fk2mQp9L", "x"} {
		for _, op := range []string{"=", ":", ":::=", "||", "=>", "?=", ",", ">", " = ", "\" : \"", "'=`"} {
			for _, pre := range []string{"", "_for_service", "  ", "\"", strings.Repeat("x", 20), strings.Repeat("x", 21)} {
				texts = append(texts, "password"+pre+op+v+"\n", "token"+pre+op+"  '"+v+"'", "key"+pre+op+"\t\t"+v)
			}
		}
	}
	for _, raw := range texts {
		if d := quickCheck(fd, raw); d != "" {
			t.Fatal(d)
		}
	}
	var q *quickGate
	for _, fr := range fd.rules {
		if fr.r.RuleID == "generic-api-key" {
			q = fr.lits[0].quick
		}
	}
	if q == nil || q.runMin != 10 {
		t.Fatalf("the generic rule has no second quick test: %+v", q)
	}
	for _, c := range []struct {
		text string
		want bool
	}{
		{"token=XXXXXX password_policy=strict", false}, // the value is short; a long word follows after a space
		{"token=vault:XXXXXXXX duration_ms=1", false},
		{"token=a8Fk2mQp9L ", true},
		{"token=a8Fk2mQp9 ", false},
		{"token:::= \"a8Fk2mQp9L\"", true},
		// the value may start up to anchorMax+gap (4+5) bytes after the operator's first byte
		{"token =" + strings.Repeat(" ", 8) + "a8Fk2mQp9L", true},
		{"token =" + strings.Repeat(" ", 9) + "a8Fk2mQp9L", false},
		{"token =" + strings.Repeat(" ", 7) + "a8Fk2mQp9", false},
	} {
		if got := q.pass(c.text, len("token")); got != c.want {
			t.Errorf("quick test on %q = %v, want %v", c.text, got, c.want)
		}
	}
}

// FuzzQuickGate: on arbitrary text, no quick test rejects a position its gate passes.
func FuzzQuickGate(f *testing.F) {
	c := newCorpus(f, 8)
	for i := 0; i < 10; i++ {
		f.Add(c.fragment())
	}
	f.Add("password_policy = \"a8Fk2mQp9L\" token=XXXXXX password_policy=strict")
	f.Fuzz(func(t *testing.T, raw string) {
		if len(raw) > 2<<10 {
			raw = raw[:2<<10]
		}
		if d := quickCheck(testDetector(t), raw); d != "" {
			t.Fatal(d)
		}
	})
}

// TestPrefilterSplitAlternation: an expression whose alternation gives no literal as one element
// is searched by the literals of its branches (vault's "hvs." and "s.", each with the run it
// requires after it as its gate), and finds what gitleaks finds.
func TestPrefilterSplitAlternation(t *testing.T) {
	fd := testDetector(t)
	var vault *fastRule
	for _, fr := range fd.rules {
		if fr.r.RuleID == "vault-service-token" {
			vault = fr
		}
	}
	if vault == nil || vault.whole || len(vault.lits) != 2 {
		t.Fatalf("vault-service-token is not searched by the literals of its two branches: %+v", vault)
	}
	for _, l := range vault.lits {
		if l.gate == nil || l.post == unbounded {
			t.Errorf("vault-service-token: literal %v has no gate or no bound", l.pats)
		}
	}
	hvs := "hvs." + strings.Repeat("Q7b-Zx9_Kp", 10)
	cases := []struct {
		raw  string
		want int // vault findings gitleaks has
	}{
		{"VAULT_TOKEN=s.Ab3dEf7hIj1lMn0pQr5tUv9x\n", 1},
		{"export VAULT_TOKEN=" + hvs + "\n", 1},
		{"token: xs.Ab3dEf7hIj1lMn0pQr5tUv9x\n", 0},      // no word boundary before s.
		{"VAULT_TOKEN=s.Ab3dEf7hIj1lMn0pQr5tUv9\n", 0},   // 23 characters
		{"VAULT_TOKEN=s.Ab3dEf7hIj1lMn0pQr5tUv9xy\n", 0}, // 25: no terminator after 24
		{"a=s.Ab3dEf7hIj1lMn0pQr5tUv9x b=" + hvs, 2},
		{"ends. here s. and S.Ab3dEf7hIj1lMn0pQr5tUv9x;" + strings.Repeat(" line.", 2000), 0},
	}
	for _, c := range cases {
		found := fd.find(c.raw, "cfg.env")
		if d := compareReference(fd, c.raw, "cfg.env", found); d != "" {
			t.Errorf("differs from gitleaks: %s", d)
		}
		n := 0
		for _, f := range fd.Detector.DetectContext(context.Background(), detect.Fragment{Raw: c.raw, FilePath: "cfg.env"}) {
			if f.RuleID == "vault-service-token" {
				n++
			}
		}
		if n != c.want {
			t.Errorf("%q: gitleaks has %d vault findings, the case expects %d", clip(c.raw), n, c.want)
		}
	}
}

// TestDeferredLiterals: the literals only seldom-run rules search for (pgpass's and chpasswd's
// ':', facebook's '|' and '%', sidekiq's 'https://', airtable's 'pat') are left out of a fragment's first scan,
// and scanned for when one of those rules is to run there, so that what is found stays what
// gitleaks finds: a .pgpass line, a Facebook token beside its keyword.
func TestDeferredLiterals(t *testing.T) {
	fd := testDetector(t)
	if fd.litsFirst == nil {
		t.Fatal("no literal is deferred")
	}
	keyword := map[int]bool{}
	for _, fr := range fd.rules {
		for _, p := range fr.keywords {
			keyword[p] = true
		}
	}
	for p, s := range fd.patText {
		first, deferred := fd.litsFirst.pats[p], fd.litsDeferred.pats[p]
		if (first == "") == (deferred == "") || first+deferred != s {
			t.Fatalf("pattern %q: first scan %q, deferred %q", s, first, deferred)
		}
		if deferred != "" && (keyword[p] || fd.special[p]) {
			t.Errorf("pattern %q is deferred but decides a rule by occurring", s)
		}
	}
	// "?sig=": azure-sas-token's keyword "sig=" is four bytes, one not a letter or digit
	for _, s := range []string{":", "|", "%", "https://", "pat", "?sig="} {
		if p := patIndexOf(fd, s); p < 0 || fd.litsDeferred.pats[p] == "" {
			t.Errorf("%q is scanned for in every fragment", s)
		}
	}
	// jwt's ".ey" stays in the first scan: its keyword "ey" is in about a thousand places of a
	// MiB of base64, where a deferred scan would then run on nearly every fragment
	if p := patIndexOf(fd, ".ey"); p < 0 || fd.litsDeferred.pats[p] != "" {
		t.Errorf(`".ey" (jwt, keyword "ey") is deferred`)
	}
	// nor slack's "xoxb-": "xoxb", four letters, is about once in 64 KiB of random base64
	if p := patIndexOf(fd, "xoxb-"); p < 0 || fd.litsDeferred.pats[p] != "" {
		t.Errorf(`"xoxb-" (slack, keyword "xoxb") is deferred`)
	}
	for k, want := range map[string]bool{"ey": false, "sk_": false, "xoxb": false, "sig=": true,
		"ops_": true, "sonar": false, "plaid": false, "airtab": true, "facebook": true} {
		if got := seldomKeyword(k); got != want {
			t.Errorf("seldomKeyword(%q) = %v", k, got)
		}
	}
	sc := &scratch{occ: make([][]int, len(fd.patText)), hit: make([]bool, len(fd.patText))}
	for _, c := range []struct {
		raw, path string
		active    bool
	}{
		{`{"id":1,"at":"10:00:00"}`, "srv/export.json", false},
		{`db:5432:app:app:Xk29vLq7Tp`, "home/app/.pgpass", true},
		{`n=t.a||e.b; x=1%2`, "srv/app.min.js", false},
		{`facebook 123456789012345|` + strings.Repeat("a1B2c3D4e5", 3), "srv/app.min.js", true},
	} {
		for i := range sc.hit {
			sc.hit[i] = false
		}
		fd.litsFirst.scan(c.raw, func(_ int, p int32) bool { sc.hit[p] = true; return true })
		if got := fd.deferredActive(sc, c.path); got != c.active {
			t.Errorf("%s %q: deferred literals scanned %v, want %v", c.path, c.raw, got, c.active)
		}
	}
	for _, c := range []struct{ raw, path, rule string }{
		{"# host:port:db:user:password\ndb.internal:5432:app:app:Xk29vLq7TpW3\n", "home/app/.pgpass", "pgpass-password"},
		{"FACEBOOK_TOKEN=123456789012345|" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N" + "\n", "srv/config.env", "facebook-access-token"},
	} {
		found := fd.find(c.raw, c.path)
		if d := compareReference(fd, c.raw, c.path, found); d != "" {
			t.Errorf("differs from gitleaks: %s", d)
		}
		ok := false
		for _, f := range found {
			ok = ok || f.RuleID == c.rule
		}
		if !ok {
			t.Errorf("%s: %s not found in %q: %v", c.path, c.rule, c.raw, found)
		}
	}
}
