package re

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// TestLineWalkAgrees: a pattern whose matches all start a line answers
// by its line-by-line walk exactly as the plain walk of its dfa and Go's
// regexp do, on crafted and random subjects: newlines at the start and
// the end, CRLF, empty lines, word boundaries right after the line
// start, and patterns whose matches run over several lines (which may
// make the walk give up its budget and take the plain walk).
func TestLineWalkAgrees(t *testing.T) {
	patterns := []string{
		`(?m)^foo`, `(?m)^$`, `(?m)^\s*$`, `(?m)^(?:to|from|subject):`, `(?im)^x-[a-z-]*spam[a-z-]*\s*:`,
		`(?m)^\s*(?:>|On .{2,8} wrote:|-{3}Orig)`, `(?m)^[^a-z\n]*[A-Z]{3,}[^a-z\n]{2,}$`,
		`(?m)^\bab`, `(?m)^\Bab`, `(?m)^a\nb`, `(?m)^(?s:.*)X`, `(?m)^[^X]*X`, `(?m)^foo|^bar`,
		`(?m)(?:^a|^b)c$`, `(?m)^(?:\Aa|b)c`, `(?m)^\s*["']?[^"\n]{3,10}["']?\s*-+\s*[A-Z][a-z]+$`,
	}
	subjects := []string{
		"", "\n", "\n\n", "foo", "\nfoo", "xfoo\n", "a\nb", "ab\n\nab", "bar baz\nfoo", "x\r\nfoo\r\n",
		"From: a\nto: b\n", "x\nac", "X-Not-Spam : yes\n", "  > quoted\n", "On Tue wrote: hi", "NOTICE ALL CAPS!!\n",
		"'a quote' - Bob\n", strings.Repeat("no line start here ", 50) + "\nfoo",
		strings.Repeat("a\n", 200) + "X",
	}
	rng := rand.New(rand.NewPCG(3, 4))
	const alphabet = "abcfoXx-: \n\r'\"ABC>"
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
		if d.lines == nil {
			t.Errorf("%s: not walked line by line", pat)
			continue
		}
		plain := newDFA(pat)
		plain.lines = nil
		for _, subj := range subjects {
			tx := NewText(subj)
			got, ok := d.match(tx, true)
			plainGot, plainOK := plain.match(tx, true)
			if !ok || !plainOK {
				t.Errorf("/%s/ on %q: the dfa gave up", pat, subj)
				continue
			}
			if w := want.MatchString(subj); got != w || plainGot != w {
				t.Errorf("/%s/ on %q: line walk %v, plain walk %v, regexp %v", pat, subj, got, plainGot, w)
			}
		}
	}
}

// TestBeginsLine: only patterns whose every match starts a line are
// walked line by line.
func TestBeginsLine(t *testing.T) {
	for _, c := range []struct {
		pat  string
		want bool
	}{
		{`(?m)^a`, true}, {`(?m)^a|^b`, true}, {`(?m)(^a)b`, true}, {`(?m)(?:^a|b)`, false},
		{`(?m)a^`, false}, {`^a`, false}, {`(?m)(?:^a)*b`, false}, {`(?m)$`, false}, {`a`, false},
	} {
		d := newDFA(c.pat)
		if d == nil {
			t.Fatalf("%s: no dfa", c.pat)
		}
		if got := d.lines != nil; got != c.want {
			t.Errorf("%s: walked line by line %v, want %v", c.pat, got, c.want)
		}
	}
}
