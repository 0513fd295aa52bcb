package boot

import (
	"fmt"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/systemd"
	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
)

// The booted command lines decide systemd's ConditionKernelCommandLine= (and what else rests on
// /proc/cmdline). internal/facts/systemd cannot import this package (this package may read
// systemd's facts), so it is given them through its hook.
func init() { systemd.ImageCmdlines = bootedCmdlines }

// bootedCmdlines are the command lines of the entries the VM may boot unattended, with the
// words the loader adds itself: GRUB's linux command (grub-core/loader/*/linux.c
// grub_cmd_linux, GRUB 2.06) puts "BOOT_IMAGE=" and the kernel path as written before the
// arguments, systemd-boot 252 (src/boot/efi/boot.c, type #1 entries) an "initrd=" word for each
// initrd line; their values are left to the condition as unknown.
func bootedCmdlines(img *inspect.Image) ([]systemd.KernelCmdline, error) {
	ch := Of(img)
	if ch.Err != nil {
		return nil, ch.Err
	}
	booted, _ := ch.Booted()
	out := make([]systemd.KernelCmdline, 0, len(booted))
	for _, e := range booted {
		where := e.Path
		if e.Line > 0 {
			where = fmt.Sprintf("%s:%d", e.Path, e.Line)
		}
		k := systemd.KernelCmdline{Where: where + " (" + e.Describe() + ")", Value: e.Cmdline}
		switch {
		case e.Loader == LoaderGRUB || e.Loader == LoaderGRUBBLS:
			k.AddedKeys = []string{"BOOT_IMAGE"}
		case e.SD != nil && !e.SD.IsUKI && len(e.Initrd) > 0:
			k.AddedKeys = []string{"initrd"}
		}
		out = append(out, k)
	}
	return out, nil
}
