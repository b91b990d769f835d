package re

import (
	"math/bits"
	"slices"
	"strings"
)

// MinLiteralLen is the shortest literal Literals returns: shorter ones
// occur in nearly every text and would not skip anything.
const MinLiteralLen = 3

const (
	maxExactSet = 64 // most strings an exact set may hold
	maxExactLen = 64 // longest string of an exact set
	maxSetChars = 10 // a class with more (lower-cased) members is "any"
)

// litInfo is what the literal analysis knows of a node: exact lists
// every string the node can match (lower-cased) when known; req is a set
// of which every match contains one, when known.
type litInfo struct {
	exact      []string
	exactKnown bool
	req        []string
}

func unknownInfo() litInfo         { return litInfo{} }
func exactInfo(s []string) litInfo { return litInfo{exact: s, exactKnown: true} }

// best is the strongest requirement the info gives, or nil.
func (l litInfo) best() []string {
	if l.exactKnown {
		return better(l.exact, l.req)
	}
	return l.req
}

// score ranks a requirement: 0 for none or a set holding the empty
// string, else higher for a longer shortest string and lower for more
// strings (each doubling costs one byte of length).
func score(set []string) int {
	if set == nil {
		return 0
	}
	if len(set) == 0 { // the empty set: no match is possible
		return 1 << 20
	}
	m := len(set[0])
	for _, s := range set {
		m = min(m, len(s))
	}
	if m == 0 {
		return 0
	}
	return max(1, 4*m-4*bits.Len(uint(len(set)-1)))
}

func better(a, b []string) []string {
	sa, sb := score(a), score(b)
	switch {
	case sa == 0 && sb == 0:
		return nil
	case sa > sb, sa == sb && len(a) <= len(b):
		return a
	}
	return b
}

func cross(a, b []string) ([]string, bool) {
	if len(a)*len(b) > maxExactSet {
		return nil, false
	}
	out := make([]string, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			if len(x)+len(y) > maxExactLen {
				return nil, false
			}
			out = append(out, x+y)
		}
	}
	return dedupe(out), true
}

func dedupe(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

func analyzeLiterals(n *node) litInfo {
	switch n.kind {
	case nodeEmpty, nodeAssert, nodeLook:
		return exactInfo([]string{""})
	case nodeSet:
		low := n.set.lowerASCII()
		if low.count() > maxSetChars {
			return unknownInfo()
		}
		var out []string
		for _, b := range low.members() {
			out = append(out, string([]byte{b}))
		}
		if out == nil {
			out = []string{}
		}
		return exactInfo(out)
	case nodeBackref:
		return unknownInfo()
	case nodeCapture, nodeAtomic:
		return analyzeLiterals(n.subs[0])
	case nodeConcat:
		var req []string
		cur := exactInfo([]string{""})
		merged := true
		for _, s := range n.subs {
			c := analyzeLiterals(s)
			req = better(req, c.req)
			// Crossing a useful set with alternatives multiplies it for
			// little gain: "next\sof" is better required as "next".
			grows := len(c.exact) > 1 && score(cur.exact) >= 4*(MinLiteralLen+1)
			if cur.exactKnown && c.exactKnown && !grows {
				if x, ok := cross(cur.exact, c.exact); ok {
					cur = exactInfo(x)
					continue
				}
			}
			merged = false
			if cur.exactKnown {
				req = better(req, cur.exact)
			}
			cur = c
			if !c.exactKnown {
				cur = exactInfo([]string{""})
			}
		}
		if merged && cur.exactKnown {
			return litInfo{exact: cur.exact, exactKnown: true, req: req}
		}
		req = better(req, cur.exact)
		return litInfo{req: req}
	case nodeAlt:
		var exact, req []string
		exactKnown, reqKnown := true, true
		for _, s := range n.subs {
			c := analyzeLiterals(s)
			if exactKnown && c.exactKnown && len(exact)+len(c.exact) <= maxExactSet {
				exact = append(exact, c.exact...)
			} else {
				exactKnown = false
			}
			b := c.best()
			if score(b) == 0 {
				reqKnown = false
			}
			req = append(req, b...)
		}
		out := litInfo{}
		if exactKnown {
			out.exact, out.exactKnown = dedupe(exact), true
		}
		if reqKnown {
			out.req = minimize(req)
		}
		return out
	case nodeRepeat:
		c := analyzeLiterals(n.subs[0])
		if n.min == 0 {
			if n.max == 1 && c.exactKnown {
				return exactInfo(dedupe(append([]string{""}, c.exact...)))
			}
			return unknownInfo()
		}
		if n.min == n.max && c.exactKnown {
			cur := []string{""}
			ok := true
			for i := 0; i < n.min && ok; i++ {
				cur, ok = cross(cur, c.exact)
			}
			if ok {
				return exactInfo(cur)
			}
		}
		return litInfo{req: c.best()}
	}
	return unknownInfo()
}

// minimize drops duplicates and every string that contains another
// member: a text holding the longer one holds the shorter too.
func minimize(set []string) []string {
	set = dedupe(slices.Clone(set))
	slices.SortFunc(set, func(a, b string) int { return len(a) - len(b) })
	var out []string
	for _, s := range set {
		redundant := false
		for _, t := range out {
			if strings.Contains(s, t) {
				redundant = true
				break
			}
		}
		if !redundant {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

// literals computes Regexp.Literals for a tree.
func literals(root *node) []string {
	set := analyzeLiterals(root).best()
	if len(set) == 0 {
		return nil
	}
	for _, s := range set {
		if len(s) < MinLiteralLen {
			return nil
		}
	}
	return minimize(set)
}

// gateLiterals is the requirement set without a length threshold, or
// nil when some match may contain none (a member is empty).
func gateLiterals(root *node) []string {
	set := analyzeLiterals(root).best()
	if len(set) == 0 {
		return nil
	}
	for _, s := range set {
		if s == "" {
			return nil
		}
	}
	return minimize(set)
}

// LowerASCII returns s with ASCII letters lower-cased and every other
// byte unchanged: the form of a subject to search Literals in.
func LowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				b[j] = lowerByte(b[j])
			}
			return string(b)
		}
	}
	return s
}
