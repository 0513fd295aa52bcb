package boot

import (
	"fmt"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/partition"
)

func runOne(t *testing.T, r *grubRun, cfg string) *gresult {
	t.Helper()
	res, err := r.start(gfile{dev: r.devs[0], path: cfg})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

const twoEntries = `menuentry 'Good' --id good {
	linux /vmlinuz-1 ro console=ttyS0
}
menuentry 'Bad' --id bad {
	linux /vmlinuz-2 ro quiet
}
`

// set default= by index, by title, by id, by a '>' path into a submenu; an invalid default
// is entry 0; an unset one too.
func TestGrubDefaultSelection(t *testing.T) {
	sub := `if [ x"${feature_menuentry_id}" = xy ]; then
  menuentry_id_option="--id"
else
  menuentry_id_option=""
fi
submenu 'Advanced' $menuentry_id_option 'adv' {
	menuentry 'Old' --id old { linux /vmlinuz-0 ro old }
	menuentry 'Recovery' --id rec { linux /vmlinuz-0 ro single }
}
`
	for _, tc := range []struct{ def, want string }{
		{"", "Good: ro console=ttyS0"},
		{"set default=0\n", "Good: ro console=ttyS0"},
		{"set default=1\n", "Bad: ro quiet"},
		{"set default=\"Bad\"\n", "Bad: ro quiet"},
		{"set default=bad\n", "Bad: ro quiet"},
		{"set default=7\n", "Good: ro console=ttyS0"},
		{"set default=3\n", "Good: ro console=ttyS0"}, // one past the last of the three top-level entries
		{"set default=nosuch\n", "Good: ro console=ttyS0"},
		{"set default='2>1'\n", "Advanced>Recovery: ro single"},
		{"set default='adv>old'\n", "Advanced>Old: ro old"},
		{"set default='Advanced>Recovery'\n", "Advanced>Recovery: ro single"},
		{"set default=2\n", "Advanced>Old: ro old"},
		{"set default=0x1\n", "Bad: ro quiet"},
		{"default=1\n", "Bad: ro quiet"},
	} {
		r := testRun(map[string]string{"/boot/grub/grub.cfg": tc.def + twoEntries + sub})
		res := runOne(t, r, "/boot/grub/grub.cfg")
		if got := joinLines(cmdlines(res.entries, true)); got != tc.want {
			t.Errorf("%q: booted %q, want %q (%s)", tc.def, got, tc.want, res.decision)
		}
	}
}

// $saved_entry from grubenv (load_env), as grub-mkconfig writes it for GRUB_DEFAULT=saved.
func TestGrubSavedEntry(t *testing.T) {
	env := grubenvSignature + "saved_entry=Bad\n" + strings.Repeat("#", 1024-len(grubenvSignature)-len("saved_entry=Bad\n"))
	cfg := "if [ -s $prefix/grubenv ]; then\n  load_env\nfi\nset default=\"${saved_entry}\"\n" + twoEntries
	r := testRun(map[string]string{"/boot/grub/grub.cfg": cfg, "/boot/grub/grubenv": env})
	res := runOne(t, r, "/boot/grub/grub.cfg")
	if got := joinLines(cmdlines(res.entries, true)); got != "Bad: ro quiet" {
		t.Errorf("booted %q (%s)", got, res.decision)
	}
	// a block load_env refuses leaves the variables unset (GRUB says so and goes on): entry 0
	r = testRun(map[string]string{"/boot/grub/grub.cfg": cfg, "/boot/grub/grubenv": "saved_entry=Bad\n"})
	res = runOne(t, r, "/boot/grub/grub.cfg")
	if got := joinLines(cmdlines(res.entries, true)); got != "Good: ro console=ttyS0" {
		t.Errorf("refused block: booted %q (%s)", got, res.decision)
	}
	// next_entry (grub-reboot) wins over default, as grub-mkconfig's script says
	env2 := grubenvSignature + "next_entry=Good\nsaved_entry=Bad\n"
	cfg2 := "load_env\nif [ \"${next_entry}\" ] ; then\n   set default=\"${next_entry}\"\nelse\n   set default=\"${saved_entry}\"\nfi\n" + twoEntries
	r = testRun(map[string]string{"/boot/grub/grub.cfg": cfg2, "/boot/grub/grubenv": env2})
	res = runOne(t, r, "/boot/grub/grub.cfg")
	if got := joinLines(cmdlines(res.entries, true)); got != "Good: ro console=ttyS0" {
		t.Errorf("next_entry: booted %q (%s)", got, res.decision)
	}
}

// configfile and source, relative to $root and $prefix as the ESP's stub sets them; a loop
// is an error; a file that is not there is skipped, as GRUB skips it.
func TestGrubConfigfileAndSource(t *testing.T) {
	esp := map[string]string{"/EFI/debian/grub.cfg": "search.fs_uuid uuid-2 root\nset prefix=($root)/grub\nconfigfile $prefix/grub.cfg\nmenuentry 'Stub' { linux /vmlinuz ro stub }\n"}
	boot := map[string]string{
		"/grub/grub.cfg":   "set default=1\nsource ${prefix}/custom.cfg\nmenuentry 'Main' { linux /vmlinuz ro console=ttyS0 }\n",
		"/grub/custom.cfg": "menuentry 'Sourced' { linux /vmlinuz ro quiet }\n",
	}
	r := testRun(esp, boot)
	res := runOne(t, r, "/EFI/debian/grub.cfg")
	if got := joinLines(cmdlines(res.entries, true)); got != "Main: ro console=ttyS0" {
		t.Errorf("booted %q (%s)", got, res.decision)
	}
	if got := joinLines(cmdlines(res.entries, false)); got != "Sourced: ro quiet" {
		t.Errorf("not booted %q", got)
	}
	if !r.visited["(hd0,gpt2)/grub/grub.cfg"] || !r.visited["(hd0,gpt2)/grub/custom.cfg"] {
		t.Errorf("visited %v", r.visited)
	}

	loop := testRun(map[string]string{"/a.cfg": "source /b.cfg\n", "/b.cfg": "configfile /a.cfg\n"})
	if _, err := loop.start(gfile{dev: loop.devs[0], path: "/a.cfg"}); err == nil || !strings.Contains(err.Error(), "loop") {
		t.Errorf("loop: %v", err)
	}
	self := testRun(map[string]string{"/a.cfg": "source $prefix/a.cfg\n"})
	if _, err := self.start(gfile{dev: self.devs[0], path: "/a.cfg"}); err == nil || !strings.Contains(err.Error(), "loop") {
		t.Errorf("self: %v", err)
	}
	// a chain of distinct files deeper than the bound is an error, never a shortened script
	deep := map[string]string{}
	for i := 0; i < maxGrubDepth+2; i++ {
		deep[fmt.Sprintf("/c%d.cfg", i)] = fmt.Sprintf("source /c%d.cfg\n", i+1)
	}
	deep[fmt.Sprintf("/c%d.cfg", maxGrubDepth+2)] = twoEntries
	dr := testRun(deep)
	if _, err := dr.start(gfile{dev: dr.devs[0], path: "/c0.cfg"}); err == nil || !strings.Contains(err.Error(), "nested more than") {
		t.Errorf("deep: %v", err)
	}
	delete(deep, "/c0.cfg")
	dr = testRun(deep)
	if res, err := dr.start(gfile{dev: dr.devs[0], path: "/c2.cfg"}); err != nil || len(res.entries) != 2 {
		t.Errorf("%d deep: %v", maxGrubDepth, err)
	}
	missing := testRun(map[string]string{"/a.cfg": "source /nothere.cfg\n" + twoEntries})
	res = runOne(t, missing, "/a.cfg")
	if len(cmdlines(res.entries, true)) != 1 {
		t.Errorf("missing source: %+v", res.entries)
	}
}

// Variables set in the script expand in linux lines; unset ones vanish; a function sets
// $vt_handoff as Ubuntu's does; a condition on the platform leaves both values.
func TestGrubExpansion(t *testing.T) {
	cfg := `set cons="console=ttyS0 earlyprintk=ttyS0"
function gfxmode {
	set gfxpayload="${1}"
	if [ "${1}" = "keep" ]; then
		set vt_handoff=vt.handoff=7
	else
		set vt_handoff=
	fi
}
set linux_gfx_mode=keep
menuentry 'Ubuntu' {
	gfxmode $linux_gfx_mode
	linux /vmlinuz ro $cons $vt_handoff $nosuch '$literal'
}
`
	r := testRun(map[string]string{"/g.cfg": cfg})
	res := runOne(t, r, "/g.cfg")
	if got := joinLines(cmdlines(res.entries, true)); got != "Ubuntu: ro console=ttyS0 earlyprintk=ttyS0 vt.handoff=7 $literal" {
		t.Errorf("got %q", got)
	}
	plat := "if [ \"$grub_platform\" = efi ]; then set x=console=ttyS0; else set x=quiet; fi\nmenuentry 'A' { linux /v ro $x }\n"
	r = testRun(map[string]string{"/g.cfg": plat})
	res = runOne(t, r, "/g.cfg")
	if got := joinLines(cmdlines(res.entries, true)); got != "A: ro console=ttyS0 | A: ro quiet" && got != "A: ro quiet | A: ro console=ttyS0" {
		t.Errorf("platform: got %q", got)
	}
	// a default that depends on what is not known offline is undecided: every entry is judged
	und := "if loadfont unicode; then set default=1; fi\n" + twoEntries
	r = testRun(map[string]string{"/g.cfg": und})
	res = runOne(t, r, "/g.cfg")
	if len(cmdlines(res.entries, true)) != 2 || !strings.Contains(res.decision, "not decided") {
		t.Errorf("undecided: %+v %s", res.entries, res.decision)
	}
}

// An entry under a condition not known offline (Debian's UEFI firmware entry, on EFI only)
// leaves the default decided when it cannot be, or move, the entry chosen.
func TestGrubConditionalEntries(t *testing.T) {
	fw := "if [ \"$grub_platform\" = \"efi\" ]; then\nmenuentry 'UEFI Firmware Settings' --id uefi-firmware {\n\tfwsetup\n}\nfi\n"
	for _, tc := range []struct {
		cfg     string
		decided bool
	}{
		{"set default=0\n" + twoEntries + fw, true},
		{"set default=1\n" + twoEntries + fw, true},
		{"set default=Bad\n" + twoEntries + fw, true},
		{"set default=nosuch\n" + twoEntries + fw, true},
		{"set default=2\n" + twoEntries + fw, false},
		{"set default=uefi-firmware\n" + twoEntries + fw, false},
		{"set default=0\n" + fw + twoEntries, false},
		{"set default=Good\n" + fw + twoEntries, true},
	} {
		r := testRun(map[string]string{"/g.cfg": tc.cfg})
		res := runOne(t, r, "/g.cfg")
		if got := len(cmdlines(res.entries, true)) == 1; got != tc.decided {
			t.Errorf("%q: decided %v (%s)", tc.cfg, got, res.decision)
		}
	}
}

func TestGrubenv(t *testing.T) {
	block := grubenvSignature + "saved_entry=a\\\\b\\\nc\nkernelopts=root=/dev/x ro\n=novalue\nnoeq\n#padding\nlast=unterminated"
	vars, err := ParseGrubenv([]byte(block))
	if err != nil {
		t.Fatal(err)
	}
	// the empty name is a name; "noeq\n#padding\nlast" has no newline after its value: dropped
	if len(vars) != 3 || vars[0].Key != "saved_entry" || vars[0].Value != "a\\b\nc" || vars[1].Value != "root=/dev/x ro" || vars[2].Key != "" || vars[2].Value != "novalue" {
		t.Errorf("%+v", vars)
	}
	if _, err := ParseGrubenv([]byte("saved_entry=x\n")); err == nil || !strings.Contains(err.Error(), "offset 0") {
		t.Errorf("no signature: %v", err)
	}
	if _, err := ParseGrubenv(append([]byte(grubenvSignature), make([]byte, MaxGrubenv)...)); err == nil {
		t.Error("an oversized block is accepted")
	}
}

func TestLineKeyValue(t *testing.T) {
	for in, want := range map[string]string{
		"options\tconsole=ttyS0 ro":    "options|console=ttyS0 ro",
		"  default \t debian-*.conf  ": "default|debian-*.conf",
		"title \"Debian 12\"":          "title|Debian 12",
		"linux":                        "linux|",
	} {
		k, v, ok := LineKeyValue(in)
		if !ok || k+"|"+v != want {
			t.Errorf("%q: %q %q %v, want %q", in, k, v, ok, want)
		}
	}
	if _, _, ok := LineKeyValue("  # options x"); ok {
		t.Error("a comment is a key")
	}
	e := ParseLoaderEntry([]byte("title x\nlinux\t/vmlinuz\noptions\tro\toptions2\noptions console=ttyS0\narchitecture aa64\n"))
	if e.Linux != "/vmlinuz" || e.Cmdline != "ro\toptions2 console=ttyS0" || e.Line != 3 || e.Arch != "aa64" {
		t.Errorf("%+v", e)
	}
	if !matchFold("Debian-6.1*", "debian-6.1.0.conf") || matchFold("ubuntu*", "debian.conf") {
		t.Error("matchFold")
	}
}

func FuzzGrubenv(f *testing.F) {
	f.Add([]byte(grubenvSignature + "saved_entry=x\nnext_entry=\\\\\n###"))
	f.Add([]byte(grubenvSignature + "a=b"))
	f.Add([]byte("# GRUB Environment Block"))
	f.Fuzz(func(t *testing.T, data []byte) {
		vars, err := ParseGrubenv(data)
		if err != nil {
			return
		}
		for _, v := range vars {
			if strings.Contains(v.Key, "=") || v.Offset < len(grubenvSignature) || v.Offset >= len(data) {
				t.Fatalf("%+v", v)
			}
		}
	})
}

func FuzzLoaderEntry(f *testing.F) {
	f.Add([]byte("title Debian\nversion 6.1\nlinux /6.1/linux\ninitrd /6.1/initrd\noptions ro console=ttyS0\n"))
	f.Add([]byte("options\tconsole=ttyS0\n  default \"x*\"\n#c\narchitecture x64\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		e := ParseLoaderEntry(data)
		if e.Line < 0 || e.Line > strings.Count(string(data), "\n")+1 {
			t.Fatalf("line %d", e.Line)
		}
		for _, l := range strings.Split(string(data), "\n") {
			LineKeyValue(l)
		}
	})
}

// The interpreter never panics, hangs or grows without bound on any script (it errors).
func FuzzGrubScript(f *testing.F) {
	f.Add([]byte(twoEntries + "set default=1\n"))
	f.Add([]byte("function f { f }\nf\n"))
	f.Add([]byte("source $prefix/g.cfg\n"))
	f.Add([]byte("if [ a = a ]; then set default='0>1'; elif true; then x=1; else y=2; fi\nsubmenu s { menuentry m { linux /v $x } }\n"))
	f.Add([]byte("for i in 1 2; do set a=\"$a$a$a$a\"; done\nmenuentry x { linux /v $a$a$a$a }\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := testRun(map[string]string{"/g.cfg": string(data)})
		r.start(gfile{dev: r.devs[0], path: "/g.cfg"})
	})
}

// globFold reads at most MaxLoaderEntries matches; one more is an error, never a shorter list.
func TestGlobFoldBound(t *testing.T) {
	files := map[string]string{}
	for i := 0; i < MaxLoaderEntries; i++ {
		files[fmt.Sprintf("/Loader/Entries/e%03d.CONF", i)] = "options x\n"
	}
	b := inspect.BootPartition{Role: inspect.RoleESP, Partition: &partition.Partition{Number: 1}, Tree: filesystem.NewTree(newMemVol(files))}
	got, err := globFold(b, "/loader/entries/*.conf")
	if err != nil || len(got) != MaxLoaderEntries || got[0] != "/Loader/Entries/e000.CONF" {
		t.Fatalf("%d matches, %v", len(got), err)
	}
	files["/loader/ENTRIES/extra.conf"] = "options x\n"
	b.Tree = filesystem.NewTree(newMemVol(files))
	if _, err := globFold(b, "/loader/entries/*.conf"); err == nil || !strings.Contains(err.Error(), "more than 256") {
		t.Fatalf("257 matches: %v", err)
	}
}
