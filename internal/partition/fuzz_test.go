package partition_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/marketready/packer-plugin-marketplace/internal/partition"
	"github.com/marketready/packer-plugin-marketplace/internal/testfixture"
)

func FuzzRead(f *testing.F) {
	for _, n := range []string{"clean.raw", "dirty.raw"} {
		b, err := os.ReadFile(testfixture.Path(f, n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[:64<<10])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tbl, err := partition.Read("fuzz.img", bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		for _, p := range tbl.Partitions {
			if p.Start < 0 || p.Size < 0 || p.Start+p.Size > int64(len(data)) {
				t.Fatalf("partition %d outside the disk: %+v", p.Number, p)
			}
		}
	})
}
