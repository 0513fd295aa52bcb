package boot

import (
	"bytes"
	"fmt"
)

// grubenvSignature starts every GRUB environment block (grub-core/lib/envblk.c,
// GRUB_ENVBLK_SIGNATURE); grub-editenv writes a 1024-byte block padded with '#'.
const grubenvSignature = "# GRUB Environment Block\n"

// MaxGrubenv bounds the block read (GRUB's own is 1024 bytes; grub-editenv keeps its size).
const MaxGrubenv = 64 << 10

// GrubVar is one variable of a GRUB environment block, and the byte offset its line starts at.
type GrubVar struct {
	Key, Value string
	Offset     int
}

// ParseGrubenv reads a GRUB environment block as load_env and grub-editenv do
// (grub_envblk_open and grub_envblk_iterate, grub-core/lib/envblk.c): the block must be
// longer than its signature, or it is refused ("invalid environment block"); after it, a
// record that starts with '#' is a comment or padding up to the next newline no backslash
// escapes; otherwise the
// name runs to the next '=' (across newlines: "\tx\ny=1" names the variable "\tx\ny"; an
// empty name is a name), and the value to the next newline, a backslash keeping the byte after
// it (grub-editenv writes "\\" and "\<newline>"); a record without '=' or without the newline
// that ends its value ends the block. TestGrubenvMatchesGrubEditenv holds it to grub-editenv.
// A block over MaxGrubenv is refused; errors name the byte offset.
func ParseGrubenv(data []byte) ([]GrubVar, error) {
	if len(data) > MaxGrubenv {
		return nil, fmt.Errorf("offset %d: environment block over %d bytes", MaxGrubenv, MaxGrubenv)
	}
	if len(data) <= len(grubenvSignature) || !bytes.HasPrefix(data, []byte(grubenvSignature)) {
		return nil, fmt.Errorf("offset 0: not a GRUB environment block (no %q signature and content after it): load_env refuses it", grubenvSignature[:len(grubenvSignature)-1])
	}
	var out []GrubVar
	p := len(grubenvSignature)
	for p < len(data) {
		if data[p] == '#' {
			// a comment, to the next newline that no backslash escapes
			for p < len(data) && data[p] != '\n' {
				if data[p] == '\\' {
					p++
				}
				p++
			}
			p++
			continue
		}
		start := p
		eq := bytes.IndexByte(data[p:], '=')
		if eq < 0 {
			break
		}
		eq += p
		var val []byte
		q := eq + 1
		for q < len(data) && data[q] != '\n' {
			if data[q] == '\\' {
				q++
				if q == len(data) {
					break
				}
			}
			val = append(val, data[q])
			q++
		}
		if q >= len(data) {
			break // no newline ends it: GRUB does not take it
		}
		out = append(out, GrubVar{Key: string(data[start:eq]), Value: string(val), Offset: start})
		p = q + 1
	}
	return out, nil
}
