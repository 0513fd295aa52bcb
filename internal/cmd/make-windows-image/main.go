// Command make-windows-image writes the Windows Server fixture image the tests use (MBR, System
// Reserved and C: NTFS volumes built with mkntfs and libntfs-3g, registry hives written by
// hivexregedit) to a file, for the demo:
//
//	go run ./internal/cmd/make-windows-image [-dirty] [-format raw|vpc] OUT
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

func main() {
	dirty := flag.Bool("dirty", false, "break every Windows rule once")
	format := flag.String("format", "vpc", "raw, or vpc (a fixed VHD)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: make-windows-image [-dirty] [-format raw|vpc] OUT")
		os.Exit(2)
	}
	var scratch []string
	defer func() {
		for _, d := range scratch {
			os.RemoveAll(d)
		}
	}()
	env := testfixture.Env{
		TempDir: func() string {
			d, err := os.MkdirTemp("", "windows-image-")
			if err != nil {
				panic(err)
			}
			scratch = append(scratch, d)
			return d
		},
		Fatalf: func(format string, args ...any) { panic(fmt.Sprintf(format, args...)) },
	}
	defer func() {
		if p := recover(); p != nil {
			for _, d := range scratch {
				os.RemoveAll(d)
			}
			fmt.Fprintln(os.Stderr, "make-windows-image:", p)
			os.Exit(1)
		}
	}()
	img := testfixture.BuildWindowsImage(env, testfixture.WindowsOptions{Dirty: *dirty, Format: *format})
	if err := copyFile(img, flag.Arg(0)); err != nil {
		panic(err)
	}
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
