package rules

import (
	"regexp/syntax"
	"strings"
)

// requiredLiterals returns lower-cased strings of which every match of
// the pattern contains at least one, or nil when there is no such set
// worth testing (every literal must be at least minLiteral bytes). The
// engine uses them to skip a pattern whose literals a text lacks: one
// substring search instead of a regex run, and most rules do not match
// most messages.
func requiredLiterals(expr, flags string) []string {
	f := syntax.Perl
	if strings.ContainsRune(flags, 'i') {
		f |= syntax.FoldCase
	}
	if strings.ContainsRune(flags, 's') {
		f |= syntax.DotNL
	}
	re, err := syntax.Parse(expr, f)
	if err != nil {
		return nil
	}
	return literalsOf(re.Simplify())
}

const minLiteral = 3

func literalsOf(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		if len(string(re.Rune)) >= minLiteral {
			return []string{strings.ToLower(string(re.Rune))}
		}
	case syntax.OpCapture:
		return literalsOf(re.Sub[0])
	case syntax.OpPlus:
		return literalsOf(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return literalsOf(re.Sub[0])
		}
	case syntax.OpConcat:
		// Any one part's literals are required; take the longest single
		// literal found, else the smallest set.
		var best []string
		for _, sub := range re.Sub {
			if l := literalsOf(sub); l != nil && (best == nil || better(l, best)) {
				best = l
			}
		}
		return best
	case syntax.OpAlternate:
		// Every branch must contribute.
		var all []string
		for _, sub := range re.Sub {
			l := literalsOf(sub)
			if l == nil {
				return nil
			}
			all = append(all, l...)
		}
		return all
	}
	return nil
}

// better prefers fewer alternatives, then longer shortest literal.
func better(a, b []string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return shortest(a) > shortest(b)
}

func shortest(ls []string) int {
	n := -1
	for _, l := range ls {
		if n < 0 || len(l) < n {
			n = len(l)
		}
	}
	return n
}

// mayMatch reports whether lowered (a lower-cased text) contains one of
// lits; nil lits always may.
func mayMatch(lits []string, lowered string) bool {
	if lits == nil {
		return true
	}
	for _, l := range lits {
		if strings.Contains(lowered, l) {
			return true
		}
	}
	return false
}
