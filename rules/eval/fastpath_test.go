package eval

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// runeWildcardMatch is the wildcardMatch wildcardMatch replaced, on
// rune slices: the reference it is compared with.
func runeWildcardMatch(p, s []rune) bool {
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// TestWildcardMatchAsRunes compares wildcardMatch with the rune-slice
// version on random globs and addresses, non-ASCII and invalid UTF-8
// included, and on list-like cases.
func TestWildcardMatchAsRunes(t *testing.T) {
	cases := [][2]string{
		{"*@bank.com", "joe@bank.com"},
		{"*@*.bank.com", "joe@mail.bank.com"},
		{"*@bank.com", "joe@bank.co"},
		{"j?e@*", "jöe@x"},
		{"j?e@*", "j\xffe@x"},
		{"\xff*", "\ufffd"},
		{"*", ""},
		{"", ""},
		{"?", ""},
	}
	rng := rand.New(rand.NewPCG(4, 2))
	alphabet := []string{"a", "b", "@", ".", "*", "?", "ö", "\xff", "\ufffd", "\xc3"}
	gen := func(wild bool) string {
		var b strings.Builder
		for range rng.IntN(8) {
			c := alphabet[rng.IntN(len(alphabet))]
			if !wild && (c == "*" || c == "?") {
				c = "a"
			}
			b.WriteString(c)
		}
		return b.String()
	}
	for range 20000 {
		cases = append(cases, [2]string{gen(true), gen(false)})
	}
	for _, c := range cases {
		want := runeWildcardMatch([]rune(c[0]), []rune(c[1]))
		if got := wildcardMatch(c[0], c[1]); got != want {
			t.Errorf("wildcardMatch(%q, %q) = %v, the rune version %v", c[0], c[1], got, want)
		}
	}
}

// TestHasInnerSpace compares hasInnerSpace with the regexp it replaced
// on random lines.
func TestHasInnerSpace(t *testing.T) {
	inner := regexp.MustCompile(`\S\s+\S`)
	rng := rand.New(rand.NewPCG(5, 5))
	alphabet := []string{"a", " ", "\t", "\n", "\v", "\f", "\r", "\xa0", "\xc2\xa0", "\xff", "é"}
	for range 20000 {
		var b strings.Builder
		for range rng.IntN(7) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		s := b.String()
		if got, want := hasInnerSpace(s), inner.MatchString(s); got != want {
			t.Errorf("hasInnerSpace(%q) = %v, the regexp says %v", s, got, want)
		}
	}
}

// The tests before the local and fetchmail Received regexps never turn
// away a field the regexp matches: crafted fields, and random ones built
// from the regexps' pieces.
func TestReceivedGuardsAgree(t *testing.T) {
	guards := []struct {
		name  string
		guard func(string) bool
		re    func() *regexp.Regexp
	}{
		{"local", mayBeLocal, rcvdFromLocal},
		{"qmail", func(s string) bool { return strings.Contains(s, " invoked by uid ") }, rcvdQmailUID},
		{"fetchmail", func(s string) bool { return strings.Contains(s, "(fetchmail-") }, rcvdFetchmail},
	}
	fields := []string{
		"from localhost (localhost [127.0.0.1])\n\tby mail.example.com (Postfix) with ESMTP id 1",
		"from mail.example.com (mx [127.0.0.1]) by x",
		"from a b 127.0.0.1 by x",
		"(qmail 1234 invoked by uid 500); 8 Dec 2026 01:00:00 -0000",
		"from pop.example.com [10.0.0.1]\n\tby localhost with POP3 (fetchmail-6.4.37)\n\tfor <u@localhost> (single-drop)",
		"from mx.example.net (mx.example.net [192.0.2.7]) by mail.example.com with ESMTP; Tue, 8 Dec 2026 01:00:00 +0000",
		"from localhost\tby x", "from  localhost ", "qmail 1 invoked by uid 2",
	}
	rng := rand.New(rand.NewPCG(16, 10))
	pieces := []string{"from ", "localhost", " ", "\t", "127.0.0.1", "127.0.0.10", "a", "by localhost with ", "POP3", " (fetchmail-", "6.4", "qmail ", "12", " invoked by uid ", "\n", "[", "]"}
	for range 20000 {
		var b strings.Builder
		for range rng.IntN(10) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		fields = append(fields, b.String())
	}
	matched := map[string]int{}
	for _, f := range fields {
		for _, g := range guards {
			if g.re().MatchString(f) {
				matched[g.name]++
				if !g.guard(f) {
					t.Errorf("%s: the guard turns away %q, which the regexp matches", g.name, f)
				}
			}
		}
	}
	for _, g := range guards {
		if matched[g.name] == 0 {
			t.Errorf("%s: no field matched, so the test shows nothing", g.name)
		}
	}
}
