package re

import (
	"regexp/syntax"
	"strings"
	"sync/atomic"
	"unicode"
)

// Patterns whose every match starts at a place one can search for are
// walked from those places only, each walk by an anchored twin of the
// pattern's dfa and only until it cannot match any more:
//
//   - a line start, when every alternative begins with ^ under /m (many
//     rules on headers and bodies): the next one is found by a byte
//     search for a newline;
//   - one fixed byte, when every match begins with it ("<" of a tag,
//     "$", "&"): the next one is found by a byte search for it.
//
// Where the unanchored dfa reads every byte of a paragraph or a header
// block, these walks usually read a few bytes a start. The answer is the
// unanchored walk's.

// startsAnyLine marks a twin walked from every line start (dfa.lead).
const startsAnyLine = -1

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

// leadByte returns the ASCII byte every match of re begins with, after
// any assertions (which the anchored walk checks), if there is one.
func leadByte(re *syntax.Regexp) (byte, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		if len(re.Rune) == 0 {
			return 0, false
		}
		return asciiLead(re.Rune[0], re.Flags&syntax.FoldCase != 0)
	case syntax.OpCharClass:
		if len(re.Rune) == 2 && re.Rune[0] == re.Rune[1] {
			return asciiLead(re.Rune[0], false)
		}
	case syntax.OpConcat:
		for _, s := range re.Sub {
			switch s.Op {
			case syntax.OpBeginLine, syntax.OpBeginText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
				continue
			}
			return leadByte(s)
		}
	case syntax.OpCapture, syntax.OpPlus:
		return leadByte(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return leadByte(re.Sub[0])
		}
	case syntax.OpAlternate:
		var b byte
		for i, s := range re.Sub {
			c, ok := leadByte(s)
			if !ok || i > 0 && c != b {
				return 0, false
			}
			b = c
		}
		return b, len(re.Sub) > 0
	}
	return 0, false
}

// asciiLead is r as a lead byte: ASCII, and without another case when
// matched case-insensitively.
func asciiLead(r rune, fold bool) (byte, bool) {
	if r >= 0x80 || fold && unicode.SimpleFold(r) != r {
		return 0, false
	}
	return byte(r), true
}

// startsTwin returns the anchored twin of d, and where its walks start
// (a byte, or startsAnyLine), when re (which d was built from) begins
// every match at a line start or with one byte; nil otherwise.
func (d *dfa) startsTwin(re *syntax.Regexp) (*dfa, int) {
	lead := startsAnyLine
	if !beginsLine(re) {
		b, ok := leadByte(re)
		if !ok {
			return nil, 0
		}
		lead = int(b)
	}
	return d.anchoredTwin(), lead
}

// anchoredTwin returns a dfa of d's program that matches only at the
// start of the walk, sharing d's compiled program and byte classes
// (read-only) and keeping states of its own.
func (d *dfa) anchoredTwin() *dfa {
	t := &dfa{
		prog: d.prog, classOf: d.classOf, repr: d.repr, asciiOnly: d.asciiOnly, anchored: true,
		maxResets: d.maxResets, maxStates: d.maxStates, index: newStateIndex(),
	}
	t.lock()
	t.reset()
	t.unlock()
	return t
}

// lineWalkSlack is how many bytes beyond the subject's length the
// anchored walks may read in all before the plain walk is taken instead: a
// pattern whose matches run over many lines would otherwise read them
// once per line start.
const lineWalkSlack = 64

// matchStarts is match (bytes or ASCII) for the anchored twin d: it
// walks d from every start of s that lead says (a byte, or every line
// start). ok is false when d gave up or the walks read more than the
// subject's length twice over; the caller then walks the unanchored dfa.
func (d *dfa) matchStarts(s string, lead int) (matched, ok bool) {
	budget := 2*len(s) + lineWalkSlack
	p := 0
	if lead != startsAnyLine {
		if p = strings.IndexByte(s, byte(lead)); p < 0 {
			return false, true
		}
	}
	for {
		prev := rune(-1)
		if p > 0 {
			prev = prevKind(rune(s[p-1]))
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
		var next int
		if lead == startsAnyLine {
			// The next line start: after the next newline.
			next = strings.IndexByte(s[p:], '\n')
		} else {
			next = strings.IndexByte(s[p+1:], byte(lead))
		}
		if next < 0 {
			return false, true
		}
		p += next + 1
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
