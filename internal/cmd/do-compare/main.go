// Command do-compare is the Go half of `make digitalocean` (scripts/do-img-check.sh), which runs
// DigitalOcean's own Marketplace image validation script (digitalocean/marketplace-partners at
// commit 65b85d4, scripts/99-img-check.sh, from a checkout the caller gives; never copied here)
// in a chroot of each fixture image and compares its verdicts, check by check, with this
// checker's on the same image:
//
//	do-compare extract IMAGE DIR         copy the image's root tree (as the checker's readers see
//	                                     it, /boot and the other fstab mounts in place) into DIR
//	do-compare table -o FILE NAME=TRANSCRIPT=REPORT...
//	                                     write docs/digitalocean.md from the script's transcripts
//	                                     and our JSON reports (check --profile digitalocean)
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/atomicfile"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "extract":
		if len(os.Args) != 4 {
			usage()
		}
		var n int
		n, err = extract(os.Args[2], os.Args[3])
		if err == nil {
			fmt.Fprintf(os.Stderr, "do-compare: %s: %d entries extracted into %s\n", os.Args[2], n, os.Args[3])
		}
	case "table":
		err = table(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "do-compare:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: do-compare extract IMAGE DIR | table -o FILE [-commit SHA] NAME=TRANSCRIPT=REPORT...")
	os.Exit(2)
}

// extract copies the image's Linux root tree into dir: directories, regular files and symbolic
// links with their permission bits (device nodes and sockets are not copied). A directory the
// readers could not read is an error: the script would judge a tree with holes.
func extract(imagePath, dir string) (int, error) {
	img, err := inspect.Open(imagePath)
	if err != nil {
		return 0, err
	}
	defer img.Close()
	if img.Root == nil {
		if img.RootErr != nil {
			return 0, img.RootErr
		}
		return 0, fmt.Errorf("%s: %w", imagePath, inspect.ErrNoLinuxRoot)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	n := 0
	var dirs []struct {
		p    string
		mode fs.FileMode
	}
	err = img.Root.Walk(".", func(p string, d fs.DirEntry) error {
		fi, err := img.Root.Lstat(p)
		if err != nil {
			return err
		}
		out := filepath.Join(dir, filepath.FromSlash(p))
		switch m := fi.Mode(); {
		case m.IsDir():
			if err := os.MkdirAll(out, 0o755); err != nil {
				return err
			}
			dirs = append(dirs, struct {
				p    string
				mode fs.FileMode
			}{out, m.Perm() | m&(fs.ModeSticky|fs.ModeSetuid|fs.ModeSetgid)})
		case m&fs.ModeSymlink != 0:
			target, err := img.Root.ReadLink(p)
			if err != nil {
				return err
			}
			if err := os.Symlink(target, out); err != nil {
				return err
			}
		case m.IsRegular():
			if err := copyFile(img, p, out, m); err != nil {
				return err
			}
		default:
			return nil
		}
		n++
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("%s: %w", imagePath, err)
	}
	// the directories' own modes last, once nothing more is written into them (/tmp is 1777)
	for _, d := range dirs {
		if err := os.Chmod(d.p, osMode(d.mode)); err != nil {
			return n, err
		}
	}
	return n, nil
}

func osMode(m fs.FileMode) os.FileMode { return os.FileMode(m) }

func copyFile(img *inspect.Image, p, out string, m fs.FileMode) error {
	f, err := img.Root.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	w, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, f); err != nil {
		w.Close()
		return fmt.Errorf("/%s: %w", p, err)
	}
	if err := w.Close(); err != nil {
		return err
	}
	return os.Chmod(out, osMode(m.Perm()|m&(fs.ModeSticky|fs.ModeSetuid|fs.ModeSetgid)))
}

// table reads each image's transcript of DigitalOcean's script and our JSON report and writes
// the comparison page.
func table(args []string) error {
	fl := flag.NewFlagSet("table", flag.ContinueOnError)
	out := fl.String("o", "docs/digitalocean.md", "write the page to `FILE`")
	commit := fl.String("commit", ScriptCommit, "the commit of digitalocean/marketplace-partners the script was taken from")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() == 0 {
		return errors.New("table: no NAME=TRANSCRIPT=REPORT given")
	}
	if *commit != ScriptCommit {
		return fmt.Errorf("table: the script is pinned at %s, not %s", ScriptCommit, *commit)
	}
	var run Run
	ours := map[string]Ours{}
	for _, a := range fl.Args() {
		parts := strings.SplitN(a, "=", 3)
		if len(parts) != 3 {
			return fmt.Errorf("table: %q is not NAME=TRANSCRIPT=REPORT", a)
		}
		text, err := os.ReadFile(parts[1])
		if err != nil {
			return err
		}
		v, err := ParseTranscript(string(text))
		if err != nil {
			return fmt.Errorf("%s: %w", parts[1], err)
		}
		run.Images = append(run.Images, ImageRun{Name: parts[0], Verdicts: v})
		rep, err := readReport(parts[2])
		if err != nil {
			return err
		}
		ours[parts[0]] = rep
	}
	page, err := Page(run, ours)
	if err != nil {
		return err
	}
	return atomicfile.Write(*out, func(w io.Writer) error {
		_, err := io.WriteString(w, page)
		return err
	})
}

func readReport(p string) (Ours, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	o, err := ReadOurs(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return o, nil
}
