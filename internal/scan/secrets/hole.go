package secrets

import "github.com/marketready/packer-plugin-marketplace/internal/scan"

// The holes of a sparse file (a 1 TiB size field over a few blocks) are not read: the pass tells
// the sink of them (scan.HoleSink), and a hole is what it reads as, that many zero bytes. For
// the search, zeros only separate runs: a hole switches a text or UTF-16 file to its strings
// (as a NUL read would), ends the runs being collected, and the rest of it is skipped as the
// extractor skips any zero run. For the digest of a package's file, the zeros are hashed; a
// hole larger than maxHoleHash is not: the digest is given up (the file is searched instead of
// being proven unchanged), which keeps the proof and bounds the time.

// maxHoleHash bounds the zeros of holes one file's digest takes.
const maxHoleHash = 64 << 20

// zeroBlock is a block of zeros, read only.
var zeroBlock = make([]byte, 64<<10)

// holeEnds is how many zeros end every strings run whatever came before (a UTF-16 code unit
// may take the first as its high byte; three end the runs of both alignments).
const holeEnds = 8

// Hole implements scan.HoleSink: n zero bytes at the current offset.
func (k *sink) Hole(n int64) error {
	if n <= 0 {
		return nil
	}
	if !k.began {
		// the file starts with a hole: its first bytes are zeros, sniffed as such
		first := min(n, int64(len(zeroBlock)))
		if err := k.Write(zeroBlock[:first]); err != nil {
			return err
		}
		if n -= first; n == 0 {
			return nil
		}
	}
	before := k.at
	k.at += n
	if k.vendorMD5 != "" {
		if k.holeHashed+n <= maxHoleHash {
			k.holeHashed += n
			for left := n; left > 0; {
				b := zeroBlock[:min(left, int64(len(zeroBlock)))]
				k.digest.Write(b)
				left -= int64(len(b))
			}
		} else {
			// too large to hash: the file is searched, not proven unchanged
			k.vendorMD5, k.declined = "", true
			if k.container != notContainer {
				return scan.ErrEnough // opened at End
			}
		}
	}
	if k.container != notContainer {
		return nil // a package's container, its digest still to decide
	}
	if k.deferred {
		if k.vendorMD5 != "" {
			return nil // hashed: still deferred
		}
		// the digest was given up: what was only hashed is searched now, and the rest as it
		// streams
		if err := k.catchUp(before); err != nil {
			return err
		}
	}
	if k.holding {
		// searched from here on as it streams; the findings are dropped at End if the digest
		// matches
		if err := k.release(before); err != nil {
			return err
		}
	}
	if k.strs == nil {
		first := min(n, holeEnds)
		k.take(zeroBlock[:first]) // a text or UTF-16 file switches to its strings
		n -= first
	}
	if k.strs != nil { // nil only after a hole of a few bytes that a UTF-16 code unit holds
		k.put(k.strs.zeros(k.w.frag, n))
	}
	return nil
}

// zeros appends the strings of n zero bytes to dst (nothing, once the runs have ended).
func (e *extractor) zeros(dst []byte, n int64) []byte {
	first := min(n, holeEnds)
	dst = e.feed(dst, zeroBlock[:first])
	n -= first
	for n > 0 && !e.idle() {
		b := zeroBlock[:min(n, int64(len(zeroBlock)))]
		dst = e.feed(dst, b)
		n -= int64(len(b))
	}
	// idle after a zero: the rest of the run is skipped, prev stays 0
	e.off += n
	return dst
}

// Reason implements scan.Explained: why a Skipped file was not searched.
func (k *sink) Reason() string {
	if k.outcome != scan.Skipped {
		return ""
	}
	if k.why != "" {
		return k.why // apt's archives, pip's files, snaps (Begin)
	}
	return "unchanged distribution file (package digest)"
}

var _ interface {
	scan.Sink
	scan.HoleSink
	scan.Accounted
	scan.Explained
} = (*sink)(nil)
