package testfixture

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// cached runs build unless stampFile records the digest of the current scripts, under a lock in
// lockDir shared by every test process (packages test in parallel processes: one builds, the
// others wait), and then records the digest.
func cached(lockDir, stampFile string, scripts []string, build func() error) error {
	h := sha256.New()
	for _, s := range scripts {
		src, err := os.ReadFile(filepath.Join(RepoRoot(), "scripts", s))
		if err != nil {
			return err
		}
		h.Write(src)
	}
	stamp := hex.EncodeToString(h.Sum(nil)[:8])
	if err := os.MkdirAll(lockDir, 0o755); err != nil {
		return err
	}
	lock, err := os.OpenFile(filepath.Join(lockDir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if b, err := os.ReadFile(stampFile); err == nil && strings.TrimSpace(string(b)) == stamp {
		return nil
	}
	if err := build(); err != nil {
		return err
	}
	return os.WriteFile(stampFile, []byte(stamp+"\n"), 0o644)
}

// cachedBuild builds testdata/guest/name with build, once per version of the scripts.
func cachedBuild(name string, scripts []string, build func(out string) error) (string, error) {
	dir := filepath.Join(RepoRoot(), "testdata", "guest")
	out := filepath.Join(dir, name)
	return out, cached(dir, filepath.Join(dir, "."+name+".stamp"), scripts, func() error { return build(out) })
}

func runScript(script string, args ...string) error {
	path := filepath.Join(RepoRoot(), "scripts", script)
	if b, err := exec.Command("bash", append([]string{path}, args...)...).CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v\n%s", path, err, b)
	}
	return nil
}

var (
	guestRootOnce  sync.Once
	guestRootDir   string
	guestRootErr   error
	guestImageOnce sync.Once
	guestImageDir  string
	guestImageErr  error
)

func guestRoot() (string, error) {
	guestRootOnce.Do(func() {
		guestRootDir, guestRootErr = cachedBuild("root", []string{"make-guest-root.sh"}, func(out string) error {
			return runScript("make-guest-root.sh", out)
		})
	})
	return guestRootDir, guestRootErr
}

// GuestRoot returns a private copy of a real Debian 12 root filesystem made by
// scripts/make-guest-root.sh (debootstrap), built once per script version and cached.
func GuestRoot(t testing.TB) string {
	t.Helper()
	src, err := guestRoot()
	if err != nil {
		t.Fatalf("building the Debian guest root: %v", err)
	}
	cp := filepath.Join(t.TempDir(), "guest")
	if b, err := exec.Command("cp", "-a", src, cp).CombinedOutput(); err != nil {
		t.Fatalf("copying the guest root: %v\n%s", err, b)
	}
	return cp
}

// GuestImage returns the directory that scripts/make-guest-image.sh made from the guest root:
// guest.qcow2 (the dirty, bootable Debian guest), vmlinuz, initrd.img and cmdline. It is shared:
// builds boot copies of it, never the file itself.
func GuestImage(t testing.TB) string {
	t.Helper()
	guestImageOnce.Do(func() {
		root, err := guestRoot()
		if err != nil {
			guestImageErr = err
			return
		}
		guestImageDir, guestImageErr = cachedBuild("image", []string{"make-guest-root.sh", "make-guest-image.sh"}, func(out string) error {
			return runScript("make-guest-image.sh", root, out)
		})
	})
	if guestImageErr != nil {
		t.Fatalf("building the Debian guest image: %v", guestImageErr)
	}
	return guestImageDir
}
