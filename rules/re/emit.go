package re

import (
	"fmt"
	"strconv"
	"strings"
)

// goRepeatLimit is the largest count Go's regexp accepts in {n,m}.
const goRepeatLimit = 1000

// needsBytes reports whether some element of the tree can match a byte
// >= 0x80. Patterns that cannot are matched on the subject as it is;
// the others on its Latin-1 view (see the package comment).
func needsBytes(n *node) bool {
	if n.kind == nodeSet && n.set.nonASCII() {
		return true
	}
	if n.kind == nodeBackref {
		// A backreference repeats whatever its group matched; that
		// group decides.
		return false
	}
	for _, s := range n.subs {
		if needsBytes(s) {
			return true
		}
	}
	return false
}

// nullable reports whether n can match the empty string at any position
// (assertions count as not nullable: their truth depends on where).
func nullable(n *node) bool { return matchesEmpty(n, false) }

// mayBeEmpty reports whether n might match the empty string somewhere
// (assertions assumed true).
func mayBeEmpty(n *node) bool { return matchesEmpty(n, true) }

// matchesEmpty reports whether n can match the empty string, counting
// assertions, lookarounds and backreferences as empty matches when
// zeroWidthHolds and as failing otherwise.
func matchesEmpty(n *node, zeroWidthHolds bool) bool {
	switch n.kind {
	case nodeEmpty:
		return true
	case nodeAssert, nodeLook, nodeBackref:
		return zeroWidthHolds
	case nodeSet:
		return false
	case nodeConcat:
		for _, s := range n.subs {
			if !matchesEmpty(s, zeroWidthHolds) {
				return false
			}
		}
		return true
	case nodeAlt:
		for _, s := range n.subs {
			if matchesEmpty(s, zeroWidthHolds) {
				return true
			}
		}
		return false
	case nodeRepeat:
		return n.min == 0 || matchesEmpty(n.subs[0], zeroWidthHolds)
	}
	return matchesEmpty(n.subs[0], zeroWidthHolds) // capture, atomic
}

// backtrackReason returns why the tree needs the backtracking engine, or
// "" when Go's RE2 can run it with the same results.
//
// Besides Perl-only constructs, two anchors only translate to RE2 in
// context. Perl's "$" (and "\Z") without /m matches at the end or before
// a final "\n"; RE2 gets "(?:\n?\z)", which consumes that "\n", so this
// is exact only when what may follow the anchor can always match the
// empty string. Perl's "^" with /m does not match after a "\n" that ends
// the subject, RE2's does; that matters only when what follows may match
// the empty string there.
func backtrackReason(root *node) string {
	reason := ""
	var walk func(n *node, contNullable, contMayBeEmpty bool)
	walk = func(n *node, contNullable, contMayBeEmpty bool) {
		if reason != "" {
			return
		}
		switch n.kind {
		case nodeLook:
			reason = "lookaround"
			return
		case nodeBackref:
			reason = "backreference"
			return
		case nodeAtomic:
			reason = "atomic group"
			return
		case nodeRepeat:
			if n.possessive {
				reason = "possessive quantifier"
				return
			}
			sub := n.subs[0]
			again := n.max != 1
			walk(sub, contNullable && (!again || nullable(sub)), contMayBeEmpty || again && mayBeEmpty(sub))
			return
		case nodeAssert:
			switch n.assert {
			case assertEndTextNL:
				if !contNullable {
					reason = `"$" or "\Z" followed by more pattern`
				}
			case assertBeginLine:
				if contMayBeEmpty {
					reason = `"^" under /m where the rest may match empty at the end`
				}
			}
			return
		case nodeConcat:
			for i, s := range n.subs {
				restNullable, restMayBeEmpty := true, true
				for _, t := range n.subs[i+1:] {
					restNullable = restNullable && nullable(t)
					restMayBeEmpty = restMayBeEmpty && mayBeEmpty(t)
				}
				walk(s, contNullable && restNullable, contMayBeEmpty && restMayBeEmpty)
			}
			return
		}
		for _, s := range n.subs {
			walk(s, contNullable, contMayBeEmpty)
		}
	}
	walk(root, true, true)
	return reason
}

// maxRE2Size bounds the estimated RE2 program of a pattern: RE2 spells
// out every counted repeat, and its matching time grows with the program
// while a backtracking engine loops over counts natively.
const maxRE2Size = 100_000

// progSize estimates the number of RE2 instructions of n (saturating).
func progSize(n *node) int {
	const limit = 1 << 30
	switch n.kind {
	case nodeSet, nodeAssert, nodeEmpty, nodeBackref:
		return 1
	case nodeRepeat:
		count := n.max
		if count < 0 {
			count = n.min + 1
		}
		return min(limit, progSize(n.subs[0])*max(count, 1)+1)
	}
	total := 2
	for _, s := range n.subs {
		total = min(limit, total+progSize(s))
	}
	return total
}

