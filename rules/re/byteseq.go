package re

// A byteSeqs runs a pattern that is one fixed-length sequence of byte
// sets, or an alternation of such sequences whose first sets are
// disjoint (/e/, /foo/i, /(?:e|\xc3[\xa8-\xab]|\xd0\xb5)/): at most one
// alternative can start at a position, so successive non-overlapping
// leftmost-first matches are found by one scan of the subject's bytes,
// a table lookup a byte, where Go's regexp runs its NFA at every
// position. Counting rules (tflags multiple with maxhits, such as a
// count of the letter e) run these on every body line.
type byteSeqs struct {
	// first maps a byte to 1 + the index of the alternative whose first
	// set holds it, 0 for none.
	first [256]uint8
	alts  [][]charSet
}

// maxByteSeqAlts and maxByteSeqLen bound the patterns byteSeqs takes.
const (
	maxByteSeqAlts = 64
	maxByteSeqLen  = 32
)

// newByteSeqs returns the byteSeqs of the pattern tree n, or nil when
// n is not such a pattern.
func newByteSeqs(n *node) *byteSeqs {
	for n.kind == nodeConcat && len(n.subs) == 1 {
		n = n.subs[0] // a group around the whole pattern
	}
	var alts [][]charSet
	if n.kind == nodeAlt {
		for _, s := range n.subs {
			seq, ok := fixedSeq(s, nil)
			if !ok {
				return nil
			}
			alts = append(alts, seq)
		}
	} else {
		seq, ok := fixedSeq(n, nil)
		if !ok {
			return nil
		}
		alts = [][]charSet{seq}
	}
	if len(alts) > maxByteSeqAlts {
		return nil
	}
	b := &byteSeqs{alts: alts}
	for i, seq := range alts {
		if len(seq) == 0 {
			return nil
		}
		for c := range 256 {
			if !seq[0].has(c) {
				continue
			}
			if b.first[c] != 0 {
				return nil // two alternatives may start at one byte
			}
			b.first[c] = uint8(i + 1)
		}
	}
	return b
}

// fixedSeq appends to seq the byte sets of n when n matches a fixed
// sequence of bytes from sets (sets, concatenations, non-capturing
// groups and exact repeats of those), and reports whether it does.
func fixedSeq(n *node, seq []charSet) ([]charSet, bool) {
	switch n.kind {
	case nodeSet:
		if n.set.empty() {
			return nil, false
		}
		seq = append(seq, n.set)
	case nodeConcat:
		for _, s := range n.subs {
			var ok bool
			if seq, ok = fixedSeq(s, seq); !ok {
				return nil, false
			}
		}
	case nodeRepeat:
		if n.min != n.max || n.min < 0 || n.min > maxByteSeqLen {
			return nil, false
		}
		for range n.min {
			var ok bool
			if seq, ok = fixedSeq(n.subs[0], seq); !ok {
				return nil, false
			}
		}
	default:
		return nil, false
	}
	if len(seq) > maxByteSeqLen {
		return nil, false
	}
	return seq, true
}

// findAll returns the byte offsets of successive non-overlapping
// matches in s, at most limit of them (all when limit < 0).
func (b *byteSeqs) findAll(s string, limit int) [][]int {
	// The offsets share one array: two allocations, not one a match.
	var flat []int
	for i := 0; i < len(s) && len(flat) != 2*limit; {
		if end := b.matchAt(s, i); end > 0 {
			flat = append(flat, i, end)
			i = end
			continue
		}
		i++
	}
	if flat == nil {
		return nil
	}
	out := make([][]int, len(flat)/2)
	for k := range out {
		out[k] = flat[2*k : 2*k+2 : 2*k+2]
	}
	return out
}

// matchAt returns where the match starting at s[i] ends, or 0 when none
// starts there.
func (b *byteSeqs) matchAt(s string, i int) int {
	a := b.first[s[i]]
	if a == 0 {
		return 0
	}
	seq := b.alts[a-1]
	if len(s)-i < len(seq) {
		return 0
	}
	for k := 1; k < len(seq); k++ {
		if !seq[k].has(int(s[i+k])) {
			return 0
		}
	}
	return i + len(seq)
}
