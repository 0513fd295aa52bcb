package network

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/problems"
	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
)

// NetworkManager's keyfile directories (1.42, nms-keyfile-plugin.c): /run's profiles (in memory,
// most important), /etc's (or [keyfile] path=), /usr/lib's (read-only, least important).
const (
	NMRunProfiles = "/run/NetworkManager/system-connections"
	NMEtcProfiles = "/etc/NetworkManager/system-connections"
	NMLibProfiles = "/usr/lib/NetworkManager/system-connections"
	// NMTimestamps is the database of when each profile (by UUID) was last activated
	// (nm-settings.c nm_settings_start: NMSTATEDIR "/timestamps"), the second autoconnect key.
	NMTimestamps = "/var/lib/NetworkManager/timestamps"
)

// Bounds of the profile reader: entries of one directory, bytes of one keyfile, symlink hops.
const (
	maxNMProfiles  = 4096
	maxNMKeyfile   = 1 << 20
	maxNMLinkHops  = 40
	nmEthernetType = "802-3-ethernet"
)

// NMProfile is one keyfile profile as NetworkManager 1.42 loads it, with the line of each
// setting that decides whether and how it takes eth0 (0 when the setting is absent).
type NMProfile struct {
	Path string
	UUID string // normalized, or the one NetworkManager derives from the file name
	ID   string
	Type string // connection.type, aliases resolved ("ethernet" is "802-3-ethernet")
	// TypeLine is the line of connection.type (of the [ethernet] group when the type is
	// inferred from it).
	TypeLine         int
	InterfaceName    string
	InterfaceLine    int
	MatchInterface   []string // match.interface-name patterns
	MatchLine        int
	MatchUnknown     string // a match.driver/path/kernel-command-line setting: not decidable offline
	MatchUnknownLine int
	MAC              string // ethernet.mac-address
	MACLine          int
	Autoconnect      bool
	AutoconnectLine  int
	Priority         int
	PriorityLine     int
	Controller       string // connection.master (controller): eth0 is a port of it
	ControllerLine   int
	Method           string // ipv4.method after normalization ("auto" when [ipv4] is absent)
	MethodLine       int
	Timestamp        uint64 // from NMTimestamps
	HasTimestamp     bool
	storage          int // 0 /run, 1 /etc, 2 /usr/lib
	modTime          time.Time
	tombstone        bool
	compatible, sure bool
	Mismatch         string // why it does not take eth0, or why that is not known offline
}

// DecidingLine is the line that decides what the profile does with eth0: the controller it is
// a port of, ipv4.method, connection.interface-name or connection.type (0 when none is written).
func (p *NMProfile) DecidingLine() int {
	for _, l := range []int{p.ControllerLine, p.MethodLine, p.InterfaceLine, p.TypeLine} {
		if l > 0 {
			return l
		}
	}
	return 0
}

// NMSkip is a file in a profile directory that NetworkManager does not load, and why.
type NMSkip struct {
	Path string
	Line int
	Why  string
}

// NMChoice is what NetworkManager does with eth0 at boot, from its keyfile profiles.
type NMChoice struct {
	// Profile is the profile NetworkManager activates on eth0 (nil when none does); DHCP says
	// it brings eth0 up by DHCPv4, Why says how it was chosen and what it does.
	Profile *NMProfile
	DHCP    bool
	Why     string
	// Blocker is a profile compatible with eth0 that does not autoconnect: NetworkManager
	// activates nothing and, since a profile exists, creates no automatic wired connection.
	Blocker *NMProfile
	// Undecided is a profile whose match (driver, path, kernel command line) on eth0 is not
	// known offline and that would decide if it matched: the choice rests on a guess.
	Undecided *NMProfile
	// Auto: no profile is compatible with eth0, so NetworkManager's automatic wired
	// connection (DHCP) takes it unless no-auto-default says otherwise.
	Auto     bool
	Profiles []*NMProfile // every profile loaded, after shadowing, in autoconnect order
	Skipped  []NMSkip
	Problems problems.List
}

// Err joins the problems: what could not be read, so the choice is unknown.
func (c *NMChoice) Err() error { return c.Problems.Err() }

// NMChoiceOf returns the image's NetworkManager choice for eth0, read once per image.
func NMChoiceOf(img *inspect.Image) *NMChoice {
	return img.Memo("facts/network/nm-choice", func() any { return ReadNMChoice(systemd.FromImage(img)) }).(*NMChoice)
}

