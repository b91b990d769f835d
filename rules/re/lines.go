package re

import (
	"regexp/syntax"
	"strings"
	"sync/atomic"
)

// Patterns that match only at the start of a line (every alternative
// begins with ^ under /m, as many rules on headers and bodies do) are
// walked line by line: the pattern's dfa started at each line start and
// walked only until it cannot match any more, then a jump to the next
// newline by a byte search. Where the unanchored dfa reads every byte
// of a paragraph or a header block, these walks usually read a few bytes
// a line. The answer is the unanchored walk's.

// beginsLine reports whether every match of re must start where ^ under
// /m holds (OpBeginLine first on every path).
func beginsLine(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpBeginLine:
		return true
	case syntax.OpConcat:
		return len(re.Sub) > 0 && beginsLine(re.Sub[0])
	case syntax.OpCapture:
		return beginsLine(re.Sub[0])
	case syntax.OpAlternate:
		for _, s := range re.Sub {
			if !beginsLine(s) {
				return false
			}
		}
		return len(re.Sub) > 0
	}
	return false
}

// lineStartDFA returns the anchored twin of the dfa of prog for the
// line by line walk when re (which prog was compiled from) begins every
// match at a line start, else nil.
func lineStartDFA(re *syntax.Regexp, prog *syntax.Prog) *dfa {
	if !beginsLine(re) {
		return nil
	}
	d := progDFA(prog)
	if d == nil {
		return nil
	}
	d.anchored = true
	return d
}

// lineWalkSlack is how many bytes beyond the subject's length the line
// walks may read in all before the plain walk is taken instead: a
// pattern whose matches run over many lines would otherwise read them
// once per line start.
const lineWalkSlack = 64

// matchLines is match (bytes or ASCII) for the anchored twin d: it walks
// d from every line start of s. ok is false when d gave up or the walks
// read more than the subject's length twice over; the caller then walks
// the unanchored dfa.
func (d *dfa) matchLines(s string) (matched, ok bool) {
	budget := 2*len(s) + lineWalkSlack
	for p := 0; ; {
		prev := rune(-1)
		if p > 0 {
			prev = '\n'
		}
		m, read, ok := d.walkAnchored(s, p, prev)
		if !ok {
			return false, false
		}
		if m {
			return true, true
		}
		if budget -= read; budget < 0 {
			return false, false
		}
		nl := strings.IndexByte(s[p:], '\n')
		if nl < 0 {
			return false, true
		}
		p += nl + 1
	}
}

// walkAnchored walks d from position p of s, with prev the kind of the
// byte before p (-1 at the start), until it matches, cannot match any
// more or reaches the end; it returns whether it matched, the bytes it
// read, and ok false when d gave up.
func (d *dfa) walkAnchored(s string, p int, prev rune) (matched bool, read int, ok bool) {
	if d.failed.Load() {
		return false, 0, false
	}
	tbl, id := d.startState(prev)
	if id == dfaUnknown {
		return false, 0, false
	}
	nc := uint32(len(d.repr))
	row := id * nc
	for i := p; i < len(s); i++ {
		class := d.classOf[s[i]]
		nx := atomic.LoadUint32(&tbl.trans[row+uint32(class)])
		if nx < dfaStart {
			if nx == dfaUnknown {
				if tbl, nx, ok = d.step(tbl, row/nc, class); !ok {
					return false, i - p, false
				}
			}
			if nx < dfaStart {
				return nx == dfaMatched, i - p + 1, true
			}
		}
		row = nx
	}
	return d.matchesAtEnd(tbl.states[row/nc]), len(s) - p, true
}
