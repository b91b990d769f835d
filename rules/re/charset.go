package re

import (
	"fmt"
	"math/bits"
	"strings"
)

// charSet is a set of byte values. Every pattern element that consumes
// text (a literal, ".", a class, "\w"…) becomes one: the subject is
// matched as bytes (see the package comment), so 256 members are all
// there is.
type charSet [4]uint64

func (s *charSet) add(b int) { s[b>>6] |= 1 << (b & 63) }

func (s *charSet) addRange(lo, hi int) {
	for b := lo; b <= hi; b++ {
		s.add(b)
	}
}

func (s *charSet) addSet(o charSet) {
	for i := range s {
		s[i] |= o[i]
	}
}

func (s charSet) has(b int) bool { return s[b>>6]&(1<<(b&63)) != 0 }

func (s charSet) negate() charSet {
	return charSet{^s[0], ^s[1], ^s[2], ^s[3]}
}

func (s charSet) count() int {
	return bits.OnesCount64(s[0]) + bits.OnesCount64(s[1]) + bits.OnesCount64(s[2]) + bits.OnesCount64(s[3])
}

func (s charSet) empty() bool { return s == charSet{} }

// nonASCII reports whether the set has a member >= 0x80.
func (s charSet) nonASCII() bool { return s[2] != 0 || s[3] != 0 }

// allHigh reports whether every byte >= 0x80 is a member.
func (s charSet) allHigh() bool { return s[2] == ^uint64(0) && s[3] == ^uint64(0) }

// members returns the members in increasing order.
func (s charSet) members() []byte {
	out := make([]byte, 0, s.count())
	for b := 0; b < 256; b++ {
		if s.has(b) {
			out = append(out, byte(b))
		}
	}
	return out
}

// ranges returns the members as inclusive [lo, hi] runs.
func (s charSet) ranges() [][2]int {
	var out [][2]int
	for b := 0; b < 256; b++ {
		if !s.has(b) {
			continue
		}
		lo := b
		for b+1 < 256 && s.has(b+1) {
			b++
		}
		out = append(out, [2]int{lo, b})
	}
	return out
}

// foldPartner returns the other case of b as Perl's /aai matches it on
// a byte string (ASCII letters with ASCII letters, Latin-1 letters with
// Latin-1 letters), or -1.
func foldPartner(b int) int {
	switch {
	case b >= 'A' && b <= 'Z', b >= 0xC0 && b <= 0xDE && b != 0xD7:
		return b + 0x20
	case b >= 'a' && b <= 'z', b >= 0xE0 && b <= 0xFE && b != 0xF7:
		return b - 0x20
	}
	return -1
}

// fold adds the other case of every member.
func (s charSet) fold() charSet {
	out := s
	for b := 0; b < 256; b++ {
		if s.has(b) {
			if p := foldPartner(b); p >= 0 {
				out.add(p)
			}
		}
	}
	return out
}

// lowerASCII maps every member to its ASCII lower case (other bytes
// unchanged): the alphabet of the literal prefilter.
func (s charSet) lowerASCII() charSet {
	var out charSet
	for b := 0; b < 256; b++ {
		if s.has(b) {
			out.add(int(lowerByte(byte(b))))
		}
	}
	return out
}

func lowerByte(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 0x20
	}
	return c
}

func setOf(bs ...int) charSet {
	var s charSet
	for _, b := range bs {
		s.add(b)
	}
	return s
}

func rangeSet(lo, hi int) charSet {
	var s charSet
	s.addRange(lo, hi)
	return s
}

// The ASCII classes of Perl's /aa mode.
var (
	setDigit = rangeSet('0', '9')
	setWord  = func() charSet {
		s := rangeSet('0', '9')
		s.addRange('A', 'Z')
		s.addRange('a', 'z')
		s.add('_')
		return s
	}()
	// setSpace is \s: Perl includes the vertical tab since 5.18.
	setSpace = setOf('\t', '\n', '\v', '\f', '\r', ' ')
	// setHSpace is \h on a byte string: tab, space, NO-BREAK SPACE.
	setHSpace = setOf('\t', ' ', 0xA0)
	// setVSpace is \v on a byte string: LF, VT, FF, CR, NEL.
	setVSpace = setOf('\n', '\v', '\f', '\r', 0x85)
	setAll    = charSet{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}
	setNotNL  = setOf('\n').negate()
)

// posixClass returns the ASCII set of a POSIX class name ("alpha"…).
func posixClass(name string) (charSet, bool) {
	var s charSet
	switch name {
	case "alpha":
		s.addRange('A', 'Z')
		s.addRange('a', 'z')
	case "digit":
		s = setDigit
	case "alnum":
		s.addRange('0', '9')
		s.addRange('A', 'Z')
		s.addRange('a', 'z')
	case "upper":
		s.addRange('A', 'Z')
	case "lower":
		s.addRange('a', 'z')
	case "space":
		s = setSpace
	case "blank":
		s = setOf(' ', '\t')
	case "punct":
		s.addRange('!', '/')
		s.addRange(':', '@')
		s.addRange('[', '`')
		s.addRange('{', '~')
	case "cntrl":
		s.addRange(0, 0x1F)
		s.add(0x7F)
	case "print":
		s.addRange(0x20, 0x7E)
	case "graph":
		s.addRange(0x21, 0x7E)
	case "xdigit":
		s.addRange('0', '9')
		s.addRange('A', 'F')
		s.addRange('a', 'f')
	case "word":
		s = setWord
	case "ascii":
		s.addRange(0, 0x7F)
	default:
		return s, false
	}
	return s, true
}

// String renders the set for debugging and test failure messages.
func (s charSet) String() string {
	var b strings.Builder
	b.WriteByte('[')
	for _, r := range s.ranges() {
		if r[0] == r[1] {
			fmt.Fprintf(&b, "%02x ", r[0])
		} else {
			fmt.Fprintf(&b, "%02x-%02x ", r[0], r[1])
		}
	}
	b.WriteByte(']')
	return b.String()
}
