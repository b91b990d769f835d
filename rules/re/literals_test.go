package re

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// literalCases have one obvious strongest requirement.
var literalCases = []struct {
	expr, flags string
	want        []string // nil: no useful literal
}{
	{`foo`, "", []string{"foo"}},
	{`FOO`, "i", []string{"foo"}},
	{`Foo`, "", []string{"foo"}},
	{`foo|bar`, "", []string{"bar", "foo"}},
	{`\bviagra\b`, "i", []string{"viagra"}},
	{`a|b`, "", nil},
	{`x*`, "", nil},
	{`(?:foo)?bar`, "", []string{"bar"}},
	{`(?!spam)\w+`, "", nil},
	{`caf\xe9`, "", []string{"caf\xe9"}},
	{`(foo)\1`, "", []string{"foo"}},
	{`\d{3}-\d{4}`, "", nil},
	{`[a-z]+ million dollars`, "i", []string{" million dollars"}},
}

func TestLiterals(t *testing.T) {
	for _, c := range literalCases {
		re, err := Compile(c.expr, c.flags, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := re.Literals(); !slices.Equal(got, c.want) {
			t.Errorf("Literals(/%s/%s) = %q, want %q", c.expr, c.flags, got, c.want)
		}
	}
}

// TestLiteralsSound checks the Literals contract on the match table:
// every subject a pattern matches holds one of its literals once
// lower-cased, and the Prefilter keeps the pattern for it.
func TestLiteralsSound(t *testing.T) {
	var rs []*Regexp
	var texts []string
	for _, c := range matchCases {
		re, err := Compile(c.expr, c.flags, Options{})
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, re)
		texts = append(texts, c.text)
	}
	pf := NewPrefilter(rs)
	dst := make([]bool, pf.Len())
	for _, text := range texts {
		pf.Candidates(text, dst)
		low := LowerASCII(text)
		for i, re := range rs {
			if !re.MatchString(text) {
				continue
			}
			if lits := re.Literals(); lits != nil && !slices.ContainsFunc(lits, func(l string) bool { return strings.Contains(low, l) }) {
				t.Errorf("%s matches %q, which holds none of %q", re, text, lits)
			}
			if !dst[i] {
				t.Errorf("prefilter drops %s for %q", re, text)
			}
		}
	}
}

func TestPrefilter(t *testing.T) {
	var rs []*Regexp
	for _, e := range []string{`viagra`, `cheap (?:meds|pills)`, `\d+`, `she`, `hers`, `ushers`} {
		re, err := Compile(e, "i", Options{})
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, re)
	}
	rs = append(rs, nil)
	pf := NewPrefilter(rs)
	for _, c := range []struct {
		text string
		want []bool
	}{
		{"Buy VIAGRA now", []bool{true, false, true, false, false, false, false}},
		{"cheap PILLS", []bool{false, true, true, false, false, false, false}},
		{"ushers", []bool{false, false, true, true, true, true, false}},
		{"", []bool{false, false, true, false, false, false, false}},
	} {
		dst := make([]bool, pf.Len())
		pf.Candidates(c.text, dst)
		if !slices.Equal(dst, c.want) {
			t.Errorf("Candidates(%q) = %v, want %v", c.text, dst, c.want)
		}
		// Hits and Always tell the same.
		hits := make([]bool, pf.Len())
		for i := range hits {
			hits[i] = pf.Always(i)
		}
		pf.Hits(c.text, func(i int32) { hits[i] = true })
		if !slices.Equal(hits, c.want) {
			t.Errorf("Hits and Always on %q say %v, want %v", c.text, hits, c.want)
		}
	}
}

func FuzzCompile(f *testing.F) {
	for _, c := range matchCases {
		f.Add(c.expr, c.flags, c.text)
	}
	for _, c := range errorCases {
		f.Add(c.expr, c.flags, "aa")
	}
	f.Fuzz(func(t *testing.T, expr, flags, text string) {
		re, err := Compile(expr, flags, Options{MatchTimeout: 50e6})
		if err != nil {
			return
		}
		got := re.MatchString(text)
		all := re.FindAllStringIndex(text, 3)
		if len(all) > 0 && !got && re.Engine() == EngineRE2 {
			t.Errorf("/%s/%s on %q: FindAll %v but no match", expr, flags, text, all)
		}
		for _, m := range all {
			if m[0] < 0 || m[0] > m[1] || m[1] > len(text) {
				t.Errorf("/%s/%s on %q: bad offsets %v", expr, flags, text, m)
			}
		}
		if lits := re.Literals(); got && lits != nil {
			low := LowerASCII(text)
			if !slices.ContainsFunc(lits, func(l string) bool { return strings.Contains(low, l) }) {
				t.Errorf("/%s/%s matches %q holding none of %q", expr, flags, text, lits)
			}
		}
	})
}

// TestPrefilterHalvesAgree: the walk of a long text as two halves in
// step (Hits, Candidates) finds exactly what one walk finds, literals across the middle
// and at both ends included.
func TestPrefilterHalvesAgree(t *testing.T) {
	exprs := []string{`viagra`, `cheap (?:meds|pills)`, `she`, `hers`, `ushers`, `x{3}yz`, `the quick brown fox jumps over`, `\d+`}
	var rs []*Regexp
	for _, e := range exprs {
		re, err := Compile(e, "i", Options{})
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, re)
	}
	pf := NewPrefilter(rs)
	frags := []string{"viagra", "cheap pills", "cheap meds", "ushers", "hers", "she", "xxxyz", "the quick brown fox jumps over", " ", "filler text ", "\n", "CHEAP MEDS"}
	rng := rand.New(rand.NewPCG(5, 6))
	got, want := make([]bool, pf.Len()), make([]bool, pf.Len())
	for range 3000 {
		var b strings.Builder
		for b.Len() < 256+rng.IntN(1500) {
			if rng.IntN(4) == 0 {
				b.WriteString(frags[rng.IntN(len(frags))])
			} else {
				b.WriteByte("abcdefghijklmnopqrstuvwxyz ."[rng.IntN(28)])
			}
		}
		text := b.String()
		pf.Candidates(text, got)
		clear(want)
		pf.walkFrom(text, 0, func(r int32) { want[r] = true })
		for _, i := range pf.always {
			want[i] = true
		}
		if !slices.Equal(got, want) {
			t.Fatalf("Candidates(%q) = %v, one walk %v", text, got, want)
		}
	}
}