// nmIgnoredName is libnm's nm_keyfile_utils_ignore_filename (1.42 nm-keyfile.c): hidden files
// always; in /run and /usr/lib a name not ending in ".nmconnection" (with more before it); in
// /etc (no extension required, for compatibility) backups ending in '~', mkstemp temporaries
// (a dot and six letters or digits at the end, which also takes "UUID.nmmeta"), and .pem/.der.
func nmIgnoredName(name string, requireExtension bool) bool {
	if name == "" || name[0] == '.' {
		return true
	}
	if requireExtension {
		return !(len(name) > len(".nmconnection") && strings.HasSuffix(name, ".nmconnection"))
	}
	if strings.HasSuffix(name, "~") {
		return true
	}
	if i := strings.LastIndexByte(name, '.'); i >= 0 && len(name)-i-1 == 6 && strings.IndexFunc(name[i+1:], func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) < 0 {
		return true
	}
	lower := strings.ToLower(name)
	for _, ext := range []string{".pem", ".der"} {
		if len(lower) > len(ext) && strings.HasSuffix(lower, ext) {
			return true
		}
	}
	return false
}

// normalizeUUID is nm_uuid_is_valid_nm's normalization as far as profiles need it: 32 hex
// digits, in the 8-4-4-4-12 form or without dashes, lower-cased.
func normalizeUUID(s string) (string, bool) {
	h := s
	if len(s) == 36 {
		for _, i := range []int{8, 13, 18, 23} {
			if s[i] != '-' {
				return "", false
			}
		}
		h = strings.ReplaceAll(s, "-", "")
	}
	if len(h) != 32 {
		return "", false
	}
	if _, err := hex.DecodeString(h); err != nil {
		return "", false
	}
	h = strings.ToLower(h)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], true
}

// nmNamespace1 is libnm's nm_uuid_ns_1, the namespace of the UUIDs derived from file names.
var nmNamespace1 = [16]byte{0xb4, 0x25, 0xe9, 0xfb, 0x75, 0x98, 0x44, 0xb4, 0x9e, 0x3b, 0x5a, 0x2e, 0x3a, 0xaa, 0x49, 0x05}

// keyfileUUID is the UUID NetworkManager gives a profile without one
// (nm_keyfile_read_ensure_uuid: nm_uuid_generate_from_strings_old("keyfile", seed)). The seed
// is the file's path in the /etc directory whatever directory holds it, so a /run file
// shadows /etc's of the same name.
func keyfileUUID(seed string) string { return nmUUIDOld("keyfile", seed) }

// nmUUIDOld is libnm's nm_uuid_generate_from_strings_old (nm-uuid.c): a version 3 UUID, MD5 of
// the namespace nm_uuid_ns_1 and the strings each followed by a NUL.
func nmUUIDOld(strs ...string) string {
	h := md5.New()
	h.Write(nmNamespace1[:])
	for _, s := range strs {
		h.Write([]byte(s + "\x00"))
	}
	u := h.Sum(nil)
	u[6] = u[6]&0x0f | 0x30
	u[8] = u[8]&0x3f | 0x80
	s := hex.EncodeToString(u[:16])
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}

