package netcheck

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// A subtest filters a blocklist's answers: SpamAssassin's forms for
// check_rbl and the URIDNSBL sub rules.
type subtest struct {
	kind       subKind
	a, b       uint32 // value and mask, or range bounds
	exact      string
	re         *regexp.Regexp
	allowTexts bool // the regex may test TXT answers
}

type subKind uint8

const (
	subAny    subKind = iota // no subtest: any answer in 127/8
	subExact                 // "127.0.0.2": the answer as written
	subMask                  // "8", "0x40": (answer & n) != 0
	subRange                 // "127.0.0.2-127.0.0.11"
	subMasked                // "n/m": (answer & m) == (n & m)
	subRegex                 // anything else, or "/re/"
)

// parseSubtest reads a subtest; rbl selects check_rbl's reading (digits
// are a bitmask, an address is exact, the rest a regex) over URIDNSBL's
// (which adds ranges and n/m masks).
func parseSubtest(s string, rbl bool) (subtest, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return subtest{kind: subAny}, nil
	}
	if strings.HasPrefix(s, "/") && strings.HasSuffix(s, "/") && len(s) > 1 {
		return regexSubtest(s[1 : len(s)-1])
	}
	if n, ok := parseNum(s); ok && !strings.Contains(s, ".") {
		return subtest{kind: subMask, a: n}, nil
	}
	if _, err := netip.ParseAddr(s); err == nil && strings.Count(s, ".") == 3 {
		return subtest{kind: subExact, exact: s}, nil
	}
	if !rbl {
		if lo, hi, ok := strings.Cut(s, "-"); ok {
			a, okA := parseNum(lo)
			b, okB := parseNum(hi)
			if okA && okB {
				return subtest{kind: subRange, a: a, b: b}, nil
			}
		}
		if v, m, ok := strings.Cut(s, "/"); ok {
			a, okA := parseNum(v)
			b, okB := parseNum(m)
			if okA && okB {
				return subtest{kind: subMasked, a: a, b: b}, nil
			}
		}
	}
	return regexSubtest(s)
}

func regexSubtest(s string) (subtest, error) {
	re, err := regexp.Compile(s)
	if err != nil {
		return subtest{}, fmt.Errorf("subtest %q: %w", s, err)
	}
	return subtest{kind: subRegex, re: re, allowTexts: true}, nil
}

// parseNum reads a decimal, 0x hex or dotted-quad number.
func parseNum(s string) (uint32, bool) {
	if strings.Count(s, ".") == 3 {
		ip, err := netip.ParseAddr(s)
		if err != nil || !ip.Is4() {
			return 0, false
		}
		b := ip.As4()
		return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]), true
	}
	base := 10
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		base, s = 16, s[2:]
	}
	v, err := strconv.ParseUint(s, base, 32)
	return uint32(v), err == nil
}

// matchIP tests one A answer. Answers outside 127.0.0.0/8 never match
// (a list answering so is broken or wildcarded).
func (t subtest) matchIP(ip netip.Addr) bool {
	if !ip.Is4() || ip.As4()[0] != 127 {
		return false
	}
	b := ip.As4()
	r := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	switch t.kind {
	case subAny:
		return true
	case subExact:
		return ip.String() == t.exact
	case subMask:
		return r&t.a != 0
	case subRange:
		return t.a <= r && r <= t.b
	case subMasked:
		return r&t.b == t.a&t.b
	case subRegex:
		return t.re.MatchString(ip.String())
	}
	return false
}

// matchText tests one TXT answer.
func (t subtest) matchText(s string) bool {
	switch t.kind {
	case subAny:
		return true
	case subRegex:
		return t.re.MatchString(s)
	case subExact:
		return s == t.exact
	}
	return false
}
