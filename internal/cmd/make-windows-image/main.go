// Command make-windows-image writes a Windows Server image (see internal/winimage: MBR, System
// Reserved and C: NTFS volumes built with mkntfs and libntfs-3g, registry hives written by
// hivexregedit) to a file. The demo checks a dirty and a clean one:
//
//	go run ./internal/cmd/make-windows-image [-dirty] [-format raw|vpc] OUT
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/marketready/packer-plugin-marketplace/internal/winimage"
)

func main() {
	dirty := flag.Bool("dirty", false, "break every Windows rule once")
	format := flag.String("format", "vpc", "raw, or vpc (a fixed VHD)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: make-windows-image [-dirty] [-format raw|vpc] OUT")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), winimage.Options{Dirty: *dirty, Format: *format}); err != nil {
		fmt.Fprintln(os.Stderr, "make-windows-image:", err)
		os.Exit(1)
	}
}

// run builds the image in a scratch directory and copies it to out.
func run(out string, o winimage.Options) error {
	work, err := os.MkdirTemp("", "windows-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	img, err := winimage.Build(work, o)
	if err != nil {
		return err
	}
	return copyFile(img, out)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
