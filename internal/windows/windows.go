// Package windows reads the facts the Windows rules check from an offline Windows tree (the
// NTFS system volume as an filesystem.Tree): the SOFTWARE, SYSTEM and SAM registry hives, the machine
// type of system binaries, and the event log files. It only reads; every parser it uses is
// bounded and reports corrupt bytes with the file and offset.
package windows

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/marketready/packer-plugin-marketplace/internal/byteio"
	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
	"github.com/marketready/packer-plugin-marketplace/internal/winreg"
)

// Hive paths inside the Windows volume.
const (
	SoftwareHive = "Windows/System32/config/SOFTWARE"
	SystemHive   = "Windows/System32/config/SYSTEM"
	SAMHive      = "Windows/System32/config/SAM"
	EventLogDir  = "Windows/System32/winevt/Logs"
)

// IsWindows reports whether the tree looks like a Windows system volume.
func IsWindows(t *filesystem.Tree) bool {
	st, err := t.Stat(SystemHive)
	return err == nil && st.Mode().IsRegular()
}

// Version is what SOFTWARE\Microsoft\Windows NT\CurrentVersion says.
type Version struct {
	ProductName      string `json:"product_name"`
	EditionID        string `json:"edition_id"`
	InstallationType string `json:"installation_type"` // "Server", "Server Core", "Client"
	DisplayVersion   string `json:"display_version,omitempty"`
	Build            int    `json:"build"`
	UBR              int    `json:"ubr"`
}

// IsServer reports whether the edition is Windows Server.
func (v Version) IsServer() bool {
	return strings.HasPrefix(v.InstallationType, "Server") || strings.Contains(v.ProductName, "Server")
}

func (v Version) String() string {
	return fmt.Sprintf("%s (%s, build %d.%d)", v.ProductName, v.EditionID, v.Build, v.UBR)
}

// Account is one local account from the SAM.
type Account struct {
	Name        string `json:"name"`
	RID         uint32 `json:"rid"`
	Disabled    bool   `json:"disabled"`
	HasPassword bool   `json:"has_password"`
}

// FirewallRule is one rule of the firewall policy.
type FirewallRule struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Dir    string `json:"dir"`    // In, Out
	Action string `json:"action"` // Allow, Block
	Active bool   `json:"active"`
	Ports  string `json:"ports,omitempty"`
}

// Builtin reports whether the rule is one Windows ships (its name is a resource reference).
func (r FirewallRule) Builtin() bool { return strings.HasPrefix(r.Name, "@") }

// Hives holds the opened hives; a missing hive is nil with its error kept.
type Hives struct {
	Software, System, SAM *winreg.Hive
	Errs                  map[string]error
}

// OpenHives opens SOFTWARE, SYSTEM and SAM from the tree.
func OpenHives(t *filesystem.Tree) *Hives {
	h := &Hives{Errs: map[string]error{}}
	open := func(p string) *winreg.Hive {
		ra, size, err := t.OpenReaderAt(p)
		if err != nil {
			h.Errs[p] = err
			return nil
		}
		hv, err := winreg.Open(p, ra, size)
		if err != nil {
			h.Errs[p] = err
			return nil
		}
		return hv
	}
	h.Software, h.System, h.SAM = open(SoftwareHive), open(SystemHive), open(SAMHive)
	return h
}

func need(h *winreg.Hive, name string, errs map[string]error) error {
	if h != nil {
		return nil
	}
	if err := errs[name]; err != nil {
		return err
	}
	return fmt.Errorf("%s not opened", name)
}

// StringValue reads a REG_SZ; a missing key or value is "" with no error.
func StringValue(h *winreg.Hive, key, name string) (string, error) {
	v, err := value(h, key, name)
	if err != nil || v == nil {
		return "", err
	}
	return v.String()
}

// NumberValue reads a REG_DWORD/QWORD; ok is false when the key or value is missing.
func NumberValue(h *winreg.Hive, key, name string) (n uint64, ok bool, err error) {
	v, err := value(h, key, name)
	if err != nil || v == nil {
		return 0, false, err
	}
	n, err = v.Uint()
	return n, err == nil, err
}

