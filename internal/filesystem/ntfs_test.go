package filesystem_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/filesystem"
	"github.com/marketready/packer-plugin-marketplace/internal/filesystem/ntfs"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// windowsTree is a small Windows-like tree: a directory big enough to need an index B-tree,
// a file too big to be resident, a resident and an empty file, non-ASCII names, a junction
// (absolute host symlink) and a relative symbolic link.
func windowsTree(t testing.TB) string {
	dir := t.TempDir()
	sys := filepath.Join(dir, "Windows", "System32")
	os.MkdirAll(filepath.Join(sys, "config"), 0o755)
	os.MkdirAll(filepath.Join(dir, "Users", "Administrator", ".ssh"), 0o755)
	os.WriteFile(filepath.Join(dir, "Users", "Administrator", ".ssh", "authorized_keys"), []byte("ssh-ed25519 AAAA test\n"), 0o644)
	os.MkdirAll(filepath.Join(dir, "Users", "Zoë"), 0o755)
	os.WriteFile(filepath.Join(dir, "Users", "Zoë", "naïve.txt"), []byte("ünïcödé\n"), 0o644)
	for i := 0; i < 400; i++ {
		os.WriteFile(filepath.Join(sys, fmt.Sprintf("driver-%03d.sys", i)), []byte(fmt.Sprint(i)), 0o644)
	}
	big := make([]byte, 2<<20+123)
	rand.Read(big)
	os.WriteFile(filepath.Join(sys, "config", "SOFTWARE"), big, 0o644)
	os.WriteFile(filepath.Join(dir, "Windows", "empty.log"), nil, 0o644)
	// a file written in pieces with a spacer between them (scripts/ntfs-from-dir.c): hundreds
	// of runs, more than an MFT record holds, so NTFS moves its $DATA and $FILE_NAME into
	// extension records named by an attribute list
	frag := filepath.Join(dir, "PerfLogs")
	os.MkdirAll(frag, 0o755)
	b := make([]byte, 3<<20+511)
	rand.Read(b)
	os.WriteFile(filepath.Join(frag, "fragmented-trace.etl"), b, 0o644)
	// a folder compressed as Explorer does: LZNT1 units, stored units, sparse (zero) units
	comp := filepath.Join(dir, "Windows", "compressed-logs")
	os.MkdirAll(comp, 0o755)
	var log bytes.Buffer
	for i := 0; log.Len() < 1<<20; i++ {
		fmt.Fprintf(&log, "2026-11-24 08:%02d:%02d INFO request %d served in %d ms\r\n", i/60%60, i%60, i, i*7%1000)
	}
	os.WriteFile(filepath.Join(comp, "app.log"), log.Bytes(), 0o644)
	mixed := make([]byte, 300<<10)
	rand.Read(mixed[:70<<10]) // incompressible, then zeros
	os.WriteFile(filepath.Join(comp, "mixed.bin"), mixed, 0o644)
	os.WriteFile(filepath.Join(comp, "tiny.txt"), []byte("resident\n"), 0o644)
	os.Symlink("/Users", filepath.Join(dir, "Documents and Settings"))
	os.Symlink("../Users/Zoë", filepath.Join(dir, "Windows", "zoe"))
	return dir
}

