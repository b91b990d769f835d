package re

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// TestStartsWalkAgrees: a pattern whose matches all start a line, or
// all begin with one byte, answers by its walks from those starts
// exactly as the plain walk of its dfa and Go's regexp do, on crafted
// and random subjects: newlines at the start and the end, CRLF, empty
// lines, word boundaries at the start, and patterns whose matches run
// over several lines or starts (which may make the walks give up their
// budget and take the plain walk).
func TestStartsWalkAgrees(t *testing.T) {
	patterns := []string{
		`(?m)^foo`, `(?m)^$`, `(?m)^\s*$`, `(?m)^(?:to|from|subject):`, `(?im)^x-[a-z-]*spam[a-z-]*\s*:`,
		`(?m)^\s*(?:>|On .{2,8} wrote:|-{3}Orig)`, `(?m)^[^a-z\n]*[A-Z]{3,}[^a-z\n]{2,}$`,
		`(?m)^\bab`, `(?m)^\Bab`, `(?m)^a\nb`, `(?m)^(?s:.*)X`, `(?m)^[^X]*X`, `(?m)^foo|^bar`,
		`(?m)(?:^a|^b)c$`, `(?m)^(?:\Aa|b)c`, `(?m)^\s*["']?[^"\n]{3,10}["']?\s*-+\s*[A-Z][a-z]+$`,
		`<[a-z]{2,}\d*>`, `(?i)<(?:b|font)\b[^>]*>.*<(?:b|a)\b`, `\b-+\s*[A-Z]`, `\B:x`, `(?:'a|'b)+c`,
		`x{2,}-`, `(?s)'.*'`, `(?m)<$`, `"[^"]*"`,
	}
	subjects := []string{
		"", "\n", "\n\n", "foo", "\nfoo", "xfoo\n", "a\nb", "ab\n\nab", "bar baz\nfoo", "x\r\nfoo\r\n",
		"From: a\nto: b\n", "x\nac", "X-Not-Spam : yes\n", "  > quoted\n", "On Tue wrote: hi", "NOTICE ALL CAPS!!\n",
		"'a quote' - Bob\n", strings.Repeat("no line start here ", 50) + "\nfoo",
		strings.Repeat("a\n", 200) + "X",
	}
	rng := rand.New(rand.NewPCG(3, 4))
	const alphabet = "abcfoXx-: \n\r'\"ABC<>/"
	for range 400 {
		b := make([]byte, rng.IntN(60))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		subjects = append(subjects, string(b))
	}
	for _, pat := range patterns {
		want := regexp.MustCompile(pat)
		d := newDFA(pat)
		if d == nil {
			t.Fatalf("%s: no dfa", pat)
		}
		if d.twin == nil {
			t.Errorf("%s: not walked from its starts", pat)
			continue
		}
		plain := newDFA(pat)
		plain.twin = nil
		for _, subj := range subjects {
			tx := NewText(subj)
			got, ok := d.match(tx, true)
			plainGot, plainOK := plain.match(tx, true)
			if !ok || !plainOK {
				t.Errorf("/%s/ on %q: the dfa gave up", pat, subj)
				continue
			}
			if w := want.MatchString(subj); got != w || plainGot != w {
				t.Errorf("/%s/ on %q: walk from the starts %v, plain walk %v, regexp %v", pat, subj, got, plainGot, w)
			}
		}
	}
}

// TestStartsOf: only patterns whose every match starts a line, or
// begins with one byte, are walked from their starts.
func TestStartsOf(t *testing.T) {
	for _, c := range []struct {
		pat  string
		want int // -2: no twin
	}{
		{`(?m)^a`, startsAnyLine}, {`(?m)^a|^b`, startsAnyLine}, {`(?m)(^a)b`, startsAnyLine},
		{`(?m)^<`, startsAnyLine}, {`(?m)(?:^a|b)`, -2}, {`(?m)a^`, 'a'}, {`^a`, -2},
		{`(?m)(?:^a)*b`, -2}, {`(?m)$`, -2}, {`a`, 'a'}, {`(?i)a`, -2}, {`(?i)<x`, '<'},
		{`\b<a|<b`, '<'}, {`<a|>b`, -2}, {`(?:<a)+`, '<'}, {`(?:<a)*`, -2}, {`(?:<a){0,2}b`, -2},
		{`(?:<a){2}`, '<'}, {`[<]x`, '<'}, {`[<>]x`, -2}, {`é`, -2}, {`\$\d`, '$'},
	} {
		d := newDFA(c.pat)
		if d == nil {
			t.Fatalf("%s: no dfa", c.pat)
		}
		got := -2
		if d.twin != nil {
			got = d.lead
		}
		if got != c.want {
			t.Errorf("%s: walked from %d, want %d", c.pat, got, c.want)
		}
	}
}
