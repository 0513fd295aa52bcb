package filesystem

import "sort"

// DataAfter returns the offset of the first byte at or after off that an extent maps with
// written data, or Size when the rest of the file is holes (and unwritten extents, which read
// as zeros too): a reader of every byte can be told of the zeros between instead of reading
// them, which for a sparse file whose size claims a terabyte is the difference between a
// moment and days.
func (r *ExtentReader) DataAfter(off int64) int64 {
	if off >= r.Size {
		return r.Size
	}
	off = max(off, 0)
	bs := r.BlockSize
	lblk := uint64(off / bs)
	i := sort.Search(len(r.Extents), func(i int) bool {
		return r.Extents[i].Logical+r.Extents[i].Length > lblk
	})
	for ; i < len(r.Extents); i++ {
		e := r.Extents[i]
		if e.Unwritten {
			continue
		}
		start := int64(e.Logical) * bs
		if start >= r.Size {
			break
		}
		return max(off, start)
	}
	return r.Size
}
