package cf

import (
	"fmt"
	"slices"
	"strings"
)

// validateMeta checks a meta expression the way SpamAssassin's
// is_meta_valid does: Perl-only characters are refused, rules_matching()
// counts as 0, every rule name counts as 0, and the resulting arithmetic
// must evaluate (so a division by a rule name is an error: "division by
// zero possible").
func (p *Parser) validateMeta(expr string) error {
	if strings.Contains(expr, "::") || strings.Contains(expr, "->") || strings.ContainsAny(expr, "$@%;{}") {
		return fmt.Errorf("invalid characters in meta expression")
	}
	if hasDoubleStar(expr) {
		return fmt.Errorf("invalid '**' operator in meta expression")
	}
	expr = replaceRulesMatching(expr)
	toks, _ := lexArith(expr)
	for i, t := range toks {
		switch {
		case validRuleName(t):
			toks[i] = "0"
		case isMetaNumber(t) || isPunct12(t):
		default:
			return fmt.Errorf("invalid meta token %q", t)
		}
	}
	e := &condEval{p: p, toks: toks}
	if _, err := e.ternary(); err != nil {
		if strings.Contains(err.Error(), "division by zero") {
			return fmt.Errorf("division by zero possible")
		}
		return err
	}
	if e.i != len(e.toks) {
		return fmt.Errorf("syntax error at %q", e.toks[e.i])
	}
	return nil
}

func hasDoubleStar(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '*' {
			continue
		}
		j := i + 1
		for j < len(s) && isSpace(s[j]) {
			j++
		}
		if j < len(s) && s[j] == '*' {
			return true
		}
	}
	return false
}

// replaceRulesMatching turns rules_matching(GLOB) into " 0 ".
func replaceRulesMatching(s string) string {
	const fn = "rules_matching("
	for {
		i := strings.Index(s, fn)
		if i < 0 {
			return s
		}
		if i > 0 && (s[i-1] == '_' || isWordByte(s[i-1])) {
			return s
		}
		j := strings.IndexByte(s[i:], ')')
		if j < 0 {
			return s
		}
		s = s[:i] + " 0 " + s[i+j+1:]
	}
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isMetaNumber(t string) bool {
	intPart, frac, hasFrac := strings.Cut(t, ".")
	return allDigits(intPart) && (!hasFrac || allDigits(frac))
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isPunct12(t string) bool {
	if len(t) == 0 || len(t) > 2 {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= '!' && c <= '/' || c >= ':' && c <= '@' || c >= '[' && c <= '`' || c >= '{' && c <= '~') {
			return false
		}
	}
	return true
}

// metaDeps returns the rule names expr uses, in order of first use, with
// rules_matching(GLOB) expanded over names (sorted, as SpamAssassin does).
func metaDeps(expr string, names []string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	const fn = "rules_matching("
	for {
		i := strings.Index(expr, fn)
		if i < 0 || (i > 0 && isWordByte(expr[i-1])) {
			break
		}
		j := strings.IndexByte(expr[i:], ')')
		if j < 0 {
			break
		}
		glob := trimSpace(expr[i+len(fn) : i+j])
		for _, n := range names {
			if globMatch(glob, n) {
				add(n)
			}
		}
		expr = expr[:i] + " " + expr[i+j+1:]
	}
	toks, _ := lexArith(expr)
	for _, t := range toks {
		if validRuleName(t) && t != "local_tests_only" {
			add(t)
		}
	}
	return out
}

// globMatch matches '*' (any run) and '?' (one character), case-sensitive,
// in linear time (backtracking only to the last star).
func globMatch(glob, s string) bool {
	gi, si, star, mark := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case gi < len(glob) && (glob[gi] == '?' || glob[gi] == s[si]):
			gi++
			si++
		case gi < len(glob) && glob[gi] == '*':
			star, mark = gi, si
			gi++
		case star >= 0:
			gi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for gi < len(glob) && glob[gi] == '*' {
		gi++
	}
	return gi == len(glob)
}

// finish computes what depends on the whole rule set: meta dependencies
// and the net flag metas inherit from them (SpamAssassin's fix_tflags,
// applied until nothing changes; SpamAssassin makes one pass in hash
// order, so its result for metas of metas can vary between runs).
func (p *Parser) finish() {
	p.applyReplaceTags()
	var names []string
	for _, r := range p.pol.rules {
		names = append(names, r.Name)
	}
	slices.Sort(names)
	deps := map[string][]string{}
	for _, r := range p.pol.rules {
		if r.Kind == KindMeta {
			deps[r.Name] = metaDeps(r.Meta, names)
		}
	}
	net := map[string]bool{}
	for _, r := range p.pol.rules {
		if r.Tflags.Net {
			net[r.Name] = true
		}
	}
	for changed := true; changed; {
		changed = false
		for name, ds := range deps {
			if net[name] {
				continue
			}
			for _, d := range ds {
				if net[d] {
					net[name], changed = true, true
					break
				}
			}
		}
	}
	for _, r := range p.pol.rules {
		inherited := net[r.Name] && !r.Tflags.Net
		if r.NetInherited == inherited && slices.Equal(r.MetaDeps, deps[r.Name]) {
			continue
		}
		m := p.mutRule(r.Name)
		m.NetInherited, m.MetaDeps = inherited, deps[r.Name]
		fixRule(m)
	}
}