func value(h *winreg.Hive, key, name string) (*winreg.Value, error) {
	k, err := h.Key(key)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	v, err := k.Value(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return v, err
}

// ReadVersion reads the edition and build.
func (h *Hives) ReadVersion() (Version, error) {
	var v Version
	if err := need(h.Software, SoftwareHive, h.Errs); err != nil {
		return v, err
	}
	const cv = `Microsoft\Windows NT\CurrentVersion`
	var err error
	get := func(name string) string {
		s, e := StringValue(h.Software, cv, name)
		if e != nil && err == nil {
			err = e
		}
		return s
	}
	v.ProductName, v.EditionID, v.InstallationType, v.DisplayVersion = get("ProductName"), get("EditionID"), get("InstallationType"), get("DisplayVersion")
	build := get("CurrentBuildNumber")
	if build == "" {
		build = get("CurrentBuild")
	}
	v.Build, _ = strconv.Atoi(build)
	if n, ok, e := NumberValue(h.Software, cv, "UBR"); ok && e == nil {
		v.UBR = int(n)
	}
	if v.ProductName == "" && err == nil {
		err = fmt.Errorf("%s: no ProductName under %s", SoftwareHive, cv)
	}
	return v, err
}

// ControlSet returns the path of the current control set in SYSTEM ("ControlSet001").
func (h *Hives) ControlSet() (string, error) {
	if err := need(h.System, SystemHive, h.Errs); err != nil {
		return "", err
	}
	n, ok, err := NumberValue(h.System, "Select", "Current")
	if err != nil {
		return "", err
	}
	if !ok {
		n = 1
	}
	return fmt.Sprintf("ControlSet%03d", n), nil
}

// FirewallProfiles returns EnableFirewall of the Domain, Private (Standard) and Public profiles;
// a profile without the value is absent from the map (Windows' default, enabled, applies).
func (h *Hives) FirewallProfiles() (map[string]bool, error) {
	cs, err := h.ControlSet()
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for name, key := range map[string]string{"Domain": "DomainProfile", "Private": "StandardProfile", "Public": "PublicProfile"} {
		n, ok, err := NumberValue(h.System, cs+`\Services\SharedAccess\Parameters\FirewallPolicy\`+key, "EnableFirewall")
		if err != nil {
			return nil, err
		}
		if ok {
			out[name] = n != 0
		}
	}
	return out, nil
}

// FirewallRules returns the rules of the local firewall policy.
func (h *Hives) FirewallRules() ([]FirewallRule, error) {
	cs, err := h.ControlSet()
	if err != nil {
		return nil, err
	}
	k, err := h.System.Key(cs + `\Services\SharedAccess\Parameters\FirewallPolicy\FirewallRules`)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	vals, err := k.Values()
	if err != nil {
		return nil, err
	}
	var out []FirewallRule
	for _, v := range vals {
		s, err := v.String()
		if err != nil {
			continue
		}
		out = append(out, ParseFirewallRule(v.Name, s))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// ParseFirewallRule reads the "v2.31|Action=Allow|Active=TRUE|Dir=In|LPort=3389|Name=...|" form.
func ParseFirewallRule(id, s string) FirewallRule {
	r := FirewallRule{ID: id}
	var ports []string
	for _, f := range strings.Split(s, "|") {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		switch k {
		case "Action":
			r.Action = v
		case "Active":
			r.Active = strings.EqualFold(v, "TRUE")
		case "Dir":
			r.Dir = v
		case "Name":
			r.Name = v
		case "LPort", "LPort2_10":
			ports = append(ports, v)
		}
	}
	r.Ports = strings.Join(ports, ",")
	return r
}

// AutoUpdatePolicy is the Windows Update policy (Policies\Microsoft\Windows\WindowsUpdate\AU).
type AutoUpdatePolicy struct {
	Set          bool `json:"set"`
	NoAutoUpdate bool `json:"no_auto_update"`
	AUOptions    int  `json:"au_options"` // 2 notify, 3 download, 4 install on a schedule, 5 local admin chooses
}

// ReadAutoUpdate reads the automatic updates policy.
func (h *Hives) ReadAutoUpdate() (AutoUpdatePolicy, error) {
	var p AutoUpdatePolicy
	if err := need(h.Software, SoftwareHive, h.Errs); err != nil {
		return p, err
	}
	const au = `Policies\Microsoft\Windows\WindowsUpdate\AU`
	n, ok, err := NumberValue(h.Software, au, "NoAutoUpdate")
	if err != nil {
		return p, err
	}
	p.NoAutoUpdate = ok && n != 0
	o, ok2, err := NumberValue(h.Software, au, "AUOptions")
	if err != nil {
		return p, err
	}
	p.AUOptions = int(o)
	p.Set = ok || ok2
	return p, nil
}

// ImageState is SOFTWARE\Microsoft\Windows\CurrentVersion\Setup\State\ImageState, e.g.
// IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE after sysprep /generalize /oobe.
func (h *Hives) ImageState() (string, error) {
	if err := need(h.Software, SoftwareHive, h.Errs); err != nil {
		return "", err
	}
	return StringValue(h.Software, `Microsoft\Windows\CurrentVersion\Setup\State`, "ImageState")
}

// LastUpdateInstall is when the newest update package was installed: the newest install time
// of the Component Based Servicing update packages (Package_for_*), else Windows Update's
// LastSuccessTime. where names the source; a zero time means neither is recorded.
func (h *Hives) LastUpdateInstall() (last time.Time, where string, err error) {
	if err := need(h.Software, SoftwareHive, h.Errs); err != nil {
		return last, "", err
	}
	const cbs = `Microsoft\Windows\CurrentVersion\Component Based Servicing\Packages`
	k, err := h.Software.Key(cbs)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return last, "", err
	}
	if k != nil {
		subs, err := k.Subkeys()
		if err != nil {
			return last, "", err
		}
		for _, s := range subs {
			if !strings.HasPrefix(strings.ToLower(s.Name), "package_for_") {
				continue
			}
			hi, okh, _ := keyNumber(s, "InstallTimeHigh")
			lo, okl, _ := keyNumber(s, "InstallTimeLow")
			if !okh || !okl {
				continue
			}
			if t := byteio.FileTime(hi<<32 | lo); t.After(last) {
				last, where = t, cbs+`\`+s.Name
			}
		}
	}
	if !last.IsZero() {
		return last, where, nil
	}
	const wu = `Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\Results\Install`
	s, err := StringValue(h.Software, wu, "LastSuccessTime")
	if err != nil || s == "" {
		return last, "", err
	}
	t, err := time.Parse("2006-01-02 15:04:05", s)
	if err != nil {
		return last, "", fmt.Errorf("%s: %s LastSuccessTime %q: %v", SoftwareHive, wu, s, err)
	}
	return t, wu + `\LastSuccessTime`, nil
}

func keyNumber(k *winreg.Key, name string) (uint64, bool, error) {
	v, err := k.Value(name)
	if err != nil {
		return 0, false, err
	}
	n, err := v.Uint()
	return n, err == nil, err
}

// InstalledFeatures lists the roles and features Server Manager records as installed.
func (h *Hives) InstalledFeatures() ([]string, error) {
	if err := need(h.Software, SoftwareHive, h.Errs); err != nil {
		return nil, err
	}
	k, err := h.Software.Key(`Microsoft\ServerManager\ServicingStorage\ServerComponentCache`)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	subs, err := k.Subkeys()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range subs {
		v, err := s.Value("InstallState")
		if err != nil {
			continue
		}
		if n, err := v.Uint(); err == nil && n == 1 {
			out = append(out, s.Name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// SAM account control bits.
const (
	acbDisabled = 0x0001
)

// Accounts reads the local accounts from SAM\Domains\Account\Users.
func (h *Hives) Accounts() ([]Account, error) {
	if err := need(h.SAM, SAMHive, h.Errs); err != nil {
		return nil, err
	}
	k, err := h.SAM.Key(`SAM\Domains\Account\Users`)
	if err != nil {
		return nil, err
	}
	subs, err := k.Subkeys()
	if err != nil {
		return nil, err
	}
	var out []Account
	for _, s := range subs {
		rid, err := strconv.ParseUint(s.Name, 16, 32)
		if err != nil {
			continue // "Names"
		}
		a, err := parseAccount(h.SAM.Name()+`\`+s.Name, s, uint32(rid))
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

func parseAccount(where string, k *winreg.Key, rid uint32) (Account, error) {
	a := Account{RID: rid}
	fv, err := k.Value("F")
	if err != nil {
		return a, err
	}
	f, err := fv.Data()
	if err != nil {
		return a, err
	}
	if len(f) < 0x3A {
		return a, byteio.Corrupt(where+`\F`, 0, "account record of %d bytes is too short", len(f))
	}
	a.Disabled = binary.LittleEndian.Uint16(f[0x38:])&acbDisabled != 0
	vv, err := k.Value("V")
	if err != nil {
		return a, err
	}
	v, err := vv.Data()
	if err != nil {
		return a, err
	}
	field := func(i int) ([]byte, error) {
		at := 0x0C * i
		if at+8 > len(v) {
			return nil, byteio.Corrupt(where+`\V`, int64(at), "field table cut short")
		}
		off, n := int64(binary.LittleEndian.Uint32(v[at:]))+0xCC, int64(binary.LittleEndian.Uint32(v[at+4:]))
		if off+n > int64(len(v)) {
			return nil, byteio.Corrupt(where+`\V`, int64(at), "field %d (%d bytes at %d) outside the record", i, n, off)
		}
		return v[off : off+n], nil
	}
	name, err := field(1)
	if err != nil {
		return a, err
	}
	a.Name = byteio.UTF16(name)
	nt, err := field(14)
	if err != nil {
		return a, err
	}
	// RC4-era hashes are 4 header bytes + 16 (20 in all); AES-era ones a 24-byte header with
	// the salt, then the encrypted hash: only a header means no password
	a.HasPassword = len(nt) == 0x14 || len(nt) > 0x18
	return a, nil
}

// PEMachine reads the machine field of a PE file's COFF header (0x8664 AMD64, 0xAA64 ARM64,
// 0x14C i386).
func PEMachine(t *filesystem.Tree, name string) (uint16, error) {
	ra, size, err := t.OpenReaderAt(name)
	if err != nil {
		return 0, err
	}
	return ReadPEMachine(name, ra, size)
}

// ReadPEMachine is PEMachine on an io.ReaderAt.
func ReadPEMachine(name string, r io.ReaderAt, size int64) (uint16, error) {
	dos, err := byteio.ReadAt(r, name, 0, 64)
	if err != nil {
		return 0, err
	}
	if string(dos[:2]) != "MZ" {
		return 0, byteio.Corrupt(name, 0, "no MZ signature")
	}
	peOff := int64(binary.LittleEndian.Uint32(dos[0x3C:]))
	if peOff+6 > size {
		return 0, byteio.Corrupt(name, 0x3C, "PE header offset %d is outside the %d-byte file", peOff, size)
	}
	pe, err := byteio.ReadAt(r, name, peOff, 6)
	if err != nil {
		return 0, err
	}
	if string(pe[:4]) != "PE\x00\x00" {
		return 0, byteio.Corrupt(name, peOff, "no PE signature")
	}
	return binary.LittleEndian.Uint16(pe[4:]), nil
}

// EventLog is the record count of one .evtx file.
type EventLog struct {
	Path    string `json:"path"`
	Records uint64 `json:"records"`
}

const (
	evtxHeaderSize = 4096
	evtxChunkSize  = 65536
)

// EventLogs counts the records of every .evtx file under Windows\System32\winevt\Logs.
func EventLogs(t *filesystem.Tree) ([]EventLog, error) {
	ents, err := t.ReadDir(EventLogDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []EventLog
	for _, e := range ents {
		if !e.Type().IsRegular() || !strings.HasSuffix(strings.ToLower(e.Name()), ".evtx") {
			continue
		}
		p := path.Join(EventLogDir, e.Name())
		ra, size, err := t.OpenReaderAt(p)
		if err != nil {
			return nil, err
		}
		n, err := CountEventRecords(p, ra, size)
		if err != nil {
			return nil, err
		}
		out = append(out, EventLog{Path: p, Records: n})
	}
	return out, nil
}

// CountEventRecords adds up the record ranges of the chunks of an EVTX file.
func CountEventRecords(name string, r io.ReaderAt, size int64) (uint64, error) {
	if size == 0 {
		return 0, nil
	}
	h, err := byteio.ReadAt(r, name, 0, 128)
	if err != nil {
		return 0, err
	}
	if string(h[:8]) != "ElfFile\x00" {
		return 0, byteio.Corrupt(name, 0, "no ElfFile signature")
	}
	chunks := int64(binary.LittleEndian.Uint16(h[42:]))
	var total uint64
	for i := int64(0); i < chunks; i++ {
		off := evtxHeaderSize + i*evtxChunkSize
		if off+24 > size {
			return 0, byteio.Corrupt(name, 42, "%d chunks do not fit the %d-byte file", chunks, size)
		}
		c, err := byteio.ReadAt(r, name, off, 24)
		if err != nil {
			return 0, err
		}
		if string(c[:8]) != "ElfChnk\x00" {
			continue // an unused chunk
		}
		first, last := binary.LittleEndian.Uint64(c[8:]), binary.LittleEndian.Uint64(c[16:])
		if last < first || last-first > evtxChunkSize {
			return 0, byteio.Corrupt(name, off+8, "chunk records %d to %d invalid", first, last)
		}
		total += last - first + 1
	}
	return total, nil
}