// gkfString is g_key_file_get_string's unescaping: \s \n \t \r \\; another escape, a trailing
// backslash or invalid UTF-8 is an error (NetworkManager then warns and keeps the default).
func gkfString(v string) (string, bool) {
	if !utf8.ValidString(v) {
		return "", false
	}
	if !strings.Contains(v, `\`) {
		return v, true
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '\\' {
			b.WriteByte(v[i])
			continue
		}
		i++
		if i == len(v) {
			return "", false
		}
		switch v[i] {
		case 's':
			b.WriteByte(' ')
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case '\\':
			b.WriteByte('\\')
		default:
			return "", false
		}
	}
	return b.String(), true
}

// gkfList is g_key_file_get_string_list: elements separated by ';' ("\;" escapes one), each
// unescaped, a trailing ';' ending the list.
func gkfList(v string) ([]string, bool) {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(v); i++ {
		switch {
		case v[i] == '\\' && i+1 < len(v) && v[i+1] == ';':
			cur.WriteByte(';')
			i++
		case v[i] == '\\' && i+1 < len(v):
			cur.WriteByte(v[i])
			cur.WriteByte(v[i+1])
			i++
		case v[i] == ';':
			s, ok := gkfString(cur.String())
			if !ok {
				return nil, false
			}
			out = append(out, s)
			cur.Reset()
		default:
			cur.WriteByte(v[i])
		}
	}
	if cur.Len() > 0 {
		s, ok := gkfString(cur.String())
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// gkfBool is g_key_file_get_boolean: "true" or "1", "false" or "0" (trailing blanks dropped).
func gkfBool(v string) (bool, bool) {
	switch strings.TrimRight(v, " \t") {
	case "true", "1":
		return true, true
	case "false", "0":
		return false, true
	}
	return false, false
}

// strtoll is _nm_utils_ascii_str_to_int64 with base 0 (C's strtoll): blanks around, a sign,
// "0x" hexadecimal, a leading 0 octal, else decimal; the whole string must be the number.
func strtoll(v string) (int64, bool) {
	s := strings.TrimSpace(v)
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	base := 10
	switch {
	case len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X"):
		base, s = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, s = 8, s[1:]
	}
	if s == "" || s[0] == '+' || s[0] == '-' || strings.Contains(s, "_") {
		return 0, false
	}
	n, err := strconv.ParseUint(s, base, 64)
	if err != nil || n > 1<<63 || n == 1<<63 && !neg {
		return 0, false
	}
	if neg {
		return -int64(n), true
	}
	return int64(n), true
}

// ifnameValid is nm_utils_ifname_valid_kernel: 1 to 15 bytes, not "." or "..", no '/', ':'
// or blank.
func ifnameValid(s string) bool {
	return s != "" && len(s) < 16 && s != "." && s != ".." && !strings.ContainsAny(s, "/: \t\n\r\v\f")
}

// nmWildcardMatch is nm_wildcard_match_check (1.42 nm-core-utils.c): each pattern is "&"
// (mandatory), "|" (optional) or plain (optional), then "!" inverts it (a plain "!" pattern is
// mandatory), then a backslash may escape the first character; an fnmatch glob. Every
// mandatory pattern must hold, and one optional pattern must when there is any.
func nmWildcardMatch(name string, patterns []string) bool {
	hasOptional, anyOptional := false, false
	for _, p := range patterns {
		inverted, mandatory := false, false
		switch {
		case strings.HasPrefix(p, "&"):
			p, mandatory = p[1:], true
			if strings.HasPrefix(p, "!") {
				p, inverted = p[1:], true
			}
		case strings.HasPrefix(p, "|"):
			p = p[1:]
			if strings.HasPrefix(p, "!") {
				p, inverted = p[1:], true
			}
		case strings.HasPrefix(p, "!"):
			p, inverted, mandatory = p[1:], true, true
		}
		p = strings.TrimPrefix(p, `\`)
		match := nameGlob(p, name) != inverted
		if mandatory {
			if !match {
				return false
			}
		} else {
			anyOptional = true
			hasOptional = hasOptional || match
		}
	}
	return hasOptional || !anyOptional
}

// fileOwner is the owner of a file as the source reports it (an image's inode, a host file).
func fileOwner(fi fs.FileInfo) (uint32, bool) {
	switch s := fi.Sys().(type) {
	case *filesystem.Inode:
		return s.UID, true
	case *syscall.Stat_t:
		return s.Uid, true
	}
	return 0, false
}

// statFollow is stat(2): p with its symbolic links followed (bounded), nil when the end is
// missing (a dangling link).
func statFollow(src systemd.Source, p string) (fs.FileInfo, error) {
	for hop := 0; ; hop++ {
		fi, err := src.Lstat(p)
		if err != nil || fi == nil || fi.Mode()&fs.ModeSymlink == 0 {
			return fi, err
		}
		if hop == maxNMLinkHops {
			return nil, fmt.Errorf("more than %d symbolic links", maxNMLinkHops)
		}
		t, err := src.ReadLink(p)
		if err != nil {
			return nil, err
		}
		if !path.IsAbs(t) {
			t = path.Join(path.Dir(p), t)
		}
		p = path.Clean(t)
	}
}

// permissionRefusal is nms_keyfile_utils_check_file_permissions_stat: a keyfile must be a
// regular file owned by root (NetworkManager's own user) with no group or other permission; a
// .nmmeta file a regular file so or a symbolic link owned by root. "" when allowed.
func permissionRefusal(fi fs.FileInfo, meta bool) (string, error) {
	switch {
	case fi.Mode().IsRegular():
	case meta && fi.Mode()&fs.ModeSymlink != 0:
	default:
		return "not a regular file", nil
	}
	uid, ok := fileOwner(fi)
	if !ok {
		return "", errors.New("its owner could not be read")
	}
	if uid != 0 {
		return fmt.Sprintf("owned by uid %d, not root (NetworkManager: file owner is insecure)", uid), nil
	}
	if fi.Mode().IsRegular() && fi.Mode().Perm()&0o077 != 0 {
		return fmt.Sprintf("mode %04o gives group or others access (NetworkManager: file permissions are insecure; it requires 0600)", fi.Mode().Perm()), nil
	}
	return "", nil
}

// nmDir is one profile directory with its storage rank (0 most important).
type nmDir struct {
	dir     string
	storage int
}

// keyfileDir is [keyfile] path= of NetworkManager's configuration (the /etc directory), the
// default when no file sets it; a file that cannot be read is the NetworkManager reader's
// problem (Facts.ByNeed[NeedNetworkManager]), and leaves the default here.
func keyfileDir(src systemd.Source) string {
	dir := NMEtcProfiles
	files, err := nmConfFiles(src)
	if err != nil {
		return dir
	}
	for _, p := range files {
		data, err := src.ReadFile(p)
		if err != nil || data == nil {
			continue
		}
		settings, err := ParseINI(p, data)
		if err != nil {
			continue
		}
		for _, s := range settings {
			if s.Group == "keyfile" && s.Key == "path" {
				if v, ok := gkfString(s.Value); ok && strings.HasPrefix(v, "/") {
					dir = path.Clean(v)
				}
			}
		}
	}
	return dir
}

// ReadNMChoice reads NetworkManager's keyfile profiles as NetworkManager 1.42 (Debian 12) loads
// them and decides what it activates on eth0 at boot.
//
// Loading (nms-keyfile-plugin.c _load_dir/_load_file, nms-keyfile-reader.c): every entry of
// /run, /etc and /usr/lib's system-connections not ignored by name (nmIgnoredName); a keyfile
// must pass the permission check (permissionRefusal) and load as a GKeyFile (ParseINI) and
// verify, else NetworkManager logs it and skips it (NMChoice.Skipped). "UUID.nmmeta" files in
// /run and /etc linking to /dev/null are tombstones that delete the profile of that UUID.
// Profiles are one per UUID (nm-settings.c _sett_conn_entry_sds_update_cmp_ascending and
// nms-keyfile-storage.c cmp_fcn): /run's beats the others, then a tombstone beats a profile,
// then /etc beats /usr/lib, then the newer file, then the greater file name.
//
// Choosing (nm-policy.c auto_activate_device, nm-device.c check_connection_compatible,
// nm-settings-connection.c nm_settings_connection_cmp_autoconnect_priority): the profiles
// compatible with eth0 (ethernet, connection.interface-name empty or eth0, match.interface-name
// satisfied, no ethernet.mac-address: one pins the build machine's NIC) in the order
// autoconnect first, higher connection.autoconnect-priority, one with a timestamp in
// /var/lib/NetworkManager/timestamps before one without, the more recent timestamp, the
// smaller UUID; the first that autoconnects is activated. When a compatible profile exists and
// none autoconnects, nothing is (nm-settings.c have_connection_for_device: no automatic wired
// connection either). Only when none is compatible does the automatic connection apply.
func ReadNMChoice(src systemd.Source) *NMChoice {
	c := &NMChoice{}
	etc := keyfileDir(src)
	timestamps := c.readTimestamps(src)
	var loaded []*NMProfile
	for _, d := range []nmDir{{NMRunProfiles, 0}, {etc, 1}, {NMLibProfiles, 2}} {
		ents, err := src.ReadDir(d.dir)
		if err != nil {
			c.Problems = append(c.Problems, fmt.Errorf("%s: %w", d.dir, err))
			continue
		}
		if len(ents) > maxNMProfiles {
			c.Problems = append(c.Problems, fmt.Errorf("%s: %d entries, over the %d this check reads", d.dir, len(ents), maxNMProfiles))
			continue
		}
		names := make([]string, 0, len(ents))
		for _, e := range ents {
			names = append(names, e.Name())
		}
		slices.Sort(names)
		for _, name := range names {
			if p := c.loadFile(src, d, name, etc); p != nil {
				loaded = append(loaded, p)
			}
		}
	}
	// one profile per UUID: the most important storage
	byUUID := map[string][]*NMProfile{}
	for _, p := range loaded {
		byUUID[p.UUID] = append(byUUID[p.UUID], p)
	}
	for _, ps := range byUUID {
		best := slices.MaxFunc(ps, storageCmp)
		if best.tombstone {
			continue
		}
		if t, ok := timestamps[best.UUID]; ok {
			best.Timestamp, best.HasTimestamp = t, true
		}
		c.Profiles = append(c.Profiles, best)
	}
	slices.SortFunc(c.Profiles, autoconnectCmp)
	for _, p := range c.Profiles {
		p.compatible, p.sure, p.Mismatch = compatibleWithEth0(p)
	}
	// the first compatible profile that autoconnects; one whose match is not known offline
	// and that would come before it decides in its place if it matches
	for _, p := range c.Profiles {
		if p.compatible && p.Autoconnect {
			c.Profile = p
			break
		}
		if !p.sure && p.Autoconnect && c.Undecided == nil {
			c.Undecided = p
		}
	}
	if c.Profile == nil {
		for _, p := range c.Profiles {
			if p.compatible && c.Blocker == nil {
				c.Blocker = p
			}
			if !p.sure && c.Undecided == nil {
				c.Undecided = p // it may be what keeps the automatic connection away
			}
		}
		if c.Blocker != nil && c.Undecided != nil && !c.Undecided.Autoconnect {
			c.Undecided = nil // nothing is activated either way
		}
	}
	switch p := c.Profile; {
	case p != nil:
		order := fmt.Sprintf("autoconnect-priority %d", p.Priority)
		if p.HasTimestamp {
			order += fmt.Sprintf(", last activated %d", p.Timestamp)
		}
		switch {
		case p.Controller != "":
			c.Why = fmt.Sprintf("profile %q (%s) takes eth0 as a port of %q: eth0 gets no address of its own", p.ID, order, p.Controller)
		case p.Method == "auto":
			c.DHCP = true
			c.Why = fmt.Sprintf("profile %q (%s) brings eth0 up by DHCP (ipv4.method=auto)", p.ID, order)
		default:
			c.Why = fmt.Sprintf("profile %q (%s) brings eth0 up with ipv4.method=%s, not DHCP", p.ID, order, p.Method)
		}
	case c.Blocker != nil:
		c.Why = fmt.Sprintf("profile %q is for eth0 but has autoconnect=false: NetworkManager activates nothing on eth0 and, since the profile exists, creates no automatic wired connection", c.Blocker.ID)
	case c.Undecided == nil:
		c.Auto = true
		c.Why = "no profile is for eth0: NetworkManager's automatic wired connection (DHCP) takes it"
	}
	return c
}

// storageCmp orders two loaded files of one UUID, the more important greater.
func storageCmp(a, b *NMProfile) int {
	if ar, br := a.storage == 0, b.storage == 0; ar != br {
		if ar {
			return 1
		}
		return -1
	}
	if a.tombstone != b.tombstone {
		if a.tombstone {
			return 1
		}
		return -1
	}
	if a.storage != b.storage {
		return b.storage - a.storage
	}
	if c := a.modTime.Compare(b.modTime); c != 0 {
		return c
	}
	return strings.Compare(a.Path, b.Path)
}

// autoconnectCmp is nm_settings_connection_cmp_autoconnect_priority: the one to try first is
// smaller.
func autoconnectCmp(a, b *NMProfile) int {
	if a.Autoconnect != b.Autoconnect {
		if a.Autoconnect {
			return -1
		}
		return 1
	}
	if a.Autoconnect && a.Priority != b.Priority {
		if a.Priority > b.Priority {
			return -1
		}
		return 1
	}
	if a.HasTimestamp != b.HasTimestamp {
		if a.HasTimestamp {
			return -1
		}
		return 1
	}
	if a.HasTimestamp && a.Timestamp != b.Timestamp {
		if a.Timestamp > b.Timestamp {
			return -1
		}
		return 1
	}
	return strings.Compare(a.UUID, b.UUID)
}

// compatibleWithEth0 is check_connection_compatible for Azure's first NIC: whether p can be
// activated on eth0, whether that is known offline, and why not.
func compatibleWithEth0(p *NMProfile) (ok, sure bool, why string) {
	switch {
	case p.Type != nmEthernetType:
		return false, true, "connection.type " + p.Type + " is not ethernet"
	case p.InterfaceName != "" && p.InterfaceName != Eth0:
		return false, true, "connection.interface-name=" + p.InterfaceName
	case len(p.MatchInterface) > 0 && !nmWildcardMatch(Eth0, p.MatchInterface):
		return false, true, "match.interface-name does not take eth0"
	case p.MAC != "":
		return false, true, "ethernet.mac-address pins another NIC"
	case p.MatchUnknown != "":
		return false, false, p.MatchUnknown + " decides, and what that matches on Azure's NIC is not in the image"
	}
	return true, true, ""
}

// readTimestamps reads NetworkManager's timestamps database (nm-keyfile-db.c: a GKeyFile,
// group [timestamps], a UUID = seconds key each; a file GKeyFile refuses is an empty database).
func (c *NMChoice) readTimestamps(src systemd.Source) map[string]uint64 {
	out := map[string]uint64{}
	data, err := src.ReadFile(NMTimestamps)
	if err != nil {
		c.Problems = append(c.Problems, fmt.Errorf("%s: %w", NMTimestamps, err))
		return out
	}
	settings, err := ParseINI(NMTimestamps, data)
	var ie *INIError
	if errors.As(err, &ie) && ie.Refused {
		c.Skipped = append(c.Skipped, NMSkip{Path: NMTimestamps, Line: ie.Line, Why: "NetworkManager reads no timestamps from it: " + ie.Msg})
		return out
	}
	if err != nil {
		c.Problems = append(c.Problems, err)
		return out
	}
	for _, s := range settings {
		if s.Group != "timestamps" {
			continue
		}
		// _nm_utils_ascii_str_to_uint64 base 10: blanks around, digits only
		if n, err := strconv.ParseUint(strings.TrimSpace(s.Value), 10, 64); err == nil && n != 1<<64-1 {
			out[s.Key] = n
		}
	}
	return out
}

// loadFile is _load_file for one directory entry: a profile, a tombstone, or nil (skipped,
// with the reason noted, or a problem).
func (c *NMChoice) loadFile(src systemd.Source, d nmDir, name, etcDir string) *NMProfile {
	full := d.dir + "/" + name
	if nmIgnoredName(name, d.storage != 1) {
		if d.storage == 2 || !strings.HasSuffix(name, ".nmmeta") {
			if name != "" && name[0] != '.' {
				c.Skipped = append(c.Skipped, NMSkip{Path: full, Why: "NetworkManager ignores this file name"})
			}
			return nil
		}
		uuid, ok := normalizeUUID(strings.TrimSuffix(name, ".nmmeta"))
		if !ok || uuid != strings.TrimSuffix(name, ".nmmeta") {
			c.Skipped = append(c.Skipped, NMSkip{Path: full, Why: "NetworkManager ignores this file name"})
			return nil
		}
		return c.loadTombstone(src, d, full, uuid)
	}
	fi, err := statFollow(src, full)
	if err != nil {
		c.Problems = append(c.Problems, fmt.Errorf("%s: %w", full, err))
		return nil
	}
	if fi == nil {
		c.Skipped = append(c.Skipped, NMSkip{Path: full, Why: "NetworkManager skips it: a dangling symbolic link"})
		return nil
	}
	why, err := permissionRefusal(fi, false)
	if err != nil {
		c.Problems = append(c.Problems, fmt.Errorf("%s: %w", full, err))
		return nil
	}
	if why != "" {
		c.Skipped = append(c.Skipped, NMSkip{Path: full, Why: "NetworkManager refuses it: " + why})
		return nil
	}
	settings, data, ok := c.readKeyfileINI(src, full, fi.Size())
	if !ok {
		return nil
	}
	seed := full
	if d.dir != etcDir {
		seed = etcDir + "/" + name
	}
	p, line, why := readKeyfile(full, name, seed, settings, iniGroups(data))
	if why != "" {
		c.Skipped = append(c.Skipped, NMSkip{Path: full, Line: line, Why: "NetworkManager refuses the profile: " + why})
		return nil
	}
	p.storage, p.modTime = d.storage, fi.ModTime()
	return p
}

// readKeyfileINI reads a keyfile (a profile or an .nmmeta) of size bytes as GKeyFile does: one
// over the bound or unreadable is a problem, one GKeyFile refuses is skipped with its line; ok
// says it was read.
func (c *NMChoice) readKeyfileINI(src systemd.Source, full string, size int64) (settings []INISetting, data []byte, ok bool) {
	if size > maxNMKeyfile {
		c.Problems = append(c.Problems, fmt.Errorf("%s: %d bytes, over the %d this check reads", full, size, maxNMKeyfile))
		return nil, nil, false
	}
	data, err := src.ReadFile(full)
	if err != nil {
		c.Problems = append(c.Problems, fmt.Errorf("%s: %w", full, err))
		return nil, nil, false
	}
	settings, err = ParseINI(full, data)
	var ie *INIError
	if errors.As(err, &ie) && ie.Refused {
		c.Skipped = append(c.Skipped, NMSkip{Path: full, Line: ie.Line, Why: "NetworkManager cannot load it: " + ie.Msg})
		return nil, nil, false
	}
	if err != nil {
		c.Problems = append(c.Problems, err)
		return nil, nil, false
	}
	return settings, data, true
}

// loadTombstone is nms_keyfile_nmmeta_read for a UUID.nmmeta in /run or /etc: a symbolic link
// to /dev/null, or a keyfile [nmmeta] with this uuid and loaded-path=/dev/null, deletes the
// profile of that UUID; anything else is skipped.
func (c *NMChoice) loadTombstone(src systemd.Source, d nmDir, full, uuid string) *NMProfile {
	fi, err := src.Lstat(full)
	if err != nil {
		c.Problems = append(c.Problems, fmt.Errorf("%s: %w", full, err))
		return nil
	}
	if fi == nil {
		return nil
	}
	why, err := permissionRefusal(fi, true)
	if err != nil {
		c.Problems = append(c.Problems, fmt.Errorf("%s: %w", full, err))
		return nil
	}
	if why != "" {
		c.Skipped = append(c.Skipped, NMSkip{Path: full, Why: "NetworkManager refuses it: " + why})
		return nil
	}
	loaded := ""
	if fi.Mode()&fs.ModeSymlink != 0 {
		t, err := src.ReadLink(full)
		if err != nil {
			c.Problems = append(c.Problems, fmt.Errorf("%s: %w", full, err))
			return nil
		}
		loaded = t
	} else {
		settings, _, ok := c.readKeyfileINI(src, full, fi.Size())
		if !ok {
			return nil
		}
		v := map[string]string{}
		for _, s := range settings {
			if s.Group == "nmmeta" {
				v[s.Key], _ = gkfString(s.Value)
			}
		}
		if v["uuid"] != uuid {
			c.Skipped = append(c.Skipped, NMSkip{Path: full, Why: "NetworkManager skips it: [nmmeta] uuid is not the file's"})
			return nil
		}
		loaded = v["loaded-path"]
	}
	if loaded != "/dev/null" {
		c.Skipped = append(c.Skipped, NMSkip{Path: full, Why: "NetworkManager skips it: not a tombstone (it does not point to /dev/null)"})
		return nil
	}
	return &NMProfile{Path: full, UUID: uuid, storage: d.storage, tombstone: true, modTime: fi.ModTime()}
}

// nmGroupAlias is nm_keyfile_plugin_get_setting_name_for_alias for the groups read here.
var nmGroupAlias = map[string]string{"ethernet": nmEthernetType}

// readKeyfile is nm_keyfile_read with nm_connection_normalize and verify, for what decides
// eth0: the profile, or the line and reason NetworkManager refuses it. A value that does not
// parse is warned about and leaves the default, as NetworkManager does (read_one_setting_value).
func readKeyfile(full, name, seed string, settings []INISetting, headers map[string]int) (*NMProfile, int, string) {
	type val struct {
		v    string
		line int
	}
	// per group (aliases resolved, the real name read before the alias), the last value wins
	direct := map[string]map[string]val{}
	alias := map[string]map[string]val{}
	groups := map[string]int{}
	for g, line := range headers {
		if r, ok := nmGroupAlias[g]; ok {
			g = r
		}
		if l, ok := groups[g]; !ok || line < l {
			groups[g] = line
		}
	}
	for _, s := range settings {
		if s.Group == "" {
			return nil, s.Line, "a key before any group (GKeyFile: the file does not start with a group)"
		}
		g, m := s.Group, direct
		if r, ok := nmGroupAlias[g]; ok {
			g, m = r, alias
		}
		if m[g] == nil {
			m[g] = map[string]val{}
		}
		m[g][s.Key] = val{s.Value, s.Line}
	}
	get := func(group, key string) (val, bool) {
		if v, ok := direct[group][key]; ok {
			return v, true
		}
		v, ok := alias[group][key]
		return v, ok
	}
	str := func(group, key string) (string, int) {
		v, ok := get(group, key)
		if !ok {
			return "", 0
		}
		s, ok := gkfString(v.v)
		if !ok {
			return "", v.line // warned, the default kept
		}
		return s, v.line
	}
	p := &NMProfile{Path: full, Autoconnect: true}
	p.ID, _ = str("connection", "id")
	if p.ID == "" {
		p.ID = strings.TrimSuffix(name, ".nmconnection")
		if p.ID == "" {
			p.ID = name
		}
	}
	if u, line := str("connection", "uuid"); u != "" {
		n, ok := normalizeUUID(u)
		if !ok {
			return nil, line, "connection.uuid is not a valid UUID"
		}
		p.UUID = n
	} else {
		p.UUID = keyfileUUID(seed)
	}
	t, line := str("connection", "type")
	if r, ok := nmGroupAlias[t]; ok {
		t = r
	}
	if t == "" {
		// _normalize_connection_type: the type of the base setting present
		if l, ok := groups[nmEthernetType]; ok {
			t, line = nmEthernetType, l
		} else {
			return nil, groups["connection"], "connection.type is missing and no base setting gives it"
		}
	}
	p.Type, p.TypeLine = t, line
	p.InterfaceName, p.InterfaceLine = str("connection", "interface-name")
	if p.InterfaceName == "" {
		// the deprecated place: interface-name in the group of the connection type
		if v, ok := direct[t]["interface-name"]; ok {
			if s, ok := gkfString(v.v); ok {
				p.InterfaceName, p.InterfaceLine = s, v.line
			}
		}
	}
	if p.InterfaceName != "" && !ifnameValid(p.InterfaceName) {
		return nil, p.InterfaceLine, fmt.Sprintf("connection.interface-name %q is not a valid interface name", p.InterfaceName)
	}
	if v, ok := get("connection", "autoconnect"); ok {
		if b, ok := gkfBool(v.v); ok {
			p.Autoconnect, p.AutoconnectLine = b, v.line
		}
	}
	if v, ok := get("connection", "autoconnect-priority"); ok {
		// read as an int, then refused by the property's range -999..999 (the default kept)
		if n, ok := strtoll(v.v); ok && n >= -999 && n <= 999 {
			p.Priority, p.PriorityLine = int(n), v.line
		}
	}
	for _, k := range []string{"master", "controller"} {
		if s, line := str("connection", k); s != "" {
			p.Controller, p.ControllerLine = s, line
		}
	}
	if v, ok := get("match", "interface-name"); ok {
		if l, ok := gkfList(v.v); ok {
			p.MatchInterface, p.MatchLine = l, v.line
		}
	}
	for _, k := range []string{"driver", "path", "kernel-command-line"} {
		if v, ok := get("match", k); ok {
			if l, ok := gkfList(v.v); ok && len(l) > 0 && p.MatchUnknown == "" {
				p.MatchUnknown, p.MatchUnknownLine = "match."+k+"="+strings.TrimSpace(v.v), v.line
			}
		}
	}
	if s, line := str(nmEthernetType, "mac-address"); s != "" {
		p.MAC, p.MACLine = s, line
	}
	if p.Controller != "" {
		return p, 0, "" // a port has no IP configuration (_normalize_invalid_slave_port_settings)
	}
	// ipv4: absent is method auto (_normalize_ip_config); present, the method is required and
	// must agree with the addresses and DNS (nm-setting-ip4-config.c verify)
	if _, ok := groups["ipv4"]; !ok {
		p.Method = "auto"
		return p, 0, ""
	}
	m, ok := get("ipv4", "method")
	if !ok {
		return nil, groups["ipv4"], "ipv4.method is missing"
	}
	method, _ := gkfString(m.v)
	p.Method, p.MethodLine = method, m.line
	addresses, dns := 0, false
	for k, v := range direct["ipv4"] {
		base := strings.TrimRight(k, "0123456789")
		if (base == "address" || base == "addresses") && ipv4Address(v.v) {
			addresses++
		}
		if (k == "dns" || k == "dns-search") && strings.Trim(v.v, " ;") != "" {
			dns = true
		}
	}
	switch method {
	case "auto":
	case "manual":
		if addresses == 0 {
			return nil, m.line, "ipv4.method=manual without an address"
		}
	case "link-local", "disabled":
		if addresses > 0 || dns {
			return nil, m.line, "ipv4.method=" + method + " with addresses or DNS"
		}
	case "shared":
		if dns {
			return nil, m.line, "ipv4.method=shared with DNS"
		}
	default:
		return nil, m.line, fmt.Sprintf("ipv4.method %q is not a method", method)
	}
	return p, 0, ""
}

// ipv4Address says whether an addressN value starts with an IPv4 address (a.b.c.d[/n][,gw]).
func ipv4Address(v string) bool {
	a, _, _ := strings.Cut(strings.TrimSpace(v), ",")
	a, _, _ = strings.Cut(a, "/")
	parts := strings.Split(a, ".")
	if len(parts) != 4 {
		return false
	}
	for _, x := range parts {
		n, err := strconv.Atoi(x)
		if err != nil || n < 0 || n > 255 || x == "" {
			return false
		}
	}
	return true
}
