package rules

import (
	"io"

	"github.com/marketready/packer-plugin-marketplace/internal/facts/boot"
)

// The boot chain (GRUB, systemd-boot, unified kernel images, kernel-install's command line,
// the booted kernel) is read by internal/facts/boot; what follows hands its kernel fact to the
// driver, kernel-configuration and SACK rules in the shape they judge.

// bootKernel is the kernel the image starts by default and the initramfs it starts with.
type bootKernel struct {
	release string
	from    string // the file that starts it (vmlinuz, a boot entry, a UKI)
	// sdDefault says it is systemd-boot's default entry
	sdDefault bool
	// initrds are the initramfs files in the order the boot loader loads them; a UKI's is its
	// .initrd section. None when the boot configuration names none.
	initrds []initrdRef
	// uki is set when the kernel is a unified kernel image (its initramfs is inside it).
	uki string
	// missing are the files GRUB's booted entry loads that do not exist where GRUB reads them;
	// kernelMissing says the kernel is one (the entry does not boot).
	missing       []string
	kernelMissing bool
}

// initrdRef is one initramfs to list.
type initrdRef struct {
	where   string
	section bool // the initramfs is the .initrd section of the UKI at where
	open    func() (io.ReadCloser, error)
}

// bootKernel is the boot chain's default kernel (see boot.Kernel); release is "" when no
// kernel is found.
func (c *Context) bootKernel() (bootKernel, error) {
	ch, err := c.bootChain()
	if err != nil {
		return bootKernel{}, err
	}
	return kernelOf(ch.Kernel), nil
}

func kernelOf(k boot.Kernel) bootKernel {
	bk := bootKernel{release: k.Release, from: k.From, sdDefault: k.SDDefault, uki: k.UKI, missing: k.Missing, kernelMissing: k.KernelMissing}
	for _, r := range k.Initrds {
		bk.initrds = append(bk.initrds, initrdRef{where: r.Where, section: r.Section, open: r.Open})
	}
	return bk
}