func openNTFS(t testing.TB, img string) *ntfs.FS {
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, _ := f.Stat()
	v, err := ntfs.Open(img, f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestNTFSMatchesTheSourceTree(t *testing.T) {
	host := windowsTree(t)
	for _, cluster := range []string{"512", "4096", "65536"} {
		t.Run("cluster"+cluster, func(t *testing.T) {
			img := testfixture.Filesystem(t, "ntfs", host, "24M", "-c", cluster)
			tree := filesystem.NewTree(openNTFS(t, img))
			compareWithHost(t, tree, host)
			if cluster == "4096" {
				// the fixture does exercise attribute lists (ntfs-3g's own tool says so)
				info := exec.Command("ntfsinfo", "-F", "/PerfLogs/fragmented-trace.etl", img)
				info.Env = append(os.Environ(), "PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin")
				if out, err := info.CombinedOutput(); err != nil || !strings.Contains(string(out), "$ATTRIBUTE_LIST") {
					t.Fatalf("the fragmented file has no attribute list: %v\n%s", err, out)
				}
				// and NTFS compression: the log's $DATA carries the compressed flag
				info = exec.Command("ntfsinfo", "-v", "-F", "/Windows/compressed-logs/app.log", img)
				info.Env = append(os.Environ(), "PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin")
				if out, err := info.CombinedOutput(); err != nil || !strings.Contains(string(out), "Compression unit:\t 4") {
					t.Fatalf("the log is not compressed: %v\n%s", err, out)
				}
			}

			// lookups ignore case, as on Windows, and report the stored name
			got, err := tree.ReadFile("WINDOWS/system32/Config/software", 4<<20)
			if err != nil || len(got) != 2<<20+123 {
				t.Fatalf("case-insensitive read: %d bytes, %v", len(got), err)
			}
			if p, err := tree.Resolve("documents and settings/ADMINISTRATOR/.ssh"); err != nil || p != "/Users/Administrator/.ssh" {
				t.Fatalf("junction resolves to %q, %v", p, err)
			}
			if p, err := tree.Resolve("Windows/zoe/naïve.txt"); err != nil || p != "/Users/Zoë/naïve.txt" {
				t.Fatalf("relative link resolves to %q, %v", p, err)
			}
			// the volume's own metadata files are not part of the tree
			if _, err := tree.Stat("$MFT"); err == nil {
				t.Fatal("$MFT is listed")
			}
		})
	}
}

func TestNTFSRejectsOtherFilesystems(t *testing.T) {
	img := testfixture.Filesystem(t, "ext4", windowsTree(t), "16M")
	b, _ := os.ReadFile(img)
	if _, err := ntfs.Open("x.img", bytes.NewReader(b), int64(len(b))); err == nil {
		t.Fatal("ext4 opened as NTFS")
	}
}

// FuzzNTFS opens arbitrary bytes as NTFS and walks and reads everything.
func FuzzNTFS(f *testing.F) {
	// a few small files keep the tree in the MFT (resident index roots and data) and the
	// blocks next to it, so the volume's first 288 KiB, the seed, hold all of it; reads past
	// the seed are errors
	dir := f.TempDir()
	os.MkdirAll(filepath.Join(dir, "Windows", "System32"), 0o755)
	os.WriteFile(filepath.Join(dir, "Windows", "System32", "a.dll"), []byte("MZ"), 0o644)
	os.WriteFile(filepath.Join(dir, "Windows", "hosts"), []byte("127.0.0.1 localhost\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "Windows", "big"), bytes.Repeat([]byte("x"), 3000), 0o644)
	os.Symlink("/Windows", filepath.Join(dir, "link"))
	os.Symlink("Windows/hosts", filepath.Join(dir, "rel"))
	os.MkdirAll(filepath.Join(dir, "compressed-x"), 0o755)
	os.WriteFile(filepath.Join(dir, "compressed-x", "log"), bytes.Repeat([]byte("GET /index.html 200\r\n"), 600), 0o644)
	img := testfixture.Filesystem(f, "ntfs", dir, "2M", "-c", "512", "-s", "512")
	// a named $DATA stream (an alternate data stream), read by Xattrs
	stream := filepath.Join(f.TempDir(), "stream")
	os.WriteFile(stream, []byte("password = in-a-stream\n"), 0o644)
	cmd := exec.Command("ntfscp", "-f", "-N", "creds", img, stream, "Windows/hosts")
	cmd.Env = append(os.Environ(), "PATH="+os.Getenv("PATH")+":/usr/sbin:/sbin")
	if out, err := cmd.CombinedOutput(); err != nil {
		f.Fatalf("ntfscp: %v\n%s", err, out)
	}
	b, err := os.ReadFile(img)
	if err != nil {
		f.Fatal(err)
	}
	seed := b[:288<<10]
	if v, err := ntfs.Open("seed", bytes.NewReader(seed), int64(len(seed))); err != nil {
		f.Fatal(err)
	} else if err := exercise(v); err != nil {
		f.Fatalf("the seed does not hold the whole tree: %v", err)
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := ntfs.Open("fuzz.img", bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		exercise(v)
	})
}