// emitter writes the tree in the syntax of one engine.
type emitter struct {
	b      strings.Builder
	dotnet bool
	// latin1 says the subject is the Latin-1 view: runes above 0xFF
	// never occur, so sets may be written negated.
	latin1 bool
	// unroll writes small counted repeats that contain counted repeats
	// as copies (x{2,3} = xx(?:x)?), for RE2's limit of 1000 on the
	// product of nested counts. Groups are then written non-capturing.
	unroll bool
}

// maxEmitLen bounds a translation for RE2: splitting and unrolling
// counts multiply when nested, and a larger program is better left to
// the backtracking engine, which counts natively.
const maxEmitLen = 1 << 20

// maxUnroll is the largest count unroll writes out.
const maxUnroll = 100

func hasCountedRepeat(n *node) bool {
	if n.kind == nodeRepeat && (n.min > 1 || n.max > 1) {
		return true
	}
	for _, s := range n.subs {
		if hasCountedRepeat(s) {
			return true
		}
	}
	return false
}

// emitGo writes the tree as a Go regexp. Repeat counts above Go's limit
// are split into several repeats of the same language.
// It returns "" when the translation would exceed maxEmitLen.
func emitGo(n *node, latin1, unroll bool) string {
	e := &emitter{latin1: latin1, unroll: unroll}
	e.emit(n)
	if e.b.Len() > maxEmitLen {
		return ""
	}
	return e.b.String()
}

// emitDotNet writes the tree for regexp2 (.NET syntax, no options).
// Every group is named "gN" so that numbering cannot differ from Perl's
// (.NET numbers named groups after unnamed ones).
func emitDotNet(n *node) string {
	e := &emitter{dotnet: true, latin1: true}
	e.emit(n)
	return e.b.String()
}

const dotnetWord = `[0-9A-Za-z_]`

func (e *emitter) emit(n *node) {
	b := &e.b
	if !e.dotnet && b.Len() > maxEmitLen {
		return
	}
	switch n.kind {
	case nodeEmpty:
		b.WriteString("(?:)")
	case nodeSet:
		e.emitSet(n.set)
	case nodeConcat:
		if len(n.subs) == 1 {
			b.WriteString("(?:")
			e.emit(n.subs[0])
			b.WriteString(")")
			return
		}
		for _, s := range n.subs {
			e.emitAtom(s)
		}
	case nodeAlt:
		b.WriteString("(?:")
		for i, s := range n.subs {
			if i > 0 {
				b.WriteByte('|')
			}
			e.emit(s)
		}
		b.WriteString(")")
	case nodeRepeat:
		e.emitRepeat(n)
	case nodeCapture:
		switch {
		case e.unroll:
			b.WriteString("(?:")
		case e.dotnet:
			fmt.Fprintf(b, "(?<g%d>", n.cap)
		case n.name != "":
			fmt.Fprintf(b, "(?P<%s>", n.name)
		default:
			b.WriteByte('(')
		}
		e.emit(n.subs[0])
		b.WriteByte(')')
	case nodeAssert:
		e.emitAssert(n.assert)
	case nodeLook:
		b.WriteString("(?")
		if n.behind {
			b.WriteByte('<')
		}
		if n.neg {
			b.WriteByte('!')
		} else {
			b.WriteByte('=')
		}
		e.emit(n.subs[0])
		b.WriteByte(')')
	case nodeAtomic:
		b.WriteString("(?>")
		e.emit(n.subs[0])
		b.WriteByte(')')
	case nodeBackref:
		if n.fold {
			fmt.Fprintf(b, `(?i:\k<g%d>)`, n.cap)
		} else {
			fmt.Fprintf(b, `\k<g%d>`, n.cap)
		}
	}
}

// emitAtom writes n so that a following element cannot change its
// meaning (alternations are already grouped).
func (e *emitter) emitAtom(n *node) { e.emit(n) }

func (e *emitter) emitAssert(a assertKind) {
	b := &e.b
	if e.dotnet {
		switch a {
		case assertBeginText:
			b.WriteString(`\A`)
		case assertEndText:
			b.WriteString(`\z`)
		case assertEndTextNL:
			b.WriteString(`(?=\n?\z)`)
		case assertBeginLine:
			b.WriteString(`(?:\A|(?<=\n)(?!\z))`)
		case assertEndLine:
			b.WriteString(`(?=\n|\z)`)
		case assertWordBoundary:
			b.WriteString(`(?:(?<=` + dotnetWord + `)(?!` + dotnetWord + `)|(?<!` + dotnetWord + `)(?=` + dotnetWord + `))`)
		case assertNotWordBoundary:
			b.WriteString(`(?:(?<=` + dotnetWord + `)(?=` + dotnetWord + `)|(?<!` + dotnetWord + `)(?!` + dotnetWord + `))`)
		}
		return
	}
	switch a {
	case assertBeginText:
		b.WriteString(`\A`)
	case assertEndText:
		b.WriteString(`\z`)
	case assertEndTextNL:
		b.WriteString(`(?:\n?\z)`)
	case assertBeginLine:
		b.WriteString(`(?m:^)`)
	case assertEndLine:
		b.WriteString(`(?m:$)`)
	case assertWordBoundary:
		b.WriteString(`\b`)
	case assertNotWordBoundary:
		b.WriteString(`\B`)
	}
}

