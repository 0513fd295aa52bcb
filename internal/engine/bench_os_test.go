package engine

import (
	"path/filepath"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/initrd"
	"github.com/marketready/packer-plugin-marketplace/internal/plan"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

// BenchmarkCheckOS times the azure-linux check with its credential scan, and nothing else, of
// the realistic OS image of BenchmarkContentScan/os (the debootstrap Debian 12 root in a
// 1.2 GiB image): the figure to profile (-cpuprofile) and to compare with an older binary. It
// reports how many times the rules decompressed an initramfs per check (initrd-lists/op): 0,
// the content pass having listed the one it decompressed to search.
func BenchmarkCheckOS(b *testing.B) {
	dir := makeBenchImage(b, "debian-os", func() string { return testfixture.GuestRoot(b) }, 0, 1100, 1200, true)
	img := filepath.Join(dir, "disk.raw")
	sequentialRead(b, img)
	b.ReportAllocs()
	b.ResetTimer()
	lists := initrd.Decompressed()
	for i := 0; i < b.N; i++ {
		r, err := checkFile(img, plan.Choices{Profiles: []string{"azure-linux"}})
		if err != nil {
			b.Fatal(err)
		}
		if r.Content == nil {
			b.Fatal("no content scan ran")
		}
	}
	b.ReportMetric(float64(initrd.Decompressed()-lists)/float64(b.N), "initrd-lists/op")
}
