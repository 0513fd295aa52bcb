package boot

import (
	"fmt"
	"sort"
	"strings"

	"github.com/marketready/packer-plugin-marketplace/internal/inspect"
	"github.com/marketready/packer-plugin-marketplace/internal/partition"
)

func init() { inspect.RootDecider = DecideRoot }

// gptTypeRootX8664 is the Discoverable Partitions Specification's x86-64 root partition type.
const gptTypeRootX8664 = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"

// DecideRoot chooses, of several filesystems that hold /etc, the root the image boots: the
// boot chain is read as each candidate would see it (its /boot, its fstab's mounts, the boot
// partitions), and the candidate that the booted entries' root= names is the root. When no
// booted entry passes root= (a UKI, Discoverable Partitions) the only candidate of the x86-64
// root partition type is. Anything else (no entry names a candidate, or entries name two) is
// an error naming the candidates.
func DecideRoot(img *inspect.Image, cands []inspect.RootCandidate) (*inspect.RootCandidate, string, error) {
	var parts []*partition.Partition
	for _, c := range cands {
		parts = append(parts, c.Partition)
	}
	var boot []inspect.BootPartition
	if img.Table != nil {
		for _, p := range img.Table.Partitions {
			if role, ok := inspect.BootRoleOf(p); ok {
				if t := img.PartitionTree(p); t != nil {
					boot = append(boot, inspect.BootPartition{Role: role, Partition: p, Tree: t})
				}
			}
		}
	}
	named := map[int][]string{} // candidate index => the entries that name it
	var other []string
	noRoot := 0
	seen := map[string]bool{}
	for i := range cands {
		v := &view{img: img, root: cands[i].Tree, rootPart: cands[i].Partition, mounts: cands[i].Mounts, boot: boot}
		ch := &Chain{}
		if err := v.readEntries(ch); err != nil {
			return nil, "", &inspect.AmbiguousRootError{Candidates: parts, Reason: fmt.Sprintf("the boot chain seen from partition %d could not be read (%v)", cands[i].Partition.Number, err)}
		}
		booted, _ := ch.Booted()
		for _, e := range booted {
			where := fmt.Sprintf("%s line %d", e.Path, e.Line)
			if strings.HasPrefix(e.Path, "/") {
				where = fmt.Sprintf("partition %d:%s line %d", cands[i].Partition.Number, e.Path, e.Line)
			}
			root := e.Root()
			key := where + " " + root
			if seen[key] {
				continue
			}
			seen[key] = true
			if root == "" {
				noRoot++
				continue
			}
			p := img.Resolve(root)
			found := false
			for j := range cands {
				if p != nil && cands[j].Partition == p {
					named[j] = append(named[j], where+" (root="+root+")")
					found = true
				}
			}
			if !found {
				other = append(other, where+" (root="+root+")")
			}
		}
	}
	if len(named) == 1 {
		for j, ev := range named {
			return &cands[j], "the booted entries name it: " + strings.Join(ev, "; "), nil
		}
	}
	if len(named) > 1 {
		var idx []int
		for j := range named {
			idx = append(idx, j)
		}
		sort.Ints(idx)
		var ev []string
		for _, j := range idx {
			ev = append(ev, fmt.Sprintf("partition %d by %s", cands[j].Partition.Number, strings.Join(named[j], ", ")))
		}
		return nil, "", &inspect.AmbiguousRootError{Candidates: parts, Reason: "booted entries name different ones (" + strings.Join(ev, "; ") + ")"}
	}
	if noRoot > 0 && len(other) == 0 {
		var typed []int
		for j, c := range cands {
			if strings.EqualFold(c.Partition.TypeID, gptTypeRootX8664) {
				typed = append(typed, j)
			}
		}
		if len(typed) == 1 {
			return &cands[typed[0]], "no booted entry passes root=; it is the only x86-64 root partition (Discoverable Partitions)", nil
		}
	}
	reason := "no booted boot entry's root= names one of them"
	if len(other) > 0 {
		reason += " (" + strings.Join(other, "; ") + " name none of them)"
	}
	return nil, "", &inspect.AmbiguousRootError{Candidates: parts, Reason: reason}
}