func (e *emitter) emitRepeat(n *node) {
	lo, hi := n.min, n.max
	if !e.dotnet && e.b.Len() > maxEmitLen {
		return
	}
	if !e.dotnet && (lo > goRepeatLimit || hi > goRepeatLimit) {
		// x{n,m} = x{1000}…x{n%1000} x{0,1000}…: the same language.
		b := &e.b
		b.WriteString("(?:")
		piece := func(pmin, pmax int) {
			e.emitRepeat(&node{kind: nodeRepeat, subs: n.subs, min: pmin, max: pmax, lazy: n.lazy})
		}
		for m := lo; m > 0; m -= goRepeatLimit {
			k := min(m, goRepeatLimit)
			piece(k, k)
		}
		if hi < 0 {
			piece(0, -1)
		} else {
			for m := hi - lo; m > 0; m -= goRepeatLimit {
				piece(0, min(m, goRepeatLimit))
			}
		}
		b.WriteString(")")
		return
	}
	b := &e.b
	if e.unroll && hi >= 2 && hi <= maxUnroll && hasCountedRepeat(n.subs[0]) {
		b.WriteString("(?:")
		for range lo {
			b.WriteString("(?:")
			e.emit(n.subs[0])
			b.WriteString(")")
		}
		q := "?"
		if n.lazy {
			q = "??"
		}
		for range hi - lo {
			b.WriteString("(?:")
			e.emit(n.subs[0])
		}
		for range hi - lo {
			b.WriteString(")" + q)
		}
		b.WriteString(")")
		return
	}
	b.WriteString("(?:")
	e.emit(n.subs[0])
	b.WriteString(")")
	switch {
	case lo == 0 && hi == -1:
		b.WriteByte('*')
	case lo == 1 && hi == -1:
		b.WriteByte('+')
	case lo == 0 && hi == 1:
		b.WriteByte('?')
	case hi == -1:
		fmt.Fprintf(b, "{%d,}", lo)
	case lo == hi:
		fmt.Fprintf(b, "{%d}", lo)
	default:
		fmt.Fprintf(b, "{%d,%d}", lo, hi)
	}
	if n.lazy {
		b.WriteByte('?')
	}
}

func (e *emitter) escapeByte(c int) string {
	switch {
	case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		return string(rune(c))
	case e.dotnet:
		return fmt.Sprintf(`\x%02X`, c)
	}
	return `\x{` + strconv.FormatInt(int64(c), 16) + `}`
}

func (e *emitter) emitSet(s charSet) {
	b := &e.b
	switch {
	case s.empty():
		if e.dotnet {
			b.WriteString(`(?!)`)
		} else {
			b.WriteString(`[^\x00-\x{10FFFF}]`)
		}
		return
	case s == setAll:
		if e.dotnet {
			b.WriteString(`[\s\S]`)
		} else {
			b.WriteString(`(?s:.)`)
		}
		return
	case s == setNotNL && e.latin1:
		b.WriteString(`[^\n]`)
		return
	case s.count() == 1:
		b.WriteString(e.escapeByte(int(s.members()[0])))
		return
	}
	neg := false
	if e.latin1 && s.allHigh() {
		neg = true
		s = s.negate()
	}
	b.WriteByte('[')
	if neg {
		b.WriteByte('^')
	}
	for _, r := range s.ranges() {
		b.WriteString(e.escapeByte(r[0]))
		if r[1] > r[0] {
			if r[1] > r[0]+1 {
				b.WriteByte('-')
			}
			b.WriteString(e.escapeByte(r[1]))
		}
	}
	b.WriteByte(']')
}

// wrapPossessive rewrites possessive repeats as atomic groups for the
// backtracking engine: x*+ is (?>x*).
func wrapPossessive(n *node) *node {
	for i, s := range n.subs {
		n.subs[i] = wrapPossessive(s)
	}
	if n.kind == nodeRepeat && n.possessive {
		c := *n
		c.possessive = false
		return &node{kind: nodeAtomic, subs: []*node{&c}}
	}
	return n
}
