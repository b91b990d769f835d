package re

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// gapShapes are refSolver patterns with a long counted repeat between
// the group and its backreference (see refGap): the second field holds
// the flags, the third why the solver may not take the pattern (when
// set).
var gapShapes = [][3]string{
	{`^From:\s+([^<]\S+\s\S+)\s(?=.{1,2048}^\1\r?$)`, "sm"},
	{`(a\S)\s.{1001,1100}^\1\r?$`, "sm"},
	{`(a\S)\s.{1001,1100}^\1\r?$`, "smi"},
	{`\b(\w{1,4})\n[^\n]{0,1200}x\1`, ""},
	{`(ab|a)[ x]{1001,}?\b\1\b`, "i"},
	{`^(\S{0,3})x.{1200}(?:ab|\n\r)\1$`, "s"},
	{`\s(\S{0,5})x.{1000,2000}?\1`, "s"},
	{`(a+)b+[^b]{1001,1500}\1`, ""},
	{`(a+)b+[^b]{1001,1500}\1`, "i"},
	{`(a)x{1001}y{1001}\1`, "", "two long repeats"},
	{`(a).{1001,1100}b+\1`, "s", "what follows the long repeat has no fixed width"},
}

// gapSubjects are random subjects with a long run of filler between
// a string and a copy of it (sometimes with its case changed or a byte
// altered), so that the copies fall on both sides of the bounds of the
// gapShapes' counted repeats.
func gapSubjects() []string {
	rng := rand.New(rand.NewPCG(16, 2048))
	pick := func(from ...string) string { return from[rng.IntN(len(from))] }
	var subjects []string
	for range 800 {
		var b strings.Builder
		b.WriteString(pick("", "From: ", "From:  ", "From:\n ", "x ", "\n", "<"))
		g := pick("a", "ab", "aB", "abx", "x", "John Smith", "j\xe9 Smith", "\xc9", "a b")
		b.WriteString(g)
		b.WriteString(pick("", " ", "\n", " <j@x>\n", "b", "bb ", "x\n"))
		f := pick("x", "x\n", " ", "y", "-", "\n")
		n := []int{1000, 1100, 1200, 2000, 2048}[rng.IntN(5)] + rng.IntN(9) - 6
		if rng.IntN(4) == 0 {
			n = rng.IntN(2200)
		}
		b.WriteString(strings.Repeat(f, n/len(f)))
		b.WriteString(pick("", "\n", "x", "\nab", "\n\r", " "))
		switch rng.IntN(4) {
		case 0:
			g = strings.ToUpper(g)
		case 1:
			g = g[:len(g)-1] + "z"
		}
		b.WriteString(g)
		b.WriteString(pick("", "\n", "\r\n", "\r", " ", "b", "\r\nx"))
		subjects = append(subjects, b.String())
	}
	return subjects
}

// TestRefGapShapes compares the refSolver on patterns with a gap with
// the backtracking engine, and with Perl where it is installed, on
// witnesses of each pattern and the gapSubjects.
func TestRefGapShapes(t *testing.T) {
	random := gapSubjects()
	var perl *perlPeer
	if !testing.Short() {
		perl = startPerl(t)
	}
	rng := rand.New(rand.NewPCG(16, 16))
	for _, sh := range gapShapes {
		fast, err := Compile(sh[0], sh[1], Options{MatchTimeout: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		sv, _ := fast.solver.(*refSolver)
		if took := sv != nil && sv.gap != nil; took != (sh[2] == "") {
			t.Errorf("/%s/%s: gap solver %v, want one: %v (%s)", sh[0], sh[1], took, sh[2] == "", sh[2])
		}
		if sv == nil {
			continue
		}
		slow, err := Compile(sh[0], sh[1], Options{noSolver: true, MatchTimeout: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		tree, _, _ := parsePerl(sh[0], sh[1])
		subjects := append(refWitnesses(tree, 200, rng), random...)
		var want string
		if perl != nil {
			perl.setTexts(t, subjects)
			want = perl.matchProbes(t, sh[0], sh[1])
			if len(want) != len(subjects) {
				t.Fatalf("/%s/%s: Perl says %q", sh[0], sh[1], want)
			}
		}
		matched, undecided := 0, 0
		for i, s := range subjects {
			got, ok := sv.match(s)
			if !ok {
				// The steps ran out: the backtracking engine decides.
				undecided++
				continue
			}
			if bt := slow.MatchString(s); got != bt {
				t.Errorf("/%s/%s on %q: solver %v, backtracking %v", sh[0], sh[1], s, got, bt)
			}
			if perl != nil && (want[i] == '1') != got {
				t.Errorf("/%s/%s on %q: solver %v, Perl %c", sh[0], sh[1], s, got, want[i])
			}
			if got {
				matched++
			}
		}
		t.Logf("/%s/%s: %d of %d subjects match, %d undecided", sh[0], sh[1], matched, len(subjects), undecided)
		if undecided > len(subjects)/10 {
			t.Errorf("/%s/%s: %d of %d subjects undecided", sh[0], sh[1], undecided, len(subjects))
		}
	}
}
