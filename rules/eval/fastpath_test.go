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
